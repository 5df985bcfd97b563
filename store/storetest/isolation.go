package storetest

import (
	"fmt"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// fixture is one organization holding something of every kind.
type fixture struct {
	org                orgmodel.OrgSID
	domain             string
	owner, admin, std  orgmodel.UserSID
	stdEmail           string
	acct, stdAcct, sub orgmodel.AccountSID
	key                orgmodel.APIKeySID
	scimID, scimToken  string
	oauth              orgmodel.OAuthClientSID
	inv                orgmodel.InvitationSID
}

// ghost is a fixture of objects that do not exist.
func ghost() *fixture {
	return &fixture{
		org: orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), domain: "ghost.example",
		owner: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), admin: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)),
		std: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), stdEmail: "std@ghost.example",
		acct: orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount)), stdAcct: orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount)),
		sub: orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount)), key: orgmodel.APIKeySID(orgmodel.NewSID(orgmodel.PrefixAPIKey)),
		scimID: "0123456789abcdef", scimToken: "scim_" + orgmodel.NewSID("00"),
		oauth: orgmodel.OAuthClientSID(orgmodel.NewSID(orgmodel.PrefixOAuthClient)),
		inv:   orgmodel.InvitationSID(orgmodel.NewSID(orgmodel.PrefixInvitation)),
	}
}

// newFixture signs up the Owner of a new organization on domain. populate
// fills it once every organization of the case exists (a verified,
// Restricted domain refuses further sign-ups).
func (e *env) newFixture(domain string) *fixture {
	r := e.signup("owner@" + domain)
	return &fixture{org: r.OrgSID, domain: domain, owner: r.UserSID, acct: r.AccountSID}
}

func (e *env) populate(f *fixture) {
	t, ctx, op := e.t, e.ctx, e.op
	e.verified(f.org, f.domain)
	f.admin = e.member(f.org, "admin@"+f.domain, orgmodel.RoleAdministrator)
	f.stdEmail = "std@" + f.domain
	f.std = e.member(f.org, f.stdEmail, orgmodel.RoleStandard)
	_, err := e.svc.GrantAccess(ctx, op, f.acct, f.std, "developer")
	require.NoError(t, err)
	sub, err := e.svc.CreateSubaccount(ctx, op, f.acct, "Sub")
	require.NoError(t, err)
	f.sub = sub.SID
	own, err := e.svc.CreateAccount(ctx, as(f.std), f.org, "Standard's own", "")
	require.NoError(t, err)
	f.stdAcct = own.SID
	key, err := e.svc.CreateAPIKey(ctx, op, f.acct, "ci")
	require.NoError(t, err)
	f.key = key.SID
	st, err := e.svc.CreateSCIMToken(ctx, op, f.org, "okta")
	require.NoError(t, err)
	f.scimID, f.scimToken = st.ID, st.Token
	oc, err := e.svc.CreateOAuthClient(ctx, op, f.org, "api")
	require.NoError(t, err)
	f.oauth = oc.ClientID
	inv, err := e.svc.InviteUser(ctx, op, orgmodel.InviteInput{OrgSID: f.org, Email: "pending@" + f.domain})
	require.NoError(t, err)
	f.inv = inv.SID
	_, err = e.svc.SetIdP(ctx, op, f.org, orgmodel.IdPConfig{EntityID: "https://idp." + f.domain, SSOURL: "https://idp." + f.domain + "/sso"})
	require.NoError(t, err)
	_, _, err = e.svc.StartSession(ctx, op, f.std, "password")
	require.NoError(t, err)
}

// crossOp is one request by an actor of own aimed at x's objects.
type crossOp struct {
	name string
	run  func(a orgmodel.Actor, own, x *fixture) error
}

