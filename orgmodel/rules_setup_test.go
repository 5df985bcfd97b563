package orgmodel_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// setupLink creates a setup link for r's organization as its Owner and
// returns the actor its token authenticates as.
func (e *env) setupLink(r *orgmodel.SignUpResult) (orgmodel.Actor, *orgmodel.SetupLinkResult) {
	e.t.Helper()
	l, err := e.svc.CreateSetupLink(e.ctx, as(r.UserSID), r.OrgSID, "IT rollout", 0)
	require.NoError(e.t, err)
	a, _, err := e.svc.AuthenticateSetupLink(e.ctx, l.Token, "console", "192.0.2.7")
	require.NoError(e.t, err)
	return a, l
}

// TestRule_ROLE_3_SetupLinkOpensOnlyIdentitySetup: a setup link's actor
// configures the identity provider and SCIM tokens of its organization and
// is refused everything else an organization's agent may do.
func TestRule_ROLE_3_SetupLinkOpensOnlyIdentitySetup(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	std := e.standard(r, "std@acme.test")
	other := e.signup("boss@other.test")
	link, l := e.setupLink(r)
	require.Equal(t, orgmodel.ScopeIdentitySetup, link.Scope)
	require.Equal(t, r.OrgSID, link.OrgSID)
	require.Empty(t, link.UserSID)

	// What it may do, in its organization.
	idp, err := e.svc.SetIdP(e.ctx, link, r.OrgSID, orgmodel.IdPConfig{EntityID: "https://idp.acme.test", SSOURL: "https://idp.acme.test/sso"})
	require.NoError(t, err)
	assert.Equal(t, "https://idp.acme.test", idp.EntityID)
	_, err = e.svc.GetIdP(e.ctx, link, r.OrgSID)
	require.NoError(t, err)
	tok, err := e.svc.CreateSCIMToken(e.ctx, link, r.OrgSID, "okta")
	require.NoError(t, err)
	toks, err := e.svc.ListSCIMTokens(e.ctx, link, r.OrgSID)
	require.NoError(t, err)
	require.Len(t, toks, 1)
	_, err = e.svc.RevokeSCIMToken(e.ctx, link, r.OrgSID, tok.ID)
	require.NoError(t, err)
	// Its changes are audited under the link.
	evs, err := e.svc.ListAudit(e.ctx, as(r.UserSID), orgmodel.AuditFilter{OrgSID: r.OrgSID, Action: "sso.idp_set"})
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	assert.Equal(t, "setup:"+l.ID, evs[0].Actor)
	assert.Equal(t, "192.0.2.7", evs[0].RemoteAddr)

	acct := r.AccountSID
	yes, sso := true, orgmodel.SignupAutoEnrollment
	refused := map[string]func() error{
		"invite a user": func() error {
			_, err := e.svc.InviteUser(e.ctx, link, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "new@acme.test"})
			return err
		},
		"import users": func() error {
			_, err := e.svc.ImportUsers(e.ctx, link, r.OrgSID, []orgmodel.ImportRow{{Line: 2, Email: "x@acme.test"}})
			return err
		},
		"list users":        func() error { _, err := e.svc.ListUsers(e.ctx, link, r.OrgSID, orgmodel.UserFilter{}); return err },
		"see a user":        func() error { _, err := e.svc.GetUser(e.ctx, link, r.OrgSID, std); return err },
		"change a role":     func() error { _, err := e.svc.SetRole(e.ctx, link, r.OrgSID, std, "administrator"); return err },
		"remove a user":     func() error { return e.svc.RemoveUser(e.ctx, link, r.OrgSID, std) },
		"reset a password":  func() error { _, err := e.svc.ResetPassword(e.ctx, link, r.OrgSID, std); return err },
		"reset a 2FA":       func() error { _, err := e.svc.Reset2FA(e.ctx, link, r.OrgSID, std); return err },
		"deactivate a user": func() error { _, err := e.svc.SetUserActive(e.ctx, link, r.OrgSID, std, false); return err },
		"provision a user (SCIM)": func() error {
			_, err := e.svc.ProvisionUser(e.ctx, link, r.OrgSID, orgmodel.Profile{Email: "scim@acme.test"})
			return err
		},
		"transfer the Owner role": func() error { _, err := e.svc.TransferOwnership(e.ctx, link, r.OrgSID, string(std)); return err },
		"read the audit log": func() error {
			_, err := e.svc.ListAudit(e.ctx, link, orgmodel.AuditFilter{OrgSID: r.OrgSID})
			return err
		},
		"list invitations": func() error { _, err := e.svc.ListInvitations(e.ctx, link, r.OrgSID); return err },
		"add a domain":     func() error { _, err := e.svc.AddDomain(e.ctx, link, r.OrgSID, "new.test"); return err },
		"list domains":     func() error { _, err := e.svc.ListDomains(e.ctx, link, r.OrgSID); return err },
		"verify a domain":  func() error { _, err := e.svc.VerifyDomain(e.ctx, link, r.OrgSID, "acme.test"); return err },
		"set a domain's sign-up": func() error {
			_, err := e.svc.ConfigureDomain(e.ctx, link, r.OrgSID, "acme.test", orgmodel.DomainSettings{Signup: &sso})
			return err
		},
		"enforce SSO on a domain": func() error {
			_, err := e.svc.ConfigureDomain(e.ctx, link, r.OrgSID, "acme.test", orgmodel.DomainSettings{SSOEnforced: &yes})
			return err
		},
		"remove a domain":   func() error { return e.svc.RemoveDomain(e.ctx, link, r.OrgSID, "acme.test") },
		"create an account": func() error { _, err := e.svc.CreateAccount(e.ctx, link, r.OrgSID, "X", ""); return err },
		"list accounts":     func() error { _, err := e.svc.ListAccounts(e.ctx, link, r.OrgSID); return err },
		"see an account":    func() error { _, err := e.svc.GetAccount(e.ctx, link, acct); return err },
		"suspend an account": func() error {
			_, err := e.svc.SetAccountStatus(e.ctx, link, acct, orgmodel.AccountSuspended)
			return err
		},
		"set the HIPAA flag": func() error { _, err := e.svc.SetHIPAA(e.ctx, link, acct, true); return err },
		"create a subaccount": func() error {
			_, err := e.svc.CreateSubaccount(e.ctx, link, acct, "Sub")
			return err
		},
		"create an API key":    func() error { _, err := e.svc.CreateAPIKey(e.ctx, link, acct, "k"); return err },
		"grant account access": func() error { _, err := e.svc.GrantAccess(e.ctx, link, acct, std, ""); return err },
		"import an account":    func() error { _, err := e.svc.ImportAccount(e.ctx, link, r.OrgSID, other.AccountSID); return err },
		"see the organization": func() error { _, err := e.svc.ShowOrg(e.ctx, link, r.OrgSID); return err },
		"rename the organization": func() error {
			_, err := e.svc.RenameOrg(e.ctx, link, r.OrgSID, "Pwned")
			return err
		},
		"record the BAA":    func() error { _, err := e.svc.RecordBAA(e.ctx, link, r.OrgSID); return err },
		"require 2FA":       func() error { _, err := e.svc.SetRequireMFA(e.ctx, link, r.OrgSID, false); return err },
		"preflight a merge": func() error { _, err := e.svc.PreflightMerge(e.ctx, link, r.OrgSID, other.OrgSID); return err },
		"merge":             func() error { _, err := e.svc.MergeOrgs(e.ctx, link, r.OrgSID, other.OrgSID); return err },
		"create an OAuth client": func() error {
			_, err := e.svc.CreateOAuthClient(e.ctx, link, r.OrgSID, "api")
			return err
		},
		"create a setup link": func() error {
			_, err := e.svc.CreateSetupLink(e.ctx, link, r.OrgSID, "again", time.Hour)
			return err
		},
		"list setup links":    func() error { _, err := e.svc.ListSetupLinks(e.ctx, link, r.OrgSID); return err },
		"revoke a setup link": func() error { _, err := e.svc.RevokeSetupLink(e.ctx, link, r.OrgSID, l.ID); return err },
		"pass the admin gate": func() error { return e.svc.CheckAdmin(e.ctx, link, r.OrgSID, "use the console") },
		"list managed accounts (API)": func() error {
			_, err := e.svc.ListManagedAccounts(e.ctx, link, r.OrgSID, "", 10)
			return err
		},
		"assign a role (API)": func() error {
			_, err := e.svc.AssignRole(e.ctx, link, r.OrgSID, orgmodel.RoleSIDAdministrator, string(r.OrgSID), std)
			return err
		},
		"list role assignments (API)": func() error {
			_, err := e.svc.ListRoleAssignments(e.ctx, link, r.OrgSID, orgmodel.RoleAssignmentFilter{})
			return err
		},
	}
	before := e.fingerprint()
	for what, op := range refused {
		t.Run(what, func(t *testing.T) {
			err := op()
			require.Error(t, err, "a setup link could %s", what)
			assert.Equal(t, "R-ROLE-3", orgmodel.RuleOf(err), "%s: %v", what, err)
		})
	}
	assert.Equal(t, before, e.fingerprint(), "a refused setup-link command changed something")

	// Another organization is not there at all for it.
	_, err = e.svc.SetIdP(e.ctx, link, other.OrgSID, orgmodel.IdPConfig{EntityID: "https://x.test", SSOURL: "https://x.test/sso"})
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)
	_, err = e.svc.ListSCIMTokens(e.ctx, link, other.OrgSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)
	_, err = e.svc.GetAccount(e.ctx, link, other.AccountSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)
}

