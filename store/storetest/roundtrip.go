package storetest

import (
	"strings"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// Fixtures written straight through Tx, for the store-level cases.

func newOrg(name string) (*orgmodel.Org, *orgmodel.User) {
	o := &orgmodel.Org{
		SID: orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), FriendlyName: name,
		AccountLimit: orgmodel.DefaultAccountLimit, CreatedAt: at(0), UpdatedAt: at(0),
	}
	u := newUser(o.SID, "owner@"+name+".example", orgmodel.RoleOwner)
	o.OwnerSID = u.SID
	return o, u
}

func newUser(org orgmodel.OrgSID, email string, role orgmodel.Role) *orgmodel.User {
	return &orgmodel.User{
		SID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), Email: email, OrgSID: org,
		Role: role, Status: orgmodel.UserActive, Version: 1, CreatedAt: at(0), UpdatedAt: at(0),
	}
}

// newAccount is a top-level account of owner, or a subaccount when parent is set.
func newAccount(org orgmodel.OrgSID, owner orgmodel.UserSID, parent orgmodel.AccountSID) *orgmodel.Account {
	return &orgmodel.Account{
		SID: orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount)), FriendlyName: "account",
		OrgSID: org, OwnerSID: owner, ParentSID: parent, Usage: orgmodel.UsageTwilio,
		Type: orgmodel.AccountTrial, Status: orgmodel.AccountActive,
		AuthTokenHash: orgmodel.HashToken(orgmodel.NewSID("tk")), CreatedAt: at(0), UpdatedAt: at(0),
	}
}

func newDomain(org orgmodel.OrgSID, name string) *orgmodel.Domain {
	return &orgmodel.Domain{
		SID: orgmodel.DomainSID(orgmodel.NewSID(orgmodel.PrefixDomain)), OrgSID: org, Name: name,
		Token: "0123456789abcdef0123456789abcdef", Status: orgmodel.DomainVerified,
		Signup: orgmodel.SignupRestricted, VerifiedAt: ptr(at(0)), CheckedAt: ptr(at(0)),
		CreatedAt: at(0), UpdatedAt: at(0),
	}
}

// createOrg writes o and its owner u.
func (e *env) createOrg(tx orgmodel.Tx, o *orgmodel.Org, u *orgmodel.User) error {
	if err := tx.CreateOrg(e.ctx, o); err != nil {
		return err
	}
	return tx.CreateUser(e.ctx, u)
}