func (e *env) crossOps() []crossOp {
	ctx, s := e.ctx, e.svc
	blocked := orgmodel.SignupBlocked
	profile := func(x *fixture) orgmodel.Profile {
		return orgmodel.Profile{Email: x.stdEmail, GivenName: "Mallory", Active: true}
	}
	idp := orgmodel.IdPConfig{EntityID: "https://evil.example", SSOURL: "https://evil.example/sso"}
	return []crossOp{
		// Addressed to x's organization.
		{"ShowOrg", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.ShowOrg(ctx, a, x.org); return err }},
		{"RenameOrg", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.RenameOrg(ctx, a, x.org, "Pwned"); return err }},
		{"RecordBAA", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.RecordBAA(ctx, a, x.org); return err }},
		{"ListUsers", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ListUsers(ctx, a, x.org, orgmodel.UserFilter{})
			return err
		}},
		{"GetUser", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.GetUser(ctx, a, x.org, x.std); return err }},
		{"FindUserByEmail", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.FindUserByEmail(ctx, a, x.org, x.stdEmail)
			return err
		}},
		{"SetRole", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.SetRole(ctx, a, x.org, x.std, "administrator")
			return err
		}},
		{"TransferOwnership", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.TransferOwnership(ctx, a, x.org, string(x.admin))
			return err
		}},
		{"RemoveUser", func(a orgmodel.Actor, _, x *fixture) error { return s.RemoveUser(ctx, a, x.org, x.std) }},
		{"SetUserActive", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.SetUserActive(ctx, a, x.org, x.std, false)
			return err
		}},
		{"ResetPassword", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ResetPassword(ctx, a, x.org, x.std)
			return err
		}},
		{"Reset2FA", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.Reset2FA(ctx, a, x.org, x.std); return err }},
		{"ProvisionUser", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ProvisionUser(ctx, a, x.org, orgmodel.Profile{Email: "new@" + x.domain, Active: true})
			return err
		}},
		{"UpdateUserProfile", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.UpdateUserProfile(ctx, a, x.org, x.std, profile(x), 0)
			return err
		}},
		{"UpdateUserProfileWith", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.UpdateUserProfileWith(ctx, a, x.org, x.std, 0, func(*orgmodel.User) (orgmodel.Profile, error) { return profile(x), nil })
			return err
		}},
		{"DeprovisionUser", func(a orgmodel.Actor, _, x *fixture) error { return s.DeprovisionUser(ctx, a, x.org, x.std) }},
		{"InviteUser", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.InviteUser(ctx, a, orgmodel.InviteInput{OrgSID: x.org, Email: "new@" + x.domain})
			return err
		}},
		{"ImportUsers", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ImportUsers(ctx, a, x.org, []orgmodel.ImportRow{{Line: 2, Email: "new@" + x.domain}})
			return err
		}},
		{"ListInvitations", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.ListInvitations(ctx, a, x.org); return err }},
		{"RevokeInvitation", func(a orgmodel.Actor, _, x *fixture) error { return s.RevokeInvitation(ctx, a, x.org, x.inv) }},
		{"AddDomain", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.AddDomain(ctx, a, x.org, "more."+x.domain)
			return err
		}},
		{"ListDomains", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.ListDomains(ctx, a, x.org); return err }},
		{"VerifyDomain", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.VerifyDomain(ctx, a, x.org, x.domain)
			return err
		}},
		{"ConfigureDomain", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ConfigureDomain(ctx, a, x.org, x.domain, orgmodel.DomainSettings{Signup: &blocked})
			return err
		}},
		{"RemoveDomain", func(a orgmodel.Actor, _, x *fixture) error { return s.RemoveDomain(ctx, a, x.org, x.domain) }},
		{"CreateAccount", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.CreateAccount(ctx, a, x.org, "Mine now", "")
			return err
		}},
		{"ListAccounts", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.ListAccounts(ctx, a, x.org); return err }},
		{"ListGrants", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ListGrants(ctx, a, x.org, orgmodel.GrantFilter{})
			return err
		}},
		{"CreateSCIMToken", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.CreateSCIMToken(ctx, a, x.org, "")
			return err
		}},
		{"ListSCIMTokens", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.ListSCIMTokens(ctx, a, x.org); return err }},
		{"RevokeSCIMToken", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.RevokeSCIMToken(ctx, a, x.org, x.scimID)
			return err
		}},
		{"CreateOAuthClient", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.CreateOAuthClient(ctx, a, x.org, "")
			return err
		}},
		{"RevokeOAuthClient", func(a orgmodel.Actor, _, x *fixture) error { return s.RevokeOAuthClient(ctx, a, x.org, x.oauth) }},
		{"SetIdP", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.SetIdP(ctx, a, x.org, idp); return err }},
		{"GetIdP", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.GetIdP(ctx, a, x.org); return err }},
		{"MarkIdPTested", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.MarkIdPTested(ctx, a, x.org); return err }},
		{"ListAudit", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ListAudit(ctx, a, orgmodel.AuditFilter{OrgSID: x.org})
			return err
		}},
		{"MergeOrgs(x absorbs own)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.MergeOrgs(ctx, a, x.org, own.org)
			return err
		}},
		{"PreflightMerge(x absorbs own)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.PreflightMerge(ctx, a, x.org, own.org)
			return err
		}},

		// Addressed to x's accounts.
		{"GetAccount", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.GetAccount(ctx, a, x.acct); return err }},
		{"GetAccount(subaccount)", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.GetAccount(ctx, a, x.sub); return err }},
		{"RenameAccount", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.RenameAccount(ctx, a, x.acct, "Pwned")
			return err
		}},
		{"SetAccountStatus", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.SetAccountStatus(ctx, a, x.acct, orgmodel.AccountSuspended)
			return err
		}},
		{"SetAccountStatus(subaccount)", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.SetAccountStatus(ctx, a, x.sub, orgmodel.AccountClosed)
			return err
		}},
		{"SetHIPAA", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.SetHIPAA(ctx, a, x.acct, false); return err }},
		{"RotateAuthToken", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.RotateAuthToken(ctx, a, x.acct); return err }},
		{"TransferAccount", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.TransferAccount(ctx, a, x.stdAcct, x.stdEmail)
			return err
		}},
		{"CreateSubaccount", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.CreateSubaccount(ctx, a, x.stdAcct, "Mine")
			return err
		}},
		{"ListSubaccounts", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ListSubaccounts(ctx, a, x.acct, orgmodel.AccountFilter{})
			return err
		}},
		{"CreateAPIKey", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.CreateAPIKey(ctx, a, x.acct, "mine")
			return err
		}},
		{"ListAPIKeys", func(a orgmodel.Actor, _, x *fixture) error { _, err := s.ListAPIKeys(ctx, a, x.acct); return err }},
		{"DeleteAPIKey", func(a orgmodel.Actor, _, x *fixture) error { return s.DeleteAPIKey(ctx, a, x.acct, x.key) }},
		{"LinkAccount(x's account to own)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.LinkAccount(ctx, a, x.acct, own.org)
			return err
		}},
		{"UnlinkAccount", func(a orgmodel.Actor, _, x *fixture) error { return s.UnlinkAccount(ctx, a, x.acct, x.org) }},
		{"ConfirmImport", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.ConfirmImport(ctx, a, x.stdAcct, "", true)
			return err
		}},
		{"GrantAccess(x's user)", func(a orgmodel.Actor, _, x *fixture) error {
			_, err := s.GrantAccess(ctx, a, x.acct, x.std, "administrator")
			return err
		}},
		{"RevokeAccess", func(a orgmodel.Actor, _, x *fixture) error { return s.RevokeAccess(ctx, a, x.acct, x.std) }},
		{"SetTOTP", func(a orgmodel.Actor, _, x *fixture) error { return s.SetTOTP(ctx, a, x.std, "JBSWY3DPEHPK3PXP") }},

		// Addressed through own organization, naming x's objects.
		{"GetUser(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error { _, err := s.GetUser(ctx, a, own.org, x.std); return err }},
		{"FindUserByEmail(own org, x's email)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.FindUserByEmail(ctx, a, own.org, x.stdEmail)
			return err
		}},
		{"SetRole(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.SetRole(ctx, a, own.org, x.std, "administrator")
			return err
		}},
		{"TransferOwnership(own org, to x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.TransferOwnership(ctx, a, own.org, string(x.admin))
			return err
		}},
		{"TransferOwnership(own org, to x's email)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.TransferOwnership(ctx, a, own.org, x.stdEmail)
			return err
		}},
		{"RemoveUser(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error { return s.RemoveUser(ctx, a, own.org, x.std) }},
		{"SetUserActive(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.SetUserActive(ctx, a, own.org, x.std, false)
			return err
		}},
		{"ResetPassword(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.ResetPassword(ctx, a, own.org, x.std)
			return err
		}},
		{"Reset2FA(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.Reset2FA(ctx, a, own.org, x.std)
			return err
		}},
		{"UpdateUserProfile(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.UpdateUserProfile(ctx, a, own.org, x.std, profile(x), 0)
			return err
		}},
		{"UpdateUserProfileWith(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.UpdateUserProfileWith(ctx, a, own.org, x.std, 0, func(cur *orgmodel.User) (orgmodel.Profile, error) {
				return orgmodel.Profile{}, fmt.Errorf("build saw %s of another organization", cur.SID)
			})
			return err
		}},
		{"DeprovisionUser(own org, x's user)", func(a orgmodel.Actor, own, x *fixture) error { return s.DeprovisionUser(ctx, a, own.org, x.std) }},
		{"RevokeInvitation(own org, x's invitation)", func(a orgmodel.Actor, own, x *fixture) error {
			return s.RevokeInvitation(ctx, a, own.org, x.inv)
		}},
		{"RevokeSCIMToken(own org, x's token)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.RevokeSCIMToken(ctx, a, own.org, x.scimToken)
			return err
		}},
		{"RevokeOAuthClient(own org, x's client)", func(a orgmodel.Actor, own, x *fixture) error {
			return s.RevokeOAuthClient(ctx, a, own.org, x.oauth)
		}},
		{"TransferAccount(own account, to x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.TransferAccount(ctx, a, own.acct, string(x.std))
			return err
		}},
		{"DeleteAPIKey(own account, x's key)", func(a orgmodel.Actor, own, x *fixture) error { return s.DeleteAPIKey(ctx, a, own.acct, x.key) }},
		{"GrantAccess(x's account, own user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.GrantAccess(ctx, a, x.acct, own.std, "developer")
			return err
		}},
		{"GrantAccess(own account, x's user)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.GrantAccess(ctx, a, own.acct, x.std, "developer")
			return err
		}},
		{"InviteUser(own org, x's account grant)", func(a orgmodel.Actor, own, x *fixture) error {
			_, err := s.InviteUser(ctx, a, orgmodel.InviteInput{OrgSID: own.org, Email: "new@" + own.domain,
				Accounts: []orgmodel.InviteGrant{{AccountSID: x.acct}}})
			return err
		}},
	}
}