// TestRule_ROLE_3_ScopeNarrowsEveryKindOfActor: a scope is never a
// widening. Set on a person, the operator or an account credential (which
// never carry one), it admits nothing, not even identity setup.
func TestRule_ROLE_3_ScopeNarrowsEveryKindOfActor(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	for name, a := range map[string]orgmodel.Actor{
		"owner":    {UserSID: r.UserSID, Scope: orgmodel.ScopeIdentitySetup},
		"operator": {Operator: true, Scope: orgmodel.ScopeIdentitySetup},
		"account":  {AccountSID: r.AccountSID, Scope: orgmodel.ScopeIdentitySetup},
		"unknown":  {OrgSID: r.OrgSID, Scope: "everything"},
	} {
		_, err := e.svc.SetIdP(e.ctx, a, r.OrgSID, orgmodel.IdPConfig{EntityID: "https://idp.test", SSOURL: "https://idp.test/sso"})
		assert.Equal(t, "R-ROLE-3", orgmodel.RuleOf(err), "%s: %v", name, err)
		_, err = e.svc.CreateSCIMToken(e.ctx, a, r.OrgSID, "")
		assert.Equal(t, "R-ROLE-3", orgmodel.RuleOf(err), "%s: %v", name, err)
		_, err = e.svc.InviteUser(e.ctx, a, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "x@acme.test"})
		assert.Equal(t, "R-ROLE-3", orgmodel.RuleOf(err), "%s: %v", name, err)
		_, err = e.svc.SetAccountStatus(e.ctx, a, r.AccountSID, orgmodel.AccountSuspended)
		assert.Contains(t, []string{"R-ROLE-3", ""}, orgmodel.RuleOf(err), "%s: %v", name, err)
		assert.Error(t, err, name)
	}
}