func roundTripOrgsUsersAccounts(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("acme")
	o.BAAAt, o.BulkImportEnabled, o.AccountLimit = ptr(at(time.Hour)), true, 25
	owner.Email = "Jane.Doe@acme.example"
	owner.GivenName, owner.FamilyName, owner.DisplayName = "Jane", "Doe", "Jane Doe"
	owner.ExternalID, owner.Locale, owner.Timezone = "ext-1", "en-US", "America/New_York"
	owner.Extra = `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`
	owner.Version, owner.PasswordHash, owner.TOTPSecret, owner.MFAEnrolRequired = 7, "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "JBSWY3DPEHPK3PXP", true
	owner.CreatedAt, owner.UpdatedAt = at(time.Minute), at(2*time.Minute)
	std := newUser(o.SID, "std@acme.example", orgmodel.RoleStandard)
	std.Status = orgmodel.UserInactive

	acct := newAccount(o.SID, owner.SID, "")
	acct.FriendlyName, acct.Usage, acct.Type, acct.HIPAA, acct.SubaccountLimit = "Prod ✓", orgmodel.UsageFlex, orgmodel.AccountFull, true, 5
	sub := newAccount(o.SID, "", acct.SID) // a subaccount has no owner: the column is NULL
	sub.Status, sub.SuspendedWithParent = orgmodel.AccountSuspended, true

	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		require.NoError(t, tx.CreateUser(ctx, std))
		require.NoError(t, tx.CreateAccount(ctx, acct))
		require.NoError(t, tx.CreateAccount(ctx, sub))
		locked, err := tx.LockOrg(ctx, o.SID)
		require.NoError(t, err)
		same(t, o, locked, "LockOrg")
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetOrg(ctx, o.SID)
		require.NoError(t, err)
		same(t, o, got, "GetOrg")
		u, err := tx.GetUser(ctx, owner.SID)
		require.NoError(t, err)
		same(t, owner, u, "GetUser")
		u, err = tx.GetUserByEmail(ctx, strings.ToUpper(owner.Email))
		require.NoError(t, err, "GetUserByEmail matches case-insensitively")
		same(t, owner, u, "GetUserByEmail")
		in, err := tx.OrgOfEmail(ctx, strings.ToUpper(owner.Email))
		require.NoError(t, err, "OrgOfEmail matches case-insensitively")
		require.Equal(t, o.SID, in)
		u, err = tx.GetUser(ctx, std.SID)
		require.NoError(t, err)
		same(t, std, u, "GetUser (inactive)")
		a, err := tx.GetAccount(ctx, acct.SID)
		require.NoError(t, err)
		same(t, acct, a, "GetAccount")
		s, err := tx.GetAccount(ctx, sub.SID)
		require.NoError(t, err)
		same(t, sub, s, "GetAccount (subaccount, NULL owner)")
		require.Empty(t, s.OwnerSID)
		return nil
	})

	// Every mutable field changes and comes back.
	o.FriendlyName, o.AccountLimit, o.BAAAt, o.BulkImportEnabled, o.OwnerSID, o.UpdatedAt = "Acme Inc", 3, nil, false, owner.SID, at(time.Hour)
	owner.Email, owner.Status, owner.GivenName, owner.Extra = "jane@acme.example", orgmodel.UserActive, "J.", ""
	owner.Version, owner.MFAEnrolRequired = owner.Version+1, false
	owner.PasswordHash, owner.TOTPSecret, owner.UpdatedAt = "", "", at(time.Hour)
	acct.FriendlyName, acct.Status, acct.HIPAA, acct.Type, acct.SubaccountLimit, acct.AuthTokenHash, acct.UpdatedAt =
		"Prod", orgmodel.AccountClosed, false, orgmodel.AccountTrial, 0, orgmodel.HashToken("new"), at(time.Hour)
	acct.OwnerSID = std.SID
	sub.Status, sub.SuspendedWithParent = orgmodel.AccountActive, false
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.UpdateOrg(ctx, o))
		require.NoError(t, tx.UpdateUser(ctx, owner))
		require.NoError(t, tx.UpdateAccount(ctx, acct))
		require.NoError(t, tx.UpdateAccount(ctx, sub))
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetOrg(ctx, o.SID)
		require.NoError(t, err)
		same(t, o, got, "GetOrg after UpdateOrg")
		u, err := tx.GetUserByEmail(ctx, "JANE@acme.example")
		require.NoError(t, err, "the email key follows UpdateUser")
		same(t, owner, u, "GetUser after UpdateUser")
		_, err = tx.GetUserByEmail(ctx, "Jane.Doe@acme.example")
		requireNotFound(t, err, "GetUserByEmail of the old email")
		a, err := tx.GetAccount(ctx, acct.SID)
		require.NoError(t, err)
		same(t, acct, a, "GetAccount after UpdateAccount")
		s, err := tx.GetAccount(ctx, sub.SID)
		require.NoError(t, err)
		same(t, sub, s, "GetAccount (subaccount) after UpdateAccount")
		return nil
	})

	// ReassignAccounts, MoveAccountTree, DeleteUser.
	other, otherOwner := newOrg("other")
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, other, otherOwner))
		n, err := tx.ReassignAccounts(ctx, o.SID, std.SID, owner.SID, at(3*time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n, "ReassignAccounts moves std's one account")
		require.NoError(t, tx.MoveAccountTree(ctx, acct.SID, other.SID, at(4*time.Hour)))
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		for _, sid := range []orgmodel.AccountSID{acct.SID, sub.SID} {
			a, err := tx.GetAccount(ctx, sid)
			require.NoError(t, err)
			require.Equal(t, other.SID, a.OrgSID, "MoveAccountTree moves the account and its subaccounts")
			require.Equal(t, at(4*time.Hour).UTC(), a.UpdatedAt)
		}
		a, err := tx.GetAccount(ctx, acct.SID)
		require.NoError(t, err)
		require.Equal(t, owner.SID, a.OwnerSID, "ReassignAccounts")
		return nil
	})
	e.inTx(func(tx orgmodel.Tx) error { return tx.DeleteUser(ctx, std.SID) })
	e.read(func(tx orgmodel.Tx) error {
		_, err := tx.GetUser(ctx, std.SID)
		requireNotFound(t, err, "GetUser after DeleteUser")
		return nil
	})
}

