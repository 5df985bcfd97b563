package orgmodel_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
)

// eachStore runs f on a fresh SQLite file and, when ORGD_TEST_POSTGRES is
// set, on a fresh PostgreSQL database of its own.
func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("ORGD_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("ORGD_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); PostgreSQL run skipped")
		}
		db, err := store.Open(t.Context(), pgTestDatabase(t, dsn), slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		f(t, newEnvOn(t, db))
	})
}

// pgTestDatabase creates a database of its own for t and drops it after.
func pgTestDatabase(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	_, err = admin.ExecContext(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	i := strings.LastIndex(dsn, "/")
	rest := ""
	if q := strings.Index(dsn[i:], "?"); q >= 0 {
		rest = dsn[i+q:]
	}
	return dsn[:i+1] + name + rest
}

func agent(org orgmodel.OrgSID) orgmodel.Actor {
	return orgmodel.Actor{OrgSID: org, Label: "oauth:OQtest", Via: "api"}
}

func requireField(t *testing.T, err error, field string) {
	t.Helper()
	var re *orgmodel.RuleError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, orgmodel.KindInvalid, re.Kind, "err = %v", err)
	assert.Equal(t, field, re.Field, "err = %v", err)
}

func TestRule_ROLE_4_OwnerRoleIsNeverAssignedOrRemovedByARoleAssignment(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	ag := agent(r.OrgSID)

	_, err := e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDOwner, string(r.OrgSID), admin)
	requireRule(t, err, "R-ROLE-4")
	_, err = e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDOwner, string(r.AccountSID), admin)
	requireRule(t, err, "R-ROLE-4")
	// The Owner's own organization role cannot be replaced by Administrator.
	_, err = e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDAdministrator, string(r.OrgSID), r.UserSID)
	requireRule(t, err, "R-ROLE-4")

	ras, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{Identity: r.UserSID})
	require.NoError(t, err)
	require.Len(t, ras, 1)
	assert.Equal(t, orgmodel.RoleSIDOwner, ras[0].RoleSID)
	requireRule(t, e.svc.RemoveRoleAssignment(e.ctx, ag, r.OrgSID, ras[0].SID), "R-ROLE-4")

	owners := e.owners(r.OrgSID)
	require.Len(t, owners, 1)
	assert.Equal(t, r.UserSID, owners[0].SID)
}

func TestRule_ROLE_3_RoleAssignmentsAreForOwnersAndAdministrators(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	other := e.standard(r, "other@acme.test")

	_, err := e.svc.AssignRole(e.ctx, as(std), r.OrgSID, orgmodel.RoleSIDDeveloper, string(r.AccountSID), other)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.ListRoleAssignments(e.ctx, as(std), r.OrgSID, orgmodel.RoleAssignmentFilter{})
	requireRule(t, err, "R-ROLE-3")

	ra, err := e.svc.AssignRole(e.ctx, as(admin), r.OrgSID, orgmodel.RoleSIDDeveloper, string(r.AccountSID), other)
	require.NoError(t, err)
	requireRule(t, e.svc.RemoveRoleAssignment(e.ctx, as(std), r.OrgSID, ra.SID), "R-ROLE-3")
	require.NoError(t, e.svc.RemoveRoleAssignment(e.ctx, as(admin), r.OrgSID, ra.SID))
}