// TestRule_ROLE_3_SetupLinksAreIssuedByAdministrators: only the Owner or
// an Administrator issues, lists and revokes setup links; an outsider does
// not see the organization at all.
func TestRule_ROLE_3_SetupLinksAreIssuedByAdministrators(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	other := e.signup("boss@other.test")

	l, err := e.svc.CreateSetupLink(e.ctx, as(admin), r.OrgSID, "okta", 24*time.Hour)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(l.Token, "setup_"))
	assert.Equal(t, "https://orgd.test/console/setup?token="+l.Token, l.URL)
	assert.Equal(t, e.clock.Now().Add(24*time.Hour).UTC().Truncate(time.Millisecond), l.ExpiresAt)
	assert.Equal(t, string(admin), l.CreatedBy)

	_, err = e.svc.CreateSetupLink(e.ctx, as(std), r.OrgSID, "x", 0)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.ListSetupLinks(e.ctx, as(std), r.OrgSID)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.RevokeSetupLink(e.ctx, as(std), r.OrgSID, l.ID)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.CreateSetupLink(e.ctx, as(other.UserSID), r.OrgSID, "x", 0)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.RevokeSetupLink(e.ctx, as(other.UserSID), r.OrgSID, l.ID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	// Another organization's admin cannot revoke it through their own organization either.
	_, err = e.svc.RevokeSetupLink(e.ctx, as(other.UserSID), other.OrgSID, l.ID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))

	// Bounds on the lifetime.
	for _, ttl := range []time.Duration{time.Minute, 8 * 24 * time.Hour, -time.Hour} {
		_, err = e.svc.CreateSetupLink(e.ctx, as(r.UserSID), r.OrgSID, "x", ttl)
		assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err), "ttl %s", ttl)
	}
	links, err := e.svc.ListSetupLinks(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)
	require.Len(t, links, 1)
	assert.Equal(t, l.ID, links[0].ID)

	// The token is stored only as its hash.
	var stored *orgmodel.SetupLink
	require.NoError(t, e.db.Read(e.ctx, func(tx orgmodel.Tx) error {
		var err error
		stored, err = tx.GetSetupLinkByHash(e.ctx, orgmodel.HashToken(l.Token))
		return err
	}))
	assert.NotContains(t, stored.TokenHash, strings.TrimPrefix(l.Token, "setup_"))
	assert.Equal(t, orgmodel.HashToken(l.Token), stored.TokenHash)
}

