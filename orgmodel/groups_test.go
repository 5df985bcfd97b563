package orgmodel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// scimAgent is the provisioning agent (a SCIM token) of org.
func scimAgent(org orgmodel.OrgSID) orgmodel.Actor {
	return orgmodel.Actor{OrgSID: org, Label: "scim:test", Via: "scim"}
}

// provisioned creates a managed user of r's organization through provisioning.
func (e *env) provisioned(r *orgmodel.SignUpResult, email string) orgmodel.UserSID {
	e.t.Helper()
	e.ensureVerified(r.OrgSID, orgmodel.EmailDomain(email))
	u, err := e.svc.ProvisionUser(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.Profile{Email: email, Active: true})
	require.NoError(e.t, err)
	return u.SID
}

func (e *env) role(org orgmodel.OrgSID, u orgmodel.UserSID) orgmodel.Role {
	e.t.Helper()
	got, err := e.svc.GetUser(e.ctx, e.op, org, u)
	require.NoError(e.t, err)
	return got.Role
}

func (e *env) grantOf(org orgmodel.OrgSID, acct orgmodel.AccountSID, u orgmodel.UserSID) *orgmodel.Grant {
	e.t.Helper()
	gs, err := e.svc.ListGrants(e.ctx, e.op, org, orgmodel.GrantFilter{UserSID: u, AccountSID: acct})
	require.NoError(e.t, err)
	if len(gs) == 0 {
		return nil
	}
	return gs[0]
}

func (e *env) auditActions(org orgmodel.OrgSID, target string) []string {
	e.t.Helper()
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: org, Target: target})
	require.NoError(e.t, err)
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func members(us ...orgmodel.UserSID) []orgmodel.UserSID { return us }

func TestGroup_AdministratorMappingGrantsAndTakesAwayTheRole(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	u := e.provisioned(r, "ann@acme.test")
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.GroupInput{DisplayName: "Admins"})
	require.NoError(t, err)
	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "administrator", nil)
	require.NoError(t, err)

	_, err = e.svc.ChangeGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, g.SID,
		[]orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: members(u)}}, 0)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, u))

	_, err = e.svc.ChangeGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, g.SID,
		[]orgmodel.GroupChange{{Op: orgmodel.GroupRemoveMembers, Members: members(u)}}, 0)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, u))
	// Both changes of the role are in the audit log, as the group's own change is.
	assert.Equal(t, []string{"user.role", "user.role", "user.provision"}, e.auditActions(r.OrgSID, string(u)))
	assert.Contains(t, e.auditActions(r.OrgSID, string(g.SID)), "group.members")
}

func TestGroup_MappingAppliesToCurrentMembersAndUnmappingTakesItAway(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	u := e.provisioned(r, "ann@acme.test")
	acct := e.firstOpenAccount(r)
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.GroupInput{DisplayName: "Ops", Members: members(u)})
	require.NoError(t, err)
	assert.Nil(t, e.grantOf(r.OrgSID, acct, u))

	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "", []orgmodel.GroupAccess{{AccountSID: acct, Role: "billing"}})
	require.NoError(t, err)
	gr := e.grantOf(r.OrgSID, acct, u)
	require.NotNil(t, gr)
	assert.Equal(t, orgmodel.AccountBilling, gr.Role)

	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "", []orgmodel.GroupAccess{{AccountSID: acct, Role: "developer"}})
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountDeveloper, e.grantOf(r.OrgSID, acct, u).Role)

	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "", nil)
	require.NoError(t, err)
	assert.Nil(t, e.grantOf(r.OrgSID, acct, u))
}

func TestGroup_AccessFromTwoGroupsAndExplicitGrantsStay(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	u := e.provisioned(r, "ann@acme.test")
	v := e.provisioned(r, "bob@acme.test")
	acct := e.firstOpenAccount(r)
	a := scimAgent(r.OrgSID)
	g1, err := e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "One"})
	require.NoError(t, err)
	g2, err := e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "Two"})
	require.NoError(t, err)
	_, err = e.svc.MapGroup(e.ctx, e.op, r.OrgSID, g1.SID, "", []orgmodel.GroupAccess{{AccountSID: acct, Role: "support"}})
	require.NoError(t, err)
	_, err = e.svc.MapGroup(e.ctx, e.op, r.OrgSID, g2.SID, "", []orgmodel.GroupAccess{{AccountSID: acct, Role: "administrator"}})
	require.NoError(t, err)

	// v holds an explicit grant: groups neither change it nor take it away.
	_, err = e.svc.GrantAccess(e.ctx, e.op, acct, v, "billing")
	require.NoError(t, err)

	add := func(g orgmodel.GroupSID, us ...orgmodel.UserSID) {
		_, err := e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g, []orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: us}}, 0)
		require.NoError(t, err)
	}
	remove := func(g orgmodel.GroupSID, us ...orgmodel.UserSID) {
		_, err := e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g, []orgmodel.GroupChange{{Op: orgmodel.GroupRemoveMembers, Members: us}}, 0)
		require.NoError(t, err)
	}
	add(g1.SID, u, v)
	assert.Equal(t, orgmodel.AccountSupport, e.grantOf(r.OrgSID, acct, u).Role)
	add(g2.SID, u, v)
	assert.Equal(t, orgmodel.AccountAdministrator, e.grantOf(r.OrgSID, acct, u).Role, "the higher of two groups' roles")
	remove(g2.SID, u, v)
	assert.Equal(t, orgmodel.AccountSupport, e.grantOf(r.OrgSID, acct, u).Role)
	remove(g1.SID, u, v)
	assert.Nil(t, e.grantOf(r.OrgSID, acct, u))
	require.NotNil(t, e.grantOf(r.OrgSID, acct, v))
	assert.Equal(t, orgmodel.AccountBilling, e.grantOf(r.OrgSID, acct, v).Role)
}

