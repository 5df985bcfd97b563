package console_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// BenchmarkAccountsPage renders the accounts list of an organization at
// its default limit (10 managed accounts, 9 with a subaccount) for its
// Owner: the session check, the list, the users' emails, the template.
func BenchmarkAccountsPage(b *testing.B) {
	e := newEnv(b)
	r := e.signup("owner@acme.test")
	a := orgmodel.Actor{UserSID: r.UserSID, Via: "console"}
	for i := range 9 {
		acct, err := e.svc.CreateAccount(e.ctx, a, r.OrgSID, fmt.Sprintf("Account %d", i), "")
		require.NoError(b, err)
		_, err = e.svc.CreateSubaccount(e.ctx, a, acct.SID, "Sub")
		require.NoError(b, err)
	}
	c := e.as(r.UserSID).c
	for b.Loop() {
		resp, err := c.Get(e.srv.URL + "/console/accounts")
		require.NoError(b, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)
	}
}

// BenchmarkAuditCSV streams an audit log of 2,000 events as CSV (four
// batches of 500, every cell checked for formula injection).
func BenchmarkAuditCSV(b *testing.B) {
	e := newEnv(b)
	r := e.signup("owner@acme.test")
	a := orgmodel.Actor{UserSID: r.UserSID, Via: "console"}
	for i := range 2000 {
		_, err := e.svc.RenameOrg(e.ctx, a, r.OrgSID, fmt.Sprintf("=Name %d", i))
		require.NoError(b, err)
	}
	c := e.as(r.UserSID).c
	var n int64
	for b.Loop() {
		resp, err := c.Get(e.srv.URL + "/console/audit.csv")
		require.NoError(b, err)
		n, err = io.Copy(io.Discard, resp.Body)
		require.NoError(b, err)
		resp.Body.Close()
	}
	b.SetBytes(n)
}

// BenchmarkGroupsPage renders, for the Owner of an organization with a
// group of 100,000 members among 25 groups, the SSO & SCIM page (a page of
// 25 groups with their member counts and mappings) and the big group's
// page (a page of 50 members, the count of all, the mapping form).
// Neither reads the 100,000 members.
//
//	go test ./console -run XXX -bench Groups
func BenchmarkGroupsPage(b *testing.B) {
	e := newEnv(b)
	r := e.signup("owner@acme.test")
	const n = orgmodel.MaxGroupMembersPerChange - 1 // and the Owner
	sids := make([]string, n)
	for i := range sids {
		sids[i] = orgmodel.NewSID(orgmodel.PrefixUser)
	}
	slices.Sort(sids) // keys rising: loading appends to the indexes
	now := time.Now()
	users := make([]*orgmodel.User, 0, 10_000)
	members := []orgmodel.UserSID{r.UserSID}
	for i, sid := range sids {
		users = append(users, &orgmodel.User{SID: orgmodel.UserSID(sid), Email: fmt.Sprintf("u%06d@acme.test", i), OrgSID: r.OrgSID,
			Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: now, UpdatedAt: now})
		members = append(members, orgmodel.UserSID(sid))
		if len(users) == cap(users) || i == n-1 {
			require.NoError(b, e.db.SeedUsers(e.ctx, users))
			users = users[:0]
		}
	}
	big, err := e.svc.CreateGroup(e.ctx, e.op, r.OrgSID, orgmodel.GroupInput{DisplayName: "All staff", Members: members})
	require.NoError(b, err)
	for i := range 24 {
		g, err := e.svc.CreateGroup(e.ctx, e.op, r.OrgSID, orgmodel.GroupInput{DisplayName: fmt.Sprintf("Team %02d", i), Members: members[i+1 : i+2]})
		require.NoError(b, err)
		_, err = e.svc.MapGroup(e.ctx, e.op, r.OrgSID, g.SID, "", []orgmodel.GroupAccess{{AccountSID: r.AccountSID, Role: orgmodel.AccountSupport}})
		require.NoError(b, err)
	}
	c := e.as(r.UserSID).c
	get := func(b *testing.B, path string) {
		for b.Loop() {
			resp, err := c.Get(e.srv.URL + path)
			require.NoError(b, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Equal(b, http.StatusOK, resp.StatusCode)
		}
	}
	b.Run("list", func(b *testing.B) { get(b, "/console/sso") })
	b.Run("group", func(b *testing.B) { get(b, "/console/sso/groups/"+string(big.SID)) })
}