// TestSetupLinkExpiresAndRevokes: a link works until it expires or is
// revoked, at once, and a wrong token is refused like them.
func TestSetupLinkExpiresAndRevokes(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	l, err := e.svc.CreateSetupLink(e.ctx, as(r.UserSID), r.OrgSID, "", 2*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "setup", l.Name)
	_, got, err := e.svc.AuthenticateSetupLink(e.ctx, l.Token, "console", "")
	require.NoError(t, err)
	require.NotNil(t, got.LastUsedAt, "first use is recorded")

	for _, bad := range []string{"", "setup_", l.Token + "x", strings.ToUpper(l.Token), "scim_" + strings.TrimPrefix(l.Token, "setup_")} {
		_, _, err := e.svc.AuthenticateSetupLink(e.ctx, bad, "console", "")
		assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "%q", bad)
	}
	e.clock.Add(2*time.Hour - time.Second)
	_, _, err = e.svc.AuthenticateSetupLink(e.ctx, l.Token, "console", "")
	require.NoError(t, err)
	e.clock.Add(time.Second)
	_, _, err = e.svc.AuthenticateSetupLink(e.ctx, l.Token, "console", "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "an expired link still works")

	l2, err := e.svc.CreateSetupLink(e.ctx, as(r.UserSID), r.OrgSID, "second", time.Hour)
	require.NoError(t, err)
	link, _, err := e.svc.AuthenticateSetupLink(e.ctx, l2.Token, "console", "")
	require.NoError(t, err)
	rev, err := e.svc.RevokeSetupLink(e.ctx, as(r.UserSID), r.OrgSID, l2.ID)
	require.NoError(t, err)
	require.NotNil(t, rev.RevokedAt)
	_, _, err = e.svc.AuthenticateSetupLink(e.ctx, l2.Token, "console", "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "a revoked link still works")
	// An actor authenticated before the revocation carries no power of its
	// own: the adapter authenticates every request again.
	_ = link
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: r.OrgSID, Action: "setup_link."})
	require.NoError(t, err)
	assert.Len(t, evs, 3, "two creations and a revocation")

	// Live links are bounded.
	for i := range orgmodel.MaxLiveSetupLinks {
		_, err := e.svc.CreateSetupLink(e.ctx, as(r.UserSID), r.OrgSID, "bulk", time.Hour+time.Duration(i)*time.Minute)
		require.NoError(t, err)
	}
	_, err = e.svc.CreateSetupLink(e.ctx, as(r.UserSID), r.OrgSID, "one too many", time.Hour)
	assert.Equal(t, orgmodel.KindConflict, orgmodel.KindOf(err))
}