func roundTripLinksGrants(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("home")
	p, pOwner := newOrg("partner")
	q, qOwner := newOrg("importer")
	dev := newUser(p.SID, "dev@partner.example", orgmodel.RoleStandard)
	acct := newAccount(o.SID, owner.SID, "")
	acct2 := newAccount(o.SID, owner.SID, "")
	indep := &orgmodel.AccountLink{OrgSID: p.SID, AccountSID: acct.SID, Relation: orgmodel.RelationIndependent,
		RequestedBy: string(owner.SID), CreatedAt: at(0)}
	pending := &orgmodel.AccountLink{OrgSID: q.SID, AccountSID: acct.SID, Relation: orgmodel.RelationPending,
		RequestedBy: "operator", TokenHash: orgmodel.HashToken("imp_1"), ExpiresAt: ptr(at(time.Hour)), CreatedAt: at(0)}
	pending2 := &orgmodel.AccountLink{OrgSID: q.SID, AccountSID: acct2.SID, Relation: orgmodel.RelationPending,
		RequestedBy: "operator", TokenHash: orgmodel.HashToken("imp_2"), ExpiresAt: ptr(at(3 * time.Hour)), CreatedAt: at(0)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		require.NoError(t, e.createOrg(tx, p, pOwner))
		require.NoError(t, e.createOrg(tx, q, qOwner))
		require.NoError(t, tx.CreateUser(ctx, dev))
		require.NoError(t, tx.CreateAccount(ctx, acct))
		require.NoError(t, tx.CreateAccount(ctx, acct2))
		for _, l := range []*orgmodel.AccountLink{indep, pending, pending2} {
			require.NoError(t, tx.PutLink(ctx, l))
		}
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		l, err := tx.GetLink(ctx, p.SID, acct.SID)
		require.NoError(t, err)
		same(t, indep, l, "GetLink (independent, no token)")
		l, err = tx.GetLinkByTokenHash(ctx, pending.TokenHash)
		require.NoError(t, err)
		same(t, pending, l, "GetLinkByTokenHash")
		ls, err := tx.ListLinks(ctx, "", acct.SID)
		require.NoError(t, err)
		require.Len(t, ls, 2, "ListLinks of an account: every organization")
		ls, err = tx.ListLinks(ctx, q.SID, "")
		require.NoError(t, err)
		require.Len(t, ls, 2, "ListLinks of an organization")
		vs, err := tx.ListLinkedAccounts(ctx, p.SID)
		require.NoError(t, err)
		require.Len(t, vs, 1)
		same(t, &orgmodel.AccountView{Account: *acct, Relation: orgmodel.RelationIndependent}, vs[0], "ListLinkedAccounts")
		return nil
	})
	// PutLink replaces; DeleteExpiredLinks takes only expired pending links.
	indep.RequestedBy, indep.CreatedAt = "operator", at(time.Minute)
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.PutLink(ctx, indep))
		gone, err := tx.DeleteExpiredLinks(ctx, at(2*time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, gone, 1)
		same(t, pending, gone[0], "DeleteExpiredLinks returns what it removed")
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		l, err := tx.GetLink(ctx, p.SID, acct.SID)
		require.NoError(t, err)
		same(t, indep, l, "PutLink replaces")
		_, err = tx.GetLink(ctx, q.SID, acct.SID)
		requireNotFound(t, err, "expired link")
		_, err = tx.GetLink(ctx, q.SID, acct2.SID)
		require.NoError(t, err, "an unexpired pending link stays")
		return nil
	})
	e.inTx(func(tx orgmodel.Tx) error { return tx.DeleteLink(ctx, p.SID, acct.SID) })
	e.read(func(tx orgmodel.Tx) error {
		_, err := tx.GetLink(ctx, p.SID, acct.SID)
		requireNotFound(t, err, "GetLink after DeleteLink")
		return nil
	})

	// Grants.
	g := &orgmodel.Grant{SID: orgmodel.RoleAssignmentSID(orgmodel.NewSID(orgmodel.PrefixRoleAssignment)),
		AccountSID: acct.SID, UserSID: dev.SID, OrgSID: p.SID, Role: orgmodel.AccountDeveloper, CreatedAt: at(0)}
	g2 := &orgmodel.Grant{SID: orgmodel.RoleAssignmentSID(orgmodel.NewSID(orgmodel.PrefixRoleAssignment)),
		AccountSID: acct2.SID, UserSID: dev.SID, OrgSID: p.SID, Role: orgmodel.AccountBilling, CreatedAt: at(0)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.PutGrant(ctx, g))
		require.NoError(t, tx.PutGrant(ctx, g2))
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetGrant(ctx, acct.SID, dev.SID)
		require.NoError(t, err)
		same(t, g, got, "GetGrant")
		got, err = tx.GetGrantBySID(ctx, g2.SID)
		require.NoError(t, err)
		same(t, g2, got, "GetGrantBySID")
		return nil
	})
	// A second grant on (account, user) replaces the first.
	g.Role = orgmodel.AccountAdministrator
	e.inTx(func(tx orgmodel.Tx) error { return tx.PutGrant(ctx, g) })
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetGrant(ctx, acct.SID, dev.SID)
		require.NoError(t, err)
		same(t, g, got, "PutGrant replaces")
		all, err := tx.ListGrants(ctx, orgmodel.GrantFilter{AccountSID: acct.SID})
		require.NoError(t, err)
		require.Len(t, all, 1, "one grant per (account, user)")
		return nil
	})
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.MoveGrants(ctx, p.SID, q.SID))
		require.NoError(t, tx.DeleteGrant(ctx, acct.SID, dev.SID))
		n, err := tx.DeleteUserGrants(ctx, dev.SID)
		require.NoError(t, err)
		require.Equal(t, 1, n, "DeleteUserGrants counts what it removed")
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		all, err := tx.ListGrants(ctx, orgmodel.GrantFilter{UserSID: dev.SID})
		require.NoError(t, err)
		require.Empty(t, all)
		return nil
	})
	// MoveGrants changed the granting organization.
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.PutGrant(ctx, g2))
		return tx.MoveGrants(ctx, p.SID, q.SID)
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetGrantBySID(ctx, g2.SID)
		require.NoError(t, err)
		require.Equal(t, q.SID, got.OrgSID, "MoveGrants")
		return nil
	})
}