func TestRoleAssignments_MapToOrganizationRolesAndAccountGrants(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.signup("owner@acme.test")
		u := e.standard(r, "dev@acme.test")
		ag := agent(r.OrgSID)
		sub, err := e.svc.CreateSubaccount(e.ctx, e.op, r.AccountSID, "sub")
		require.NoError(t, err)

		// Administrator at organization scope: the user's role.
		adm, err := e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDAdministrator, string(r.OrgSID), u)
		require.NoError(t, err)
		assert.True(t, orgmodel.ValidSID(orgmodel.PrefixRoleAssignment, string(adm.SID)))
		got, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, u)
		require.NoError(t, err)
		assert.Equal(t, orgmodel.RoleAdministrator, got.Role)
		// Assigning it again names the same assignment.
		again, err := e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDAdministrator, string(r.OrgSID), u)
		require.NoError(t, err)
		assert.Equal(t, adm.SID, again.SID)

		// Billing on the account and Support on its subaccount: grants.
		bill, err := e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDBilling, string(r.AccountSID), u)
		require.NoError(t, err)
		g, err := e.svc.ListGrants(e.ctx, e.op, r.OrgSID, orgmodel.GrantFilter{UserSID: u})
		require.NoError(t, err)
		require.Len(t, g, 1)
		assert.Equal(t, orgmodel.AccountBilling, g[0].Role)
		assert.Equal(t, bill.SID, g[0].SID)
		supp, err := e.svc.AssignRole(e.ctx, ag, r.OrgSID, orgmodel.RoleSIDSupport, string(sub.SID), u)
		require.NoError(t, err)

		all, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{})
		require.NoError(t, err)
		require.Len(t, all, 4) // the Owner, the Administrator, two grants
		for i := 1; i < len(all); i++ {
			assert.Less(t, all[i-1].SID, all[i].SID, "SID order")
		}
		byScope, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{Scope: string(r.OrgSID)})
		require.NoError(t, err)
		assert.Len(t, byScope, 2)
		byAcct, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{Scope: string(sub.SID)})
		require.NoError(t, err)
		require.Len(t, byAcct, 1)
		assert.Equal(t, supp.SID, byAcct[0].SID)
		assert.Equal(t, orgmodel.RoleSIDSupport, byAcct[0].RoleSID)
		byUser, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{Identity: u})
		require.NoError(t, err)
		assert.Len(t, byUser, 3)

		// Keyset pages of one cover everything once, in order.
		var paged []orgmodel.RoleAssignmentSID
		after := orgmodel.RoleAssignmentSID("")
		for {
			page, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{AfterSID: after, Limit: 1})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			require.Len(t, page, 1)
			paged = append(paged, page[0].SID)
			after = page[0].SID
		}
		require.Len(t, paged, 4)
		for i, ra := range all {
			assert.Equal(t, ra.SID, paged[i])
		}

		// Removing them undoes them.
		require.NoError(t, e.svc.RemoveRoleAssignment(e.ctx, ag, r.OrgSID, adm.SID))
		got, err = e.svc.GetUser(e.ctx, e.op, r.OrgSID, u)
		require.NoError(t, err)
		assert.Equal(t, orgmodel.RoleStandard, got.Role)
		require.NoError(t, e.svc.RemoveRoleAssignment(e.ctx, ag, r.OrgSID, bill.SID))
		err = e.svc.RemoveRoleAssignment(e.ctx, ag, r.OrgSID, bill.SID)
		assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
		left, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{})
		require.NoError(t, err)
		assert.Len(t, left, 2) // the Owner and the Support grant
	})
}

func TestRoleAssignments_RefuseEachWrongInputByName(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	u := e.standard(r, "dev@acme.test")
	ag := agent(r.OrgSID)
	x := e.signup("owner@other.test")
	xu := e.standard(x, "dev@other.test")

	cases := []struct {
		name     string
		role     orgmodel.RoleSID
		scope    string
		identity orgmodel.UserSID
		field    string
	}{
		{"unknown role", "IX00000000000000000000000000000199", string(r.AccountSID), u, "role_sid"},
		{"not a role sid", "admin", string(r.AccountSID), u, "role_sid"},
		{"developer at org scope", orgmodel.RoleSIDDeveloper, string(r.OrgSID), u, "role_sid"},
		{"another org as scope", orgmodel.RoleSIDAdministrator, string(x.OrgSID), u, "scope"},
		{"another org's account", orgmodel.RoleSIDDeveloper, string(x.AccountSID), u, "scope"},
		{"no such account", orgmodel.RoleSIDDeveloper, "AC00000000000000000000000000000000", u, "scope"},
		{"scope not a sid", orgmodel.RoleSIDDeveloper, "everything", u, "scope"},
		{"another org's user", orgmodel.RoleSIDDeveloper, string(r.AccountSID), xu, "identity"},
		{"no such user", orgmodel.RoleSIDDeveloper, string(r.AccountSID), "US00000000000000000000000000000000", "identity"},
		{"identity not a sid", orgmodel.RoleSIDDeveloper, string(r.AccountSID), "bob", "identity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.svc.AssignRole(e.ctx, ag, r.OrgSID, c.role, c.scope, c.identity)
			requireField(t, err, c.field)
		})
	}
	// Another organization's agent learns nothing about this one.
	_, err := e.svc.AssignRole(e.ctx, agent(x.OrgSID), r.OrgSID, orgmodel.RoleSIDDeveloper, string(r.AccountSID), u)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.ListRoleAssignments(e.ctx, agent(x.OrgSID), r.OrgSID, orgmodel.RoleAssignmentFilter{})
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	// Listing by another organization's user or account finds nothing.
	ras, err := e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{Identity: x.UserSID})
	require.NoError(t, err)
	assert.Empty(t, ras)
	xg, err := e.svc.AssignRole(e.ctx, agent(x.OrgSID), x.OrgSID, orgmodel.RoleSIDDeveloper, string(x.AccountSID), xu)
	require.NoError(t, err)
	ras, err = e.svc.ListRoleAssignments(e.ctx, ag, r.OrgSID, orgmodel.RoleAssignmentFilter{Scope: string(x.AccountSID)})
	require.NoError(t, err)
	assert.Empty(t, ras)
	err = e.svc.RemoveRoleAssignment(e.ctx, ag, r.OrgSID, xg.SID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "another organization's assignment is not found")
}