// TestSetupLinkGoesWithAMergedCandidate: a merge's candidate ceases to
// exist (R-MERGE-5), and its setup links with it.
func TestSetupLinkGoesWithAMergedCandidate(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	l, err := e.svc.CreateSetupLink(e.ctx, as(m.cand.UserSID), m.cand.OrgSID, "", 0)
	require.NoError(t, err)
	_, err = e.svc.MergeOrgs(e.ctx, as(m.prime.UserSID), m.prime.OrgSID, m.cand.OrgSID)
	require.NoError(t, err)
	_, _, err = e.svc.AuthenticateSetupLink(e.ctx, l.Token, "console", "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}

// TestCheckAdmin: the gate adapters put in front of whole admin pages
// answers as the commands behind them do (R-ROLE-3).
func TestCheckAdmin(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	other := e.signup("boss@other.test")
	require.NoError(t, e.svc.CheckAdmin(e.ctx, as(r.UserSID), r.OrgSID, "administer"))
	require.NoError(t, e.svc.CheckAdmin(e.ctx, as(admin), r.OrgSID, "administer"))
	requireRule(t, e.svc.CheckAdmin(e.ctx, as(std), r.OrgSID, "administer"), "R-ROLE-3")
	err := e.svc.CheckAdmin(e.ctx, as(other.UserSID), r.OrgSID, "administer")
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	err = e.svc.CheckAdmin(e.ctx, as(r.UserSID), "ORnope", "administer")
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}

// TestRule_ACCT_3_PendingImportShowsWhatIsAsked: the mailed link shows the
// owner which organization asks for which account, until it is answered
// or expires.
func TestRule_ACCT_3_PendingImportShowsWhatIsAsked(t *testing.T) {
	e := newEnv(t)
	im := e.importable()
	_, err := e.svc.ImportAccount(e.ctx, as(im.prime.UserSID), im.prime.OrgSID, im.acct)
	require.NoError(t, err)
	mails, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: "dev@acme.test", Limit: 1})
	require.NoError(t, err)
	token := regexp.MustCompile(`token=(imp_[0-9a-f]+)`).FindStringSubmatch(mails[0].Body)[1]

	req, err := e.svc.PendingImport(e.ctx, token)
	require.NoError(t, err)
	assert.Equal(t, im.acct, req.AccountSID)
	assert.Equal(t, "Dev's account", req.AccountName)
	assert.Equal(t, im.prime.OrgSID, req.OrgSID)
	assert.Equal(t, e.clock.Now().Add(orgmodel.ImportTTL).UTC().Truncate(time.Millisecond), req.ExpiresAt)
	for _, bad := range []string{"", "imp_0000", token + "0"} {
		_, err := e.svc.PendingImport(e.ctx, bad)
		assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err), "%q", bad)
	}
	// Expired: nothing changes, and the link says so.
	e.clock.Add(orgmodel.ImportTTL)
	_, err = e.svc.PendingImport(e.ctx, token)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	e.clock.Add(-orgmodel.ImportTTL)
	// Answered: the link no longer shows anything.
	_, err = e.svc.ConfirmImportByToken(e.ctx, orgmodel.Actor{Via: "console"}, token, true)
	require.NoError(t, err)
	_, err = e.svc.PendingImport(e.ctx, token)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}
