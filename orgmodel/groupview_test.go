package orgmodel_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestGroup_MembersPage: a group's page pages through its members in SID
// order after a given SID, with the group, its mapping and the count of
// all; the last page says so.
func TestGroup_MembersPage(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	var all []orgmodel.UserSID
	for _, email := range []string{"a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test"} {
		all = append(all, e.standard(r, email))
	}
	all = append(all, r.UserSID)
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.GroupInput{DisplayName: "Staff", Members: all})
	require.NoError(t, err)
	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "administrator", nil)
	require.NoError(t, err)
	slices.Sort(all)

	var seen []orgmodel.UserSID
	after := orgmodel.UserSID("")
	for range 3 {
		p, err := e.svc.GroupMembersPage(e.ctx, as(r.UserSID), r.OrgSID, g.SID, after, 2)
		require.NoError(t, err)
		assert.Equal(t, 5, p.Total)
		assert.Equal(t, 5, p.Group.MemberCount)
		assert.Equal(t, "Staff", p.Group.DisplayName)
		assert.Equal(t, orgmodel.RoleAdministrator, p.Group.Role)
		for _, u := range p.Members {
			seen = append(seen, u.SID)
		}
		if p.Next == "" {
			break
		}
		assert.Equal(t, p.Members[len(p.Members)-1].SID, p.Next)
		after = p.Next
	}
	assert.Equal(t, all, seen)
	p, err := e.svc.GroupMembersPage(e.ctx, as(r.UserSID), r.OrgSID, g.SID, all[3], 2)
	require.NoError(t, err)
	assert.Len(t, p.Members, 1)
	assert.Empty(t, p.Next, "a full last page offers a next one")

	_, err = e.svc.GroupMembersPage(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "not-a-sid", 2)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	_, err = e.svc.GroupMembersPage(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "", orgmodel.MaxGroupPageMembers+1)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}

// TestRule_ROLE_3_GroupPagesAreForAdministrators: a Standard user may not
// see a group's page; another organization's group, and a malformed SID,
// answer as a missing one.
func TestRule_ROLE_3_GroupPagesAreForAdministrators(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.GroupInput{DisplayName: "Staff", Members: []orgmodel.UserSID{std}})
	require.NoError(t, err)
	_, err = e.svc.GroupMembersPage(e.ctx, as(std), r.OrgSID, g.SID, "", 10)
	requireRule(t, err, "R-ROLE-3")

	other := e.signup("owner@beta.test")
	_, err = e.svc.GroupMembersPage(e.ctx, as(other.UserSID), other.OrgSID, g.SID, "", 10)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, missing := e.svc.GroupMembersPage(e.ctx, as(other.UserSID), other.OrgSID, orgmodel.GroupSID("GR"+strings.Repeat("0", 32)), "", 10)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(missing))
	_, err = e.svc.GroupMembersPage(e.ctx, as(other.UserSID), other.OrgSID, "nope", "", 10)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.GroupMembersPage(e.ctx, as(other.UserSID), r.OrgSID, g.SID, "", 10)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "an outsider learns the organization exists")
}