func TestRule_ROLE_4_GroupsNeverDemoteTheOwnerNorExplicitAdministrators(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	u := e.provisioned(r, "ann@acme.test")
	a := scimAgent(r.OrgSID)
	g, err := e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "Admins", Members: members(r.UserSID, admin, u)})
	require.NoError(t, err)
	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "administrator", nil)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleOwner, e.role(r.OrgSID, r.UserSID))
	assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, u))

	// Leaving the group, or its deletion, takes away only what it gave.
	_, err = e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{{Op: orgmodel.GroupSetMembers}}, 0)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleOwner, e.role(r.OrgSID, r.UserSID))
	assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, admin))
	assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, u))

	// A group-given Administrator who becomes Owner and hands the role on
	// is an Administrator by transfer: the group no longer takes it away.
	_, err = e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: members(u)}}, 0)
	require.NoError(t, err)
	_, err = e.svc.TransferOwnership(e.ctx, as(r.UserSID), r.OrgSID, string(u))
	require.NoError(t, err)
	_, err = e.svc.TransferOwnership(e.ctx, as(u), r.OrgSID, string(r.UserSID))
	require.NoError(t, err)
	require.NoError(t, e.svc.DeleteGroup(e.ctx, a, r.OrgSID, g.SID, 0))
	assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, u))
	assert.Equal(t, orgmodel.RoleOwner, e.role(r.OrgSID, r.UserSID))
}

func TestRule_ROLE_3_AProvisioningAgentCannotMapGroups(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.GroupInput{DisplayName: "Admins"})
	require.NoError(t, err)
	_, err = e.svc.MapGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, g.SID, "administrator", nil)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.MapGroup(e.ctx, as(std), r.OrgSID, g.SID, "administrator", nil)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.MapGroup(e.ctx, as(r.UserSID), r.OrgSID, g.SID, "owner", nil)
	requireRule(t, err, "R-ROLE-4")
}

func TestGroup_DisplayNameIsUniqueWithoutRegardToCase(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	other := e.signup("owner@other.test")
	a := scimAgent(r.OrgSID)
	g, err := e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "Équipe Σοφία"})
	require.NoError(t, err)
	for _, name := range []string{"équipe σοφία", "ÉQUIPE ΣΟΦΊΑ"} {
		_, err = e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: name})
		require.Error(t, err, name)
		assert.Equal(t, orgmodel.KindConflict, orgmodel.KindOf(err))
		var re *orgmodel.RuleError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "displayName", re.Field)
	}
	// Another organization may use the name; a rename to one's own name in another case is fine.
	_, err = e.svc.CreateGroup(e.ctx, scimAgent(other.OrgSID), other.OrgSID, orgmodel.GroupInput{DisplayName: "équipe σοφία"})
	require.NoError(t, err)
	_, err = e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{{Op: orgmodel.GroupRename, DisplayName: "ÉQUIPE σοφία"}}, 0)
	require.NoError(t, err)
}

func TestRule_SCIM_1_GroupMembersAreUsersOfTheOrganization(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	other := e.signup("owner@other.test")
	u := e.provisioned(r, "ann@acme.test")
	a := scimAgent(r.OrgSID)
	g, err := e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "G", Members: members(u)})
	require.NoError(t, err)

	// Another organization's user is refused exactly like a user that does not exist.
	missing := orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser))
	_, errOther := e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: members(other.UserSID)}}, 0)
	_, errMissing := e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: members(missing)}}, 0)
	require.Error(t, errOther)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(errOther))
	norm := func(err error, sid orgmodel.UserSID) string {
		return strings.ReplaceAll(err.Error(), string(sid), "<sid>")
	}
	assert.Equal(t, norm(errMissing, missing), norm(errOther, other.UserSID))

	// Another organization cannot see or change the group.
	_, err = e.svc.GetGroup(e.ctx, scimAgent(other.OrgSID), other.OrgSID, g.SID, false)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.GetGroup(e.ctx, scimAgent(other.OrgSID), r.OrgSID, g.SID, false)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
}