// isolation checks that every actor of one organization — its Owner, an
// Administrator, a Standard user, its SCIM agent and an account credential
// — finds nothing of another organization: every request naming the other
// organization's objects is answered NotFound, exactly as for objects that
// do not exist, nothing of it changes, and lists show only their own rows.
func isolation(e *env) {
	t, ctx := e.t, e.ctx
	a, b := e.newFixture("alpha.example"), e.newFixture("beta.example")
	e.populate(a)
	e.populate(b)
	nobody := ghost()
	before := e.snapshot(b.org)

	actors := []struct {
		name string
		a    orgmodel.Actor
	}{
		{"owner", as(a.owner)},
		{"administrator", as(a.admin)},
		{"standard", as(a.std)},
		{"scim agent", orgmodel.Actor{OrgSID: a.org, Label: "scim:" + a.scimID, Via: "scim"}},
		{"account credential", orgmodel.Actor{AccountSID: a.acct, Via: "api"}},
	}
	ops := e.crossOps()
	strict := 0
	for _, ac := range actors {
		for _, op := range ops {
			what := ac.name + " → " + op.name
			// The same request for objects that do not exist: B's objects
			// must get exactly that answer, so that nothing tells them apart.
			errGhost := op.run(ac.a, a, nobody)
			require.Error(t, errGhost, "%s (nonexistent target)", what)
			require.NotEqual(t, orgmodel.KindInternal, orgmodel.KindOf(errGhost), "%s (nonexistent target): %v", what, errGhost)
			errB := op.run(ac.a, a, b)
			require.Error(t, errB, "%s succeeded on another organization", what)
			if orgmodel.KindOf(errGhost) == orgmodel.KindNotFound {
				strict++
				require.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(errB), "%s: want not found, got %v", what, errB)
				continue
			}
			// Refused before any look-up (a Standard user in its own
			// organization, the API creating accounts): same refusal.
			require.Equal(t, orgmodel.KindOf(errGhost), orgmodel.KindOf(errB), "%s: %v vs %v", what, errB, errGhost)
			require.Equal(t, orgmodel.RuleOf(errGhost), orgmodel.RuleOf(errB), "%s: %v vs %v", what, errB, errGhost)
		}
	}
	require.Greater(t, strict, len(actors)*len(ops)*9/10, "nearly every request reaches a look-up and gets NotFound")
	require.Equal(t, before, e.snapshot(b.org), "nothing of the other organization changed")

	// Lists show own rows only; and each actor does reach its own.
	for _, ac := range actors {
		seen := 0
		check := func(what string, err error, orgs ...orgmodel.OrgSID) {
			if err != nil {
				require.NotEqual(t, orgmodel.KindInternal, orgmodel.KindOf(err), "%s %s: %v", ac.name, what, err)
				return
			}
			seen++
			for _, o := range orgs {
				require.Equal(t, a.org, o, "%s %s lists another organization's row", ac.name, what)
			}
		}
		us, err := e.svc.ListUsers(ctx, ac.a, a.org, orgmodel.UserFilter{})
		check("ListUsers", err, orgsOf(us, func(u *orgmodel.User) orgmodel.OrgSID { return u.OrgSID })...)
		vs, err := e.svc.ListAccounts(ctx, ac.a, a.org)
		check("ListAccounts", err, orgsOf(vs, func(v *orgmodel.AccountView) orgmodel.OrgSID { return v.OrgSID })...)
		ds, err := e.svc.ListDomains(ctx, ac.a, a.org)
		check("ListDomains", err, orgsOf(ds, func(d *orgmodel.DomainView) orgmodel.OrgSID { return d.OrgSID })...)
		gs, err := e.svc.ListGrants(ctx, ac.a, a.org, orgmodel.GrantFilter{})
		check("ListGrants", err, orgsOf(gs, func(g *orgmodel.Grant) orgmodel.OrgSID { return g.OrgSID })...)
		evs, err := e.svc.ListAudit(ctx, ac.a, orgmodel.AuditFilter{OrgSID: a.org})
		check("ListAudit", err, orgsOf(evs, func(ev *orgmodel.AuditEvent) orgmodel.OrgSID { return ev.OrgSID })...)
		ts, err := e.svc.ListSCIMTokens(ctx, ac.a, a.org)
		check("ListSCIMTokens", err, orgsOf(ts, func(x *orgmodel.SCIMToken) orgmodel.OrgSID { return x.OrgSID })...)
		is, err := e.svc.ListInvitations(ctx, ac.a, a.org)
		check("ListInvitations", err, orgsOf(is, func(x *orgmodel.Invitation) orgmodel.OrgSID { return x.OrgSID })...)
		subs, err := e.svc.ListSubaccounts(ctx, ac.a, a.acct, orgmodel.AccountFilter{})
		check("ListSubaccounts", err, orgsOf(subs, func(x *orgmodel.Account) orgmodel.OrgSID { return x.OrgSID })...)
		for _, x := range subs {
			require.Equal(t, a.acct, x.ParentSID)
		}
		ks, err := e.svc.ListAPIKeys(ctx, ac.a, a.acct)
		check("ListAPIKeys", err)
		for _, k := range ks {
			require.Equal(t, a.acct, k.AccountSID, "%s ListAPIKeys", ac.name)
		}
		require.Positive(t, seen, "%s reaches its own organization", ac.name)
	}
	info, err := e.svc.ShowOrg(ctx, as(a.owner), a.org)
	require.NoError(t, err)
	require.Equal(t, 3, info.Users, "ShowOrg counts own users only")
	require.Equal(t, 2, info.Accounts, "ShowOrg counts own accounts only")
}