func roundTripDomainsInvitations(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("corp")
	p, pOwner := newOrg("rival")
	d := newDomain(o.SID, "corp.example")
	d.SSOEnforced, d.Signup, d.MissingSince = true, orgmodel.SignupAutoEnrollment, ptr(at(time.Minute))
	d2 := newDomain(o.SID, "a.corp.example")
	d2.Status, d2.VerifiedAt, d2.CheckedAt = orgmodel.DomainUnverified, nil, nil
	rival := newDomain(p.SID, "corp.example")
	rival.Signup = orgmodel.SignupBlocked
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		require.NoError(t, e.createOrg(tx, p, pOwner))
		for _, x := range []*orgmodel.Domain{d, d2, rival} {
			require.NoError(t, tx.CreateDomain(ctx, x))
		}
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetDomain(ctx, o.SID, "corp.example")
		require.NoError(t, err)
		same(t, d, got, "GetDomain")
		got, err = tx.GetDomain(ctx, o.SID, "a.corp.example")
		require.NoError(t, err)
		same(t, d2, got, "GetDomain (unverified, NULL times)")
		ds, err := tx.ListDomains(ctx, o.SID)
		require.NoError(t, err)
		require.Equal(t, []string{"a.corp.example", "corp.example"}, domainNames(ds), "ListDomains by name")
		claims, err := tx.ListDomainClaims(ctx, "corp.example")
		require.NoError(t, err)
		require.Len(t, claims, 2, "ListDomainClaims: every organization's registration")
		require.Less(t, string(claims[0].OrgSID), string(claims[1].OrgSID), "claims by organization SID")
		return nil
	})
	d.Status, d.Signup, d.SSOEnforced, d.VerifiedAt, d.CheckedAt, d.MissingSince, d.UpdatedAt =
		orgmodel.DomainUnverified, orgmodel.SignupRestricted, false, nil, ptr(at(time.Hour)), nil, at(time.Hour)
	e.inTx(func(tx orgmodel.Tx) error { return tx.UpdateDomain(ctx, d) })
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetDomain(ctx, o.SID, d.Name)
		require.NoError(t, err)
		same(t, d, got, "GetDomain after UpdateDomain")
		return nil
	})
	e.inTx(func(tx orgmodel.Tx) error { return tx.DeleteDomain(ctx, d2.SID) })
	e.read(func(tx orgmodel.Tx) error {
		_, err := tx.GetDomain(ctx, o.SID, d2.Name)
		requireNotFound(t, err, "GetDomain after DeleteDomain")
		return nil
	})

	// Invitations keep their grants as JSON.
	acct := newAccount(o.SID, owner.SID, "")
	inv := &orgmodel.Invitation{
		SID: orgmodel.InvitationSID(orgmodel.NewSID(orgmodel.PrefixInvitation)), OrgSID: o.SID,
		Email: "New.Hire@corp.example", Role: orgmodel.RoleAdministrator,
		Grants: []orgmodel.InviteGrant{{AccountSID: acct.SID, Role: orgmodel.AccountSupport}, {AccountSID: acct.SID, Role: orgmodel.AccountBilling}},
		Status: orgmodel.InvitationPending, InvitedBy: string(owner.SID), TokenHash: orgmodel.HashToken("inv_1"),
		ExpiresAt: at(7 * 24 * time.Hour), CreatedAt: at(0),
	}
	bare := &orgmodel.Invitation{ // no grants; another organization; expired
		SID: orgmodel.InvitationSID(orgmodel.NewSID(orgmodel.PrefixInvitation)), OrgSID: p.SID,
		Email: "new.hire@corp.example", Role: orgmodel.RoleStandard, Status: orgmodel.InvitationPending,
		InvitedBy: "operator", TokenHash: orgmodel.HashToken("inv_2"), ExpiresAt: at(time.Hour), CreatedAt: at(time.Minute),
	}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.CreateAccount(ctx, acct))
		require.NoError(t, tx.CreateInvitation(ctx, inv))
		require.NoError(t, tx.CreateInvitation(ctx, bare))
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetInvitation(ctx, inv.SID)
		require.NoError(t, err)
		same(t, inv, got, "GetInvitation (grants JSON)")
		got, err = tx.GetInvitationByTokenHash(ctx, bare.TokenHash)
		require.NoError(t, err)
		same(t, bare, got, "GetInvitationByTokenHash (no grants)")
		l, err := tx.ListInvitations(ctx, o.SID, "NEW.HIRE@corp.example", orgmodel.InvitationPending)
		require.NoError(t, err)
		require.Len(t, l, 1, "ListInvitations by email key and status, one organization")
		l, err = tx.PendingInvitationsFor(ctx, "new.hire@CORP.example", at(0))
		require.NoError(t, err)
		require.Len(t, l, 2, "PendingInvitationsFor: every organization")
		l, err = tx.PendingInvitationsFor(ctx, "new.hire@corp.example", at(2*time.Hour))
		require.NoError(t, err)
		require.Len(t, l, 1, "PendingInvitationsFor leaves out expired invitations")
		require.Equal(t, inv.SID, l[0].SID)
		return nil
	})
	inv.Status, inv.AcceptedBy = orgmodel.InvitationAccepted, owner.SID
	e.inTx(func(tx orgmodel.Tx) error { return tx.UpdateInvitation(ctx, inv) })
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetInvitation(ctx, inv.SID)
		require.NoError(t, err)
		same(t, inv, got, "GetInvitation after UpdateInvitation")
		l, err := tx.ListInvitations(ctx, o.SID, "", orgmodel.InvitationPending)
		require.NoError(t, err)
		require.Empty(t, l, "ListInvitations by status")
		l, err = tx.PendingInvitationsFor(ctx, inv.Email, at(0))
		require.NoError(t, err)
		require.Len(t, l, 1)
		return nil
	})
}