func TestGroup_ChangesApplyAllOrNone(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	u := e.provisioned(r, "ann@acme.test")
	v := e.provisioned(r, "bob@acme.test")
	a := scimAgent(r.OrgSID)
	g, err := e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "G", Members: members(u)})
	require.NoError(t, err)
	_, err = e.svc.CreateGroup(e.ctx, a, r.OrgSID, orgmodel.GroupInput{DisplayName: "Taken"})
	require.NoError(t, err)

	_, err = e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{
		{Op: orgmodel.GroupAddMembers, Members: members(v)},
		{Op: orgmodel.GroupRemoveMembers, Members: members(u)},
		{Op: orgmodel.GroupRename, DisplayName: "taken"},
	}, 0)
	require.Error(t, err)
	got, err := e.svc.GetGroup(e.ctx, a, r.OrgSID, g.SID, true)
	require.NoError(t, err)
	assert.Equal(t, "G", got.DisplayName)
	assert.Equal(t, int64(1), got.Version)
	require.Len(t, got.Members, 1)
	assert.Equal(t, u, got.Members[0].UserSID)

	// A version precondition that fails changes nothing either.
	_, err = e.svc.ChangeGroup(e.ctx, a, r.OrgSID, g.SID, []orgmodel.GroupChange{{Op: orgmodel.GroupRename, DisplayName: "H"}}, 7)
	assert.Equal(t, orgmodel.KindPrecondition, orgmodel.KindOf(err))
}

func TestGroup_MergedCandidatesGroupsGoWithIt(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	prime, cand := m.prime, m.cand
	// The candidate's group holds its users; the merge moves them and drops the group.
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(cand.OrgSID), cand.OrgSID, orgmodel.GroupInput{DisplayName: "G", Members: members(cand.UserSID, m.candStd)})
	require.NoError(t, err)
	_, err = e.svc.MergeOrgs(e.ctx, e.op, prime.OrgSID, cand.OrgSID)
	require.NoError(t, err)
	_, err = e.svc.GetGroup(e.ctx, e.op, cand.OrgSID, g.SID, false)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	// The moved user is searchable in the prime by its terms.
	us, n, err := e.svc.SearchUsers(e.ctx, e.op, prime.OrgSID, orgmodel.Query{
		Cond:  orgmodel.TermCond{Path: "emails.value", Op: orgmodel.OpEq, Value: "CAND@acme.test"},
		Limit: 10,
	})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, cand.UserSID, us[0].SID)
}

func TestSearchUsers_OnlyTheOrganizationsUsers(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	other := e.signup("owner@other.test")
	u := e.provisioned(r, "ann@acme.test")
	_, n, err := e.svc.SearchUsers(e.ctx, scimAgent(r.OrgSID), r.OrgSID, orgmodel.Query{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	us, n, err := e.svc.SearchUsers(e.ctx, scimAgent(other.OrgSID), other.OrgSID, orgmodel.Query{
		Cond: orgmodel.ColCond{Col: orgmodel.UserColSID, Op: orgmodel.OpEq, Value: string(u)}, Limit: 10})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, us)
	// An agent of another organization is refused as if the organization did not exist.
	_, _, err = e.svc.SearchUsers(e.ctx, scimAgent(other.OrgSID), r.OrgSID, orgmodel.Query{Limit: 10})
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	// Malformed queries are refused before the store sees them.
	_, _, err = e.svc.SearchUsers(e.ctx, e.op, r.OrgSID, orgmodel.Query{Cond: orgmodel.ColCond{Col: "password_hash", Op: orgmodel.OpPr}})
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}

func TestFoldKey_FoldsUnicodeNotOnlyASCII(t *testing.T) {
	for _, c := range [][2]string{
		{"ÉCOLE", "école"}, {"ΣΟΦΊΑ", "σοφία"}, {"ς", "σ"}, {"\u212a", "k"}, {"MiXeD", "mixed"},
	} {
		assert.Equal(t, orgmodel.FoldKey(c[1]), orgmodel.FoldKey(c[0]), c[0])
	}
	assert.NotEqual(t, orgmodel.FoldKey("e"), orgmodel.FoldKey("é"))
}

func TestUserTerms_FlattenExtraAndTheLoginAsWorkEmail(t *testing.T) {
	u := &orgmodel.User{Email: "Ann@acme.test", DisplayName: "Ann É",
		Extra: `{"title":"CTO","emails":[{"value":"ann@acme.test","type":"work","primary":true}],` +
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"US1"},"employeeNumber":"42"}}`}
	got := map[string]orgmodel.Term{}
	for _, tm := range orgmodel.UserTerms(u) {
		got[tm.Path+"#"+string(rune('0'+tm.Elem))] = tm
	}
	assert.Equal(t, "ann é", got["displayname#0"].Key)
	assert.Equal(t, "cto", got["title#0"].Key)
	assert.Equal(t, "true", got["emails.primary#1"].Value)
	assert.Contains(t, got, "emails.value#1")
	assert.Equal(t, "US1", got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value#0"].Value)
	assert.Equal(t, "42", got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber#0"].Value)

	// Without provisioned emails, the login is the one work email.
	plain := orgmodel.UserTerms(&orgmodel.User{Email: "Bob@acme.test"})
	require.Len(t, plain, 3)
	assert.Equal(t, orgmodel.Term{Path: "emails.value", Elem: 1, Value: "Bob@acme.test", Key: "bob@acme.test"}, plain[2])
}