func TestSigningKeys_RotationKeepsEarlierKeysUntilTheirTokensExpire(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		first, err := e.svc.SigningKeys(e.ctx)
		require.NoError(t, err)
		require.NotNil(t, first.Current)
		assert.Len(t, first.Current.Seed, 32)
		assert.Len(t, first.Verify, 1)
		again, err := e.svc.SigningKeys(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, first.Current.KID, again.Current.KID, "no rotation before it is due")

		e.clock.Add(orgmodel.SigningKeyRotation)
		second, err := e.svc.SigningKeys(e.ctx)
		require.NoError(t, err)
		assert.NotEqual(t, first.Current.KID, second.Current.KID)
		assert.Equal(t, first.Current.Generation+1, second.Current.Generation)
		require.NotNil(t, second.Lookup(first.Current.KID), "tokens signed just before rotation still verify")

		e.clock.Add(orgmodel.AccessTokenTTL + orgmodel.SigningKeyOverlap - time.Second)
		r, err := e.svc.SigningKeys(e.ctx)
		require.NoError(t, err)
		assert.NotNil(t, r.Lookup(first.Current.KID))
		e.clock.Add(time.Second)
		r, err = e.svc.SigningKeys(e.ctx)
		require.NoError(t, err)
		assert.Nil(t, r.Lookup(first.Current.KID), "every token of the old key has expired")

		// The next rotation deletes the key no token can carry any more.
		e.clock.Add(orgmodel.SigningKeyRotation)
		third, err := e.svc.SigningKeys(e.ctx)
		require.NoError(t, err)
		var kids []string
		require.NoError(t, e.db.Read(e.ctx, func(tx orgmodel.Tx) error {
			ks, err := tx.ListSigningKeys(e.ctx)
			for _, k := range ks {
				kids = append(kids, k.KID)
			}
			return err
		}))
		assert.Equal(t, []string{third.Current.KID, second.Current.KID}, kids)

		evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{Action: "signing_key.rotate"})
		require.NoError(t, err)
		assert.Len(t, evs, 3)
	})
}

func TestSigningKeys_ReplicasRacingToRotateAgreeOnOneKey(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		// Two services over one database are two replicas.
		other := orgmodel.NewService(e.db, orgmodel.Config{Now: e.clock.Now})
		var wg sync.WaitGroup
		kids := make([]string, 8)
		for i := range kids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := e.svc
				if i%2 == 1 {
					svc = other
				}
				r, err := svc.SigningKeys(e.ctx)
				if assert.NoError(t, err) {
					kids[i] = r.Current.KID
				}
			}()
		}
		wg.Wait()
		for _, k := range kids {
			assert.Equal(t, kids[0], k)
		}
	})
}

func TestSigningKeys_OperatorRotatesAndMayRetireALeakedKey(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	first, err := e.svc.SigningKeys(e.ctx)
	require.NoError(t, err)
	_, err = e.svc.RotateSigningKey(e.ctx, as(r.UserSID), false)
	assert.Equal(t, orgmodel.KindForbidden, orgmodel.KindOf(err))

	k, err := e.svc.RotateSigningKey(e.ctx, e.op, false)
	require.NoError(t, err)
	ring, err := e.svc.SigningKeys(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, k.KID, ring.Current.KID)
	assert.NotNil(t, ring.Lookup(first.Current.KID), "a plain rotation logs nobody out")

	k2, err := e.svc.RotateSigningKey(e.ctx, e.op, true)
	require.NoError(t, err)
	ring, err = e.svc.SigningKeys(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, k2.KID, ring.Current.KID)
	assert.Len(t, ring.Verify, 1, "retiring drops every earlier key")
}