func domainNames(ds []*orgmodel.Domain) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out
}

func roundTripCredentials(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("creds")
	acct := newAccount(o.SID, owner.SID, "")
	tok := &orgmodel.SCIMToken{ID: "0011223344556677", OrgSID: o.SID, Name: "okta", TokenHash: orgmodel.HashToken("scim_1"), CreatedAt: at(0)}
	tok2 := &orgmodel.SCIMToken{ID: "8899aabbccddeeff", OrgSID: o.SID, Name: "azure", TokenHash: orgmodel.HashToken("scim_2"),
		CreatedAt: at(time.Minute), LastUsedAt: ptr(at(2 * time.Minute)), RevokedAt: ptr(at(3 * time.Minute))}
	cl := &orgmodel.OAuthClient{SID: orgmodel.OAuthClientSID(orgmodel.NewSID(orgmodel.PrefixOAuthClient)), OrgSID: o.SID,
		Name: "terraform", SecretHash: orgmodel.HashToken("secret"), CreatedAt: at(0)}
	key := &orgmodel.APIKey{SID: orgmodel.APIKeySID(orgmodel.NewSID(orgmodel.PrefixAPIKey)), AccountSID: acct.SID,
		FriendlyName: "ci", SecretHash: orgmodel.HashToken("k"), CreatedAt: at(0), UpdatedAt: at(time.Second)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		require.NoError(t, tx.CreateAccount(ctx, acct))
		require.NoError(t, tx.CreateSCIMToken(ctx, tok))
		require.NoError(t, tx.CreateSCIMToken(ctx, tok2))
		require.NoError(t, tx.CreateOAuthClient(ctx, cl))
		require.NoError(t, tx.CreateAPIKey(ctx, key))
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetSCIMTokenByHash(ctx, tok2.TokenHash)
		require.NoError(t, err)
		same(t, tok2, got, "GetSCIMTokenByHash")
		ts, err := tx.ListSCIMTokens(ctx, o.SID)
		require.NoError(t, err)
		require.Len(t, ts, 2)
		same(t, tok, ts[0], "ListSCIMTokens, oldest first")
		c, err := tx.GetOAuthClient(ctx, cl.SID)
		require.NoError(t, err)
		same(t, cl, c, "GetOAuthClient")
		cs, err := tx.ListOAuthClients(ctx, o.SID)
		require.NoError(t, err)
		require.Len(t, cs, 1)
		k, err := tx.GetAPIKey(ctx, key.SID)
		require.NoError(t, err)
		same(t, key, k, "GetAPIKey")
		ks, err := tx.ListAPIKeys(ctx, acct.SID)
		require.NoError(t, err)
		require.Len(t, ks, 1)
		return nil
	})
	tok.Name, tok.LastUsedAt, tok.RevokedAt = "okta-2", ptr(at(time.Hour)), ptr(at(2*time.Hour))
	cl.Name, cl.RevokedAt = "tf", ptr(at(time.Hour))
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.UpdateSCIMToken(ctx, tok))
		require.NoError(t, tx.UpdateOAuthClient(ctx, cl))
		return tx.DeleteAPIKey(ctx, key.SID)
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetSCIMTokenByHash(ctx, tok.TokenHash)
		require.NoError(t, err)
		same(t, tok, got, "UpdateSCIMToken")
		c, err := tx.GetOAuthClient(ctx, cl.SID)
		require.NoError(t, err)
		same(t, cl, c, "UpdateOAuthClient")
		_, err = tx.GetAPIKey(ctx, key.SID)
		requireNotFound(t, err, "GetAPIKey after DeleteAPIKey")
		return nil
	})
}

