package storetest

import (
	"fmt"
	"slices"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// groupViews: the console's reads of groups (issue 6). The list counts
// each group's members without reading them — the members of the groups
// asked for only, whatever the number of SIDs (past one statement's
// bound), with a group without members absent — and SearchGroups carries
// the counts of the page it returns; a group's page reads its members a
// page at a time in SID order after a given SID, and nobody else.
func groupViews(e *env) {
	t, ctx := e.t, e.ctx
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	var us []orgmodel.UserSID
	for i := range 3 {
		us = append(us, e.member(r.OrgSID, fmt.Sprintf("u%d@acme.test", i), orgmodel.RoleStandard))
	}
	other := e.signup("owner@beta.test")
	e.verified(other.OrgSID, "beta.test")
	ob := e.member(other.OrgSID, "b@beta.test", orgmodel.RoleStandard)

	group := func(org orgmodel.OrgSID, name string, members ...orgmodel.UserSID) orgmodel.GroupSID {
		t.Helper()
		g, err := e.svc.CreateGroup(ctx, e.op, org, orgmodel.GroupInput{DisplayName: name, Members: members})
		require.NoError(t, err)
		return g.SID
	}
	big := group(r.OrgSID, "Big", append([]orgmodel.UserSID{r.UserSID}, us...)...)
	one := group(r.OrgSID, "One", us[0])
	empty := group(r.OrgSID, "Empty")
	theirs := group(other.OrgSID, "Theirs", other.UserSID, ob)

	e.read(func(tx orgmodel.Tx) error {
		n, err := tx.CountGroupMembers(ctx, big, one, empty)
		require.NoError(t, err)
		require.Equal(t, map[orgmodel.GroupSID]int{big: 4, one: 1}, n)
		// More SIDs than one statement binds: every chunk is counted.
		many := make([]orgmodel.GroupSID, 0, 701)
		for i := range 700 {
			many = append(many, orgmodel.GroupSID(fmt.Sprintf("GR%032x", i+1)))
		}
		many = append(many, theirs)
		n, err = tx.CountGroupMembers(ctx, many...)
		require.NoError(t, err)
		require.Equal(t, map[orgmodel.GroupSID]int{theirs: 2}, n)
		n, err = tx.CountGroupMembers(ctx)
		require.NoError(t, err)
		require.Empty(t, n)

		// Keyset pages of the big group: every member once, in SID order.
		want := append([]orgmodel.UserSID{r.UserSID}, us...)
		slices.Sort(want)
		var got []orgmodel.UserSID
		after := orgmodel.UserSID("")
		for {
			page, err := tx.GroupMembersAfter(ctx, big, after, 3)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 3)
			for _, u := range page {
				require.Equal(t, r.OrgSID, u.OrgSID)
				require.NotEmpty(t, u.Email, "the member's user is read whole")
				got = append(got, u.SID)
			}
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].SID
		}
		require.Equal(t, want, got)
		page, err := tx.GroupMembersAfter(ctx, empty, "", 10)
		require.NoError(t, err)
		require.Empty(t, page)
		page, err = tx.GroupMembersAfter(ctx, theirs, "", 10)
		require.NoError(t, err)
		require.Len(t, page, 2)
		return nil
	})

	gs, total, err := e.svc.SearchGroups(ctx, e.op, r.OrgSID, orgmodel.Query{
		Sort: orgmodel.Sort{Col: orgmodel.GroupColName}, Offset: 1, Limit: 2, MemberCounts: true})
	require.NoError(t, err)
	require.Equal(t, 3, total)
	require.Len(t, gs, 2)
	require.Equal(t, []orgmodel.GroupSID{empty, one}, []orgmodel.GroupSID{gs[0].SID, gs[1].SID}, "sorted by name: Big, Empty, One")
	require.Equal(t, 0, gs[0].MemberCount)
	require.Equal(t, 1, gs[1].MemberCount)
	require.Nil(t, gs[1].Members, "counting loaded the members")
	gs, _, err = e.svc.SearchGroups(ctx, e.op, r.OrgSID, orgmodel.Query{Sort: orgmodel.Sort{Col: orgmodel.GroupColName}, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, big, gs[0].SID)
	require.Zero(t, gs[0].MemberCount, "a count that was not asked for")
}