func TestOAuthClientActor_StopsAtRevocation(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	c, err := e.svc.CreateOAuthClient(e.ctx, e.op, r.OrgSID, "")
	require.NoError(t, err)
	a, err := e.svc.OAuthClientActor(e.ctx, c.ClientID, "127.0.0.1")
	require.NoError(t, err)
	assert.Equal(t, r.OrgSID, a.OrgSID)
	assert.Equal(t, "oauth:"+string(c.ClientID), a.Label)

	require.NoError(t, e.svc.RevokeOAuthClient(e.ctx, e.op, r.OrgSID, c.ClientID))
	_, err = e.svc.OAuthClientActor(e.ctx, c.ClientID, "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	_, err = e.svc.OAuthClientActor(e.ctx, "OQ00000000000000000000000000000000", "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}

func TestRule_ROLE_3_ManagedAccountListingFollowsReach(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	mine, err := e.svc.CreateAccount(e.ctx, as(std), r.OrgSID, "Mine", "")
	require.NoError(t, err)
	granted, err := e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Granted", "")
	require.NoError(t, err)
	_, err = e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Hidden", "")
	require.NoError(t, err)
	_, err = e.svc.GrantAccess(e.ctx, e.op, granted.SID, std, "developer")
	require.NoError(t, err)
	_, err = e.svc.CreateSubaccount(e.ctx, e.op, r.AccountSID, "sub")
	require.NoError(t, err)

	all, err := e.svc.ListManagedAccounts(e.ctx, agent(r.OrgSID), r.OrgSID, "", 0)
	require.NoError(t, err)
	assert.Len(t, all, 4, "managed top-level accounts only, no subaccounts")
	page, err := e.svc.ListManagedAccounts(e.ctx, agent(r.OrgSID), r.OrgSID, all[1].SID, 1)
	require.NoError(t, err)
	require.Len(t, page, 1)
	assert.Equal(t, all[2].SID, page[0].SID)

	seen, err := e.svc.ListManagedAccounts(e.ctx, as(std), r.OrgSID, "", 0)
	require.NoError(t, err)
	var sids []orgmodel.AccountSID
	for _, a := range seen {
		sids = append(sids, a.SID)
	}
	assert.ElementsMatch(t, []orgmodel.AccountSID{mine.SID, granted.SID}, sids)

	x := e.signup("owner@other.test")
	_, err = e.svc.ListManagedAccounts(e.ctx, agent(x.OrgSID), r.OrgSID, "", 0)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
}

func TestAPIKeys_FetchAndRenameStayWithinTheAccount(t *testing.T) {
	eachStore(t, testAPIKeysFetchAndRename)
}

func testAPIKeysFetchAndRename(t *testing.T, e *env) {
	r := e.signup("owner@acme.test")
	self := orgmodel.Actor{AccountSID: r.AccountSID, Via: "api"}
	k, err := e.svc.CreateAPIKey(e.ctx, self, r.AccountSID, "ci")
	require.NoError(t, err)
	got, err := e.svc.GetAPIKey(e.ctx, self, r.AccountSID, k.SID)
	require.NoError(t, err)
	assert.Equal(t, "ci", got.FriendlyName)
	e.clock.Add(time.Minute)
	renamed, err := e.svc.RenameAPIKey(e.ctx, self, r.AccountSID, k.SID, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deploy", renamed.FriendlyName)
	assert.True(t, renamed.UpdatedAt.After(renamed.CreatedAt))

	x := e.signup("owner@other.test")
	xself := orgmodel.Actor{AccountSID: x.AccountSID, Via: "api"}
	_, err = e.svc.GetAPIKey(e.ctx, xself, r.AccountSID, k.SID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.GetAPIKey(e.ctx, xself, x.AccountSID, k.SID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "a key of another account is not found under this one")
	_, err = e.svc.RenameAPIKey(e.ctx, xself, x.AccountSID, k.SID, "stolen")
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.RenameAPIKey(e.ctx, self, r.AccountSID, k.SID, "")
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}