func roundTripSessionsResetsIdP(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("sess")
	live := &orgmodel.Session{ID: "s1", TokenHash: orgmodel.HashToken("ses_1"), UserSID: owner.SID, Via: "password",
		CreatedAt: at(0), LastSeenAt: at(time.Minute), ExpiresAt: at(7 * 24 * time.Hour), IdleTTL: 43200}
	stale := &orgmodel.Session{ID: "s2", TokenHash: orgmodel.HashToken("ses_2"), UserSID: owner.SID, Via: "sso",
		CreatedAt: at(0), LastSeenAt: at(0), ExpiresAt: at(time.Hour), IdleTTL: 900}
	ended := &orgmodel.Session{ID: "s3", TokenHash: orgmodel.HashToken("ses_3"), UserSID: owner.SID, Via: "sso",
		CreatedAt: at(0), LastSeenAt: at(0), ExpiresAt: at(48 * time.Hour), IdleTTL: 900, EndedAt: ptr(at(time.Second)), EndReason: "logout"}
	rt := &orgmodel.ResetToken{TokenHash: orgmodel.HashToken("rst_1"), UserSID: owner.SID, ExpiresAt: at(24 * time.Hour), CreatedAt: at(0)}
	idp := &orgmodel.IdP{OrgSID: o.SID, EntityID: "https://idp.example/e", SSOURL: "https://idp.example/sso",
		MetadataXML: "<EntityDescriptor/>", MetadataURL: "https://idp.example/md", AllowIdPInitiated: true,
		EmailAttribute: "mail", TestedAt: ptr(at(time.Minute)), CreatedAt: at(0), UpdatedAt: at(time.Minute)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		for _, s := range []*orgmodel.Session{live, stale, ended} {
			require.NoError(t, tx.CreateSession(ctx, s))
		}
		require.NoError(t, tx.CreateResetToken(ctx, rt))
		require.NoError(t, tx.PutIdP(ctx, idp))
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		for _, s := range []*orgmodel.Session{live, stale, ended} {
			got, err := tx.GetSessionByTokenHash(ctx, s.TokenHash)
			require.NoError(t, err)
			same(t, s, got, "GetSessionByTokenHash %s", s.ID)
		}
		got, err := tx.GetResetToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		same(t, rt, got, "GetResetToken")
		p, err := tx.GetIdP(ctx, o.SID)
		require.NoError(t, err)
		same(t, idp, p, "GetIdP")
		return nil
	})
	live.LastSeenAt, live.IdleTTL = at(time.Hour), 900
	rt.UsedAt = ptr(at(time.Hour))
	idp.EntityID, idp.TestedAt, idp.AllowIdPInitiated, idp.UpdatedAt = "https://idp2.example/e", nil, false, at(time.Hour)
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.UpdateSession(ctx, live))
		require.NoError(t, tx.UpdateResetToken(ctx, rt))
		return tx.PutIdP(ctx, idp)
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetSessionByTokenHash(ctx, live.TokenHash)
		require.NoError(t, err)
		same(t, live, got, "UpdateSession")
		r, err := tx.GetResetToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		same(t, rt, r, "UpdateResetToken")
		p, err := tx.GetIdP(ctx, o.SID)
		require.NoError(t, err)
		same(t, idp, p, "PutIdP replaces")
		return nil
	})
	// EndUserSessions ends the live ones only: not the expired, not the ended.
	e.inTx(func(tx orgmodel.Tx) error {
		n, err := tx.EndUserSessions(ctx, owner.SID, "password_reset", at(2*time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n, "EndUserSessions counts the live sessions it ended")
		require.NoError(t, tx.DeleteResetTokens(ctx, owner.SID))
		return tx.DeleteIdP(ctx, o.SID)
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetSessionByTokenHash(ctx, live.TokenHash)
		require.NoError(t, err)
		require.Equal(t, ptr(at(2*time.Hour).UTC()), got.EndedAt)
		require.Equal(t, "password_reset", got.EndReason)
		got, err = tx.GetSessionByTokenHash(ctx, ended.TokenHash)
		require.NoError(t, err)
		same(t, ended, got, "an ended session keeps its end")
		_, err = tx.GetResetToken(ctx, rt.TokenHash)
		requireNotFound(t, err, "GetResetToken after DeleteResetTokens")
		_, err = tx.GetIdP(ctx, o.SID)
		requireNotFound(t, err, "GetIdP after DeleteIdP")
		return nil
	})
}