func orgsOf[T any](xs []T, org func(T) orgmodel.OrgSID) []orgmodel.OrgSID {
	out := make([]orgmodel.OrgSID, len(xs))
	for i, x := range xs {
		out[i] = org(x)
	}
	return out
}

// mergeCandidateHidden: an Administrator of one organization may merge
// into it only a candidate whose Owner has an email on its verified
// domains (R-MERGE-3). Any other organization must stay invisible to it:
// asking to preflight or merge it is answered as for an organization that
// does not exist, and reveals nothing of it (its Owner's email, its
// domains).
func mergeCandidateHidden(e *env) {
	t, ctx := e.t, e.ctx
	a, b := e.newFixture("alpha.example"), e.newFixture("beta.example")
	e.populate(a)
	e.populate(b)
	nobody := ghost()
	for _, who := range []orgmodel.Actor{as(a.owner), as(a.admin), {OrgSID: a.org, Label: "scim:x", Via: "scim"}} {
		_, errGhost := e.svc.PreflightMerge(ctx, who, a.org, nobody.org)
		require.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(errGhost))
		pre, err := e.svc.PreflightMerge(ctx, who, a.org, b.org)
		require.Error(t, err, "PreflightMerge of another organization: %+v", pre)
		require.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)
		_, err = e.svc.MergeOrgs(ctx, who, a.org, b.org)
		require.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)
		require.NotContains(t, err.Error(), "beta.example")
	}
}