func roundTripAuditOutbox(e *env) {
	t, ctx := e.t, e.ctx
	ev := &orgmodel.AuditEvent{OrgSID: orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), Actor: "operator", Via: "cli",
		RemoteAddr: "192.0.2.1", Action: "org.rename", Target: "x", Before: `{"a":1}`, After: `{"a":"ü"}`, At: at(0)}
	ev2 := &orgmodel.AuditEvent{SID: orgmodel.AuditSID(orgmodel.NewSID(orgmodel.PrefixAudit)), Actor: "system", Via: "job",
		Action: "domain.unverify", Target: "y", At: at(time.Second)}
	m := &orgmodel.Mail{Kind: "invitation", To: "a@x.example", Subject: "Invitation ✉", Body: "link\nhttps://x/?t=1",
		CreatedAt: at(0), NextAttemptAt: at(0)}
	m2 := &orgmodel.Mail{Kind: "password-reset", To: "b@x.example", Subject: "Reset", Body: "b", CreatedAt: at(0), NextAttemptAt: at(0)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.AppendAudit(ctx, ev))
		require.NoError(t, tx.AppendAudit(ctx, ev2))
		require.NoError(t, tx.EnqueueMail(ctx, m))
		require.NoError(t, tx.EnqueueMail(ctx, m2))
		return nil
	})
	require.True(t, orgmodel.ValidSID(orgmodel.PrefixAudit, string(ev.SID)), "AppendAudit fills the SID")
	require.Positive(t, ev.Seq, "AppendAudit fills Seq")
	require.Greater(t, ev2.Seq, ev.Seq, "Seq increases")
	require.NotZero(t, m.ID, "EnqueueMail fills ID")
	require.Greater(t, m2.ID, m.ID)
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.ListAudit(ctx, orgmodel.AuditFilter{})
		require.NoError(t, err)
		require.Len(t, got, 2)
		same(t, ev2, got[0], "ListAudit newest first")
		same(t, ev, got[1], "ListAudit")
		ms, err := tx.ListMail(ctx, orgmodel.MailFilter{})
		require.NoError(t, err)
		require.Len(t, ms, 2)
		same(t, m2, ms[0], "ListMail newest first")
		same(t, m, ms[1], "ListMail")
		ms, err = tx.ListMail(ctx, orgmodel.MailFilter{To: strings.ToUpper(m.To)})
		require.NoError(t, err)
		require.Len(t, ms, 1, "ListMail by recipient, in any case")
		return nil
	})
	m.Attempts, m.SentAt, m.Body, m.LastError, m.NextAttemptAt = 2, ptr(at(time.Minute)), "", "", at(time.Minute)
	m2.Attempts, m2.LastError, m2.NextAttemptAt = 1, "421 try later", at(time.Hour)
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.FinishMail(ctx, m))
		return tx.FinishMail(ctx, m2)
	})
	e.read(func(tx orgmodel.Tx) error {
		ms, err := tx.ListMail(ctx, orgmodel.MailFilter{})
		require.NoError(t, err)
		require.Len(t, ms, 2)
		same(t, m2, ms[0], "FinishMail (failed attempt)")
		same(t, m, ms[1], "FinishMail (sent)")
		ms, err = tx.ListMail(ctx, orgmodel.MailFilter{Unsent: true, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ms, 1, "ListMail unsent")
		require.Equal(t, m2.ID, ms[0].ID)
		return nil
	})
}

// roundTripTimeZones is dex's time-zone test: an instant written in any
// zone comes back as the same instant, in UTC, to the millisecond.
func roundTripTimeZones(e *env) {
	t, ctx := e.t, e.ctx
	ny := mustZone("America/New_York")
	tokyo := time.FixedZone("JST", 9*3600)
	o, owner := newOrg("tz")
	owner.CreatedAt = time.Date(2026, 11, 1, 1, 30, 0, 999_000_000, ny) // the hour that happens twice
	owner.UpdatedAt = time.Date(2026, 7, 1, 8, 0, 0, 1_000_000, tokyo)
	o.BAAAt = ptr(time.Date(1999, 12, 31, 23, 59, 59, 999_000_000, ny))
	e.inTx(func(tx orgmodel.Tx) error { return e.createOrg(tx, o, owner) })
	e.read(func(tx orgmodel.Tx) error {
		u, err := tx.GetUser(ctx, owner.SID)
		require.NoError(t, err)
		require.True(t, owner.CreatedAt.Equal(u.CreatedAt), "same instant: want %s, got %s", owner.CreatedAt, u.CreatedAt)
		require.Equal(t, time.UTC, u.CreatedAt.Location())
		require.Equal(t, owner.CreatedAt.UTC(), u.CreatedAt)
		require.Equal(t, owner.UpdatedAt.UTC(), u.UpdatedAt)
		got, err := tx.GetOrg(ctx, o.SID)
		require.NoError(t, err)
		require.Equal(t, o.BAAAt.UTC(), *got.BAAAt)
		return nil
	})
}
