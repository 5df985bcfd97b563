package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// scimAgent acts as the organization's provisioning agent (a SCIM token),
// as an identity provider pushing groups does.
func scimAgent(org orgmodel.OrgSID) orgmodel.Actor {
	return orgmodel.Actor{OrgSID: org, Label: "scim:test", Via: "scim"}
}

// group creates a group of org through provisioning.
func (e *env) group(org orgmodel.OrgSID, name string, members ...orgmodel.UserSID) *orgmodel.Group {
	e.t.Helper()
	g, err := e.svc.CreateGroup(e.ctx, scimAgent(org), org, orgmodel.GroupInput{DisplayName: name, Members: members})
	require.NoError(e.t, err)
	return g
}

func (e *env) role(org orgmodel.OrgSID, u orgmodel.UserSID) orgmodel.Role {
	e.t.Helper()
	got, err := e.svc.GetUser(e.ctx, e.op, org, u)
	require.NoError(e.t, err)
	return got.Role
}

// grant is u's grant on acct, or nil.
func (e *env) grant(org orgmodel.OrgSID, acct orgmodel.AccountSID, u orgmodel.UserSID) *orgmodel.Grant {
	e.t.Helper()
	gs, err := e.svc.ListGrants(e.ctx, e.op, org, orgmodel.GrantFilter{UserSID: u, AccountSID: acct})
	require.NoError(e.t, err)
	if len(gs) == 0 {
		return nil
	}
	return gs[0]
}

// TestGroups_MapAndUnmap: the SSO & SCIM page lists the groups with their
// sizes and mappings; a group's page explains what a mapping does and maps
// it — its members become Administrators and get the chosen access on an
// account, the Owner stays Owner, an explicit grant is left alone —
// and unmapping takes back exactly what the group gave. On SQLite and
// PostgreSQL.
func TestGroups_MapAndUnmap(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		r := e.signup("owner@acme.test")
		e.verify(r.OrgSID, "acme.test")
		ann := e.member(r.OrgSID, "ann@acme.test", orgmodel.RoleStandard)
		bob := e.member(r.OrgSID, "bob@acme.test", orgmodel.RoleStandard)
		prod, err := e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Production", "")
		require.NoError(t, err)
		_, err = e.svc.GrantAccess(e.ctx, e.op, prod.SID, bob, "support") // explicit: the group must leave it alone
		require.NoError(t, err)
		eng := e.group(r.OrgSID, "Engineering", ann, bob, r.UserSID)
		e.group(r.OrgSID, "Empty")
		b := e.as(r.UserSID)

		list := b.get("/console/sso")
		require.Equal(t, http.StatusOK, list.status, text(list.body))
		assert.Contains(t, text(list.body), "Groups → roles and account access")
		assert.Contains(t, text(list.body), "Groups 1–2 of 2")
		assert.Contains(t, text(list.body), "Empty 0 nothing Map…")
		assert.Contains(t, text(list.body), "Engineering 3 nothing Map…")
		assert.Contains(t, list.body, `href="/console/sso/groups/`+string(eng.SID)+`"`)

		gp := b.get("/console/sso/groups/" + string(eng.SID))
		require.Equal(t, http.StatusOK, gp.status, text(gp.body))
		page := text(gp.body)
		assert.Contains(t, page, "What a mapping does")
		assert.Contains(t, page, "takes away only what the group gave")
		assert.Contains(t, page, "The Owner is never demoted by a group (R-ROLE-4)")
		assert.Contains(t, page, "Members 3")
		assert.Contains(t, page, "Membership gives nothing")
		for _, m := range []string{"ann@acme.test standard active", "bob@acme.test standard active", "owner@acme.test owner active"} {
			assert.Contains(t, page, m)
		}
		assert.Contains(t, page, "3 shown of 3")
		assert.Contains(t, gp.body, `name="account" value="`+string(prod.SID)+`"`)
		assert.Contains(t, gp.body, `name="account" value="`+string(r.AccountSID)+`"`)

		// Map: the Administrator role and billing on Production.
		got := b.follow("/console/sso/groups/"+string(eng.SID)+"/map", url.Values{
			"role": {"administrator"}, "account": {string(prod.SID)}, "account_role_" + string(prod.SID): {"billing"},
			"account_role_" + string(r.AccountSID): {"developer"}, // not ticked: not given
		})
		assert.Contains(t, text(got.body), `Members of "Engineering" now get the Administrator role, billing on Production`)
		assert.Contains(t, text(got.body), "Membership gives the Administrator role, billing on Production")
		assert.Regexp(t, `value="`+string(prod.SID)+`" checked`, got.body)
		assert.Regexp(t, `<option value="billing" selected>`, got.body)
		assert.Contains(t, got.body, `<input type="radio" name="role" value="administrator" checked>`)
		assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, ann))
		assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, bob))
		assert.Equal(t, orgmodel.RoleOwner, e.role(r.OrgSID, r.UserSID), "a group demoted the Owner")
		require.NotNil(t, e.grant(r.OrgSID, prod.SID, ann))
		assert.Equal(t, orgmodel.AccountBilling, e.grant(r.OrgSID, prod.SID, ann).Role)
		assert.Equal(t, orgmodel.AccountSupport, e.grant(r.OrgSID, prod.SID, bob).Role, "the group changed an explicit grant")
		assert.Nil(t, e.grant(r.OrgSID, r.AccountSID, ann), "an unticked account was given")
		assert.Contains(t, text(b.get("/console/sso").body), "Engineering 3 the Administrator role, billing on Production Map…")

		// The audit log has the mapping, by the Owner from the console, and its effects.
		evs := e.audit(r.OrgSID, "group.map")
		require.Len(t, evs, 1)
		assert.Equal(t, string(r.UserSID), evs[0].Actor)
		assert.Equal(t, "console", evs[0].Via)
		assert.Equal(t, string(eng.SID), evs[0].Target)
		assert.Len(t, e.audit(r.OrgSID, "user.role"), 2)

		// Whoever joins later gets it too.
		cat := e.member(r.OrgSID, "cat@acme.test", orgmodel.RoleStandard)
		_, err = e.svc.ChangeGroup(e.ctx, scimAgent(r.OrgSID), r.OrgSID, eng.SID,
			[]orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: []orgmodel.UserSID{cat}}}, 0)
		require.NoError(t, err)
		assert.Equal(t, orgmodel.RoleAdministrator, e.role(r.OrgSID, cat))

		// Unmap: back to what each had without the group.
		got = b.follow("/console/sso/groups/"+string(eng.SID)+"/map", url.Values{"clear": {"1"}})
		assert.Contains(t, text(got.body), `"Engineering" gives nothing any more: its members lost what it had given them, and nothing else.`)
		assert.Contains(t, text(got.body), "Membership gives nothing")
		assert.NotContains(t, text(got.body), "Stop giving anything")
		for _, u := range []orgmodel.UserSID{ann, bob, cat} {
			assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, u))
		}
		assert.Equal(t, orgmodel.RoleOwner, e.role(r.OrgSID, r.UserSID))
		assert.Nil(t, e.grant(r.OrgSID, prod.SID, ann), "unmapping left the group's grant")
		require.NotNil(t, e.grant(r.OrgSID, prod.SID, bob), "unmapping took an explicit grant")
		assert.Equal(t, orgmodel.AccountSupport, e.grant(r.OrgSID, prod.SID, bob).Role)

		// Account access alone, with the form's "None" role.
		got = b.follow("/console/sso/groups/"+string(eng.SID)+"/map", url.Values{
			"role": {"none"}, "account": {string(r.AccountSID)}, "account_role_" + string(r.AccountSID): {"developer"}})
		assert.Contains(t, text(got.body), `now get developer on `)
		assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, ann))
		require.NotNil(t, e.grant(r.OrgSID, r.AccountSID, ann))
		assert.Equal(t, orgmodel.AccountDeveloper, e.grant(r.OrgSID, r.AccountSID, ann).Role)
	})
}

// TestGroups_Refusals: a refused mapping is shown next to the form with
// its rule and what to do, the form as submitted; a Standard user gets
// R-ROLE-3; another organization's group is the same 404 as a missing
// one, on the page and on the form; nothing changes.
func TestGroups_Refusals(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	ann := e.member(r.OrgSID, "ann@acme.test", orgmodel.RoleStandard)
	g := e.group(r.OrgSID, "Engineering", ann)
	other := e.signup("boss@beta.test")
	theirs := e.group(other.OrgSID, "Their admins", other.UserSID)
	b := e.as(r.UserSID)
	mapPath := "/console/sso/groups/" + string(g.SID) + "/map"

	// The Owner role is never a group's to give (a tampered form).
	p := b.post(mapPath, url.Values{"role": {"owner"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	ref := refusal(p.body, "map")
	assert.Contains(t, ref, "R-ROLE-4 the Owner role is never assigned")
	assert.Contains(t, ref, "What to do: The Owner role changes hands only by a transfer")
	// Another organization's account is not one this organization may give.
	p = b.post(mapPath, url.Values{"role": {"administrator"}, "account": {string(other.AccountSID)}})
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.Contains(t, refusal(p.body, "map"), "account "+string(other.AccountSID)+" not found")
	assert.Contains(t, p.body, `<input type="radio" name="role" value="administrator" checked>`, "the form is not shown as submitted")
	p = b.post(mapPath, url.Values{"account": {string(r.AccountSID)}, "account_role_" + string(r.AccountSID): {"root"}, "role": {"none"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.NotEmpty(t, refusal(p.body, "map"))
	assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, ann))
	assert.Empty(t, e.audit(r.OrgSID, "group.map"))

	// A Standard user: R-ROLE-3 on the page and the form.
	std := e.as(ann)
	for _, p := range []page{std.get("/console/sso/groups/" + string(g.SID)), std.post(mapPath, url.Values{"role": {"administrator"}})} {
		assert.Equal(t, http.StatusForbidden, p.status)
		assert.Contains(t, text(p.body), "R-ROLE-3")
		assert.Contains(t, text(p.body), "ask the organization's Owner or an Administrator")
	}
	assert.NotContains(t, std.get("/console/").body, "/console/sso")
	assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, ann), "a Standard user mapped a group")

	// Another organization's group answers exactly as a missing one.
	missing := "GR" + strings.Repeat("0", 32)
	norm := strings.NewReplacer(missing, "X", string(theirs.SID), "X")
	want := b.get("/console/sso/groups/" + missing)
	require.Equal(t, http.StatusNotFound, want.status)
	for _, p := range []page{
		b.get("/console/sso/groups/" + string(theirs.SID)),
		b.post("/console/sso/groups/"+string(theirs.SID)+"/map", url.Values{"role": {"administrator"}}),
		b.post("/console/sso/groups/"+missing+"/map", url.Values{"role": {"administrator"}}),
	} {
		assert.Equal(t, http.StatusNotFound, p.status)
		assert.Equal(t, text(norm.Replace(want.body)), text(norm.Replace(p.body)))
	}
	assert.Equal(t, http.StatusNotFound, b.get("/console/sso/groups/not-a-sid").status)
	assert.NotContains(t, b.get("/console/sso").body, "Their admins")
	assert.Equal(t, orgmodel.RoleOwner, e.role(other.OrgSID, other.UserSID))
	got, err := e.svc.GetGroup(e.ctx, e.op, other.OrgSID, theirs.SID, false)
	require.NoError(t, err)
	assert.Empty(t, got.Role, "another organization's group was mapped")
}

// TestGroups_SetupLinkCannotMap: a setup link configures SSO and SCIM but
// never reaches the group mappings: its page lists no group and says who
// maps them, the group pages are not under /console/setup, and the
// console's own group pages need a session.
func TestGroups_SetupLinkCannotMap(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	ann := e.member(r.OrgSID, "ann@acme.test", orgmodel.RoleStandard)
	g := e.group(r.OrgSID, "Engineering", ann)
	l, err := e.svc.CreateSetupLink(e.ctx, e.op, r.OrgSID, "okta", time.Hour)
	require.NoError(t, err)
	it := e.anonymous()
	require.Equal(t, http.StatusSeeOther, it.get(strings.TrimPrefix(l.URL, e.srv.URL)).status)
	setup := it.get("/console/setup/sso")
	require.Equal(t, http.StatusOK, setup.status)
	assert.NotContains(t, setup.body, "Engineering")
	assert.NotContains(t, setup.body, "/groups")
	assert.Contains(t, text(setup.body), "mapping a group grants roles, so a setup link cannot")

	for _, p := range []page{
		it.get("/console/setup/sso/groups/" + string(g.SID)),
		it.post("/console/setup/sso/groups/"+string(g.SID)+"/map", url.Values{"role": {"administrator"}}),
	} {
		assert.Equal(t, http.StatusNotFound, p.status)
	}
	for _, p := range []page{
		it.get("/console/sso/groups/" + string(g.SID)),
		it.post("/console/sso/groups/"+string(g.SID)+"/map", url.Values{"role": {"administrator"}}),
	} {
		assert.Equal(t, http.StatusSeeOther, p.status)
		assert.True(t, strings.HasPrefix(p.location, "/login?"), p.location)
	}
	assert.Equal(t, orgmodel.RoleStandard, e.role(r.OrgSID, ann))
	assert.Empty(t, e.audit(r.OrgSID, "group.map"))

	// The setup links page says so to whoever issues them.
	assert.Contains(t, text(e.as(r.UserSID).get("/console/setup-links").body), "Nor does it map groups to roles or account access")
}

// TestGroups_Paging: a large directory is paged — groups by name, 25 at a
// time, findable by part of their name — and a group's members 50 at a
// time (keyset, by SID), with the count of all of them.
func TestGroups_Paging(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	now := time.Now()
	var users []*orgmodel.User
	var sids []orgmodel.UserSID
	for i := range 120 {
		u := &orgmodel.User{SID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), Email: fmt.Sprintf("u%03d@acme.test", i),
			OrgSID: r.OrgSID, Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
		users = append(users, u)
		sids = append(sids, u.SID)
	}
	require.NoError(t, e.db.SeedUsers(e.ctx, users))
	big := e.group(r.OrgSID, "All staff", sids...)
	for i := range 59 {
		e.group(r.OrgSID, fmt.Sprintf("Team %02d", i), sids[i])
	}
	b := e.as(r.UserSID)

	first := text(b.get("/console/sso").body)
	assert.Contains(t, first, "Groups 1–25 of 60")
	assert.Contains(t, first, "All staff 120 nothing")
	assert.Contains(t, first, "Team 00 1 nothing")
	assert.NotContains(t, first, "Team 24")
	assert.Contains(t, first, "Next →")
	assert.NotContains(t, first, "← Previous")
	last := b.get("/console/sso?gpage=3")
	assert.Contains(t, text(last.body), "Groups 51–60 of 60")
	assert.Contains(t, text(last.body), "Team 58 1 nothing")
	assert.Contains(t, last.body, `href="/console/sso?gpage=2#groups" rel="prev"`)
	assert.NotContains(t, text(last.body), "Next →")
	assert.Contains(t, text(b.get("/console/sso?gpage=9").body), "No groups on this page.")

	found := text(b.get("/console/sso?gq=team+1").body)
	assert.Contains(t, found, "Groups 1–10 of 10 whose name contains “team 1”")
	assert.Contains(t, found, "Team 19")
	assert.NotContains(t, found, "All staff")
	assert.Contains(t, text(b.get("/console/sso?gq=nobody").body), "No group's name contains “nobody”.")
	p := b.get("/console/sso?gq=" + strings.Repeat("x", 300))
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "groups"), "search for at most 256 characters")

	// The big group's members, 50 a page in SID order, each once.
	emails := regexp.MustCompile(`u\d{3}@acme\.test`)
	seen := map[string]bool{}
	next := "/console/sso/groups/" + string(big.SID)
	for i := range 3 {
		p := b.get(next)
		require.Equal(t, http.StatusOK, p.status, text(p.body))
		page := text(p.body)
		assert.Contains(t, page, "Members 120")
		got := emails.FindAllString(page, -1)
		assert.Len(t, got, []int{50, 50, 20}[i], "page %d", i+1)
		for _, m := range got {
			assert.False(t, seen[m], "%s on two pages", m)
			seen[m] = true
		}
		assert.Equal(t, i > 0, strings.Contains(page, "First page"), "page %d", i+1)
		link := regexp.MustCompile(`href="(/console/sso/groups/GR[0-9a-f]{32}\?after=US[0-9a-f]{32})#members" rel="next"`).FindStringSubmatch(p.body)
		if i == 2 {
			assert.Nil(t, link, "the last page offers a next one")
			break
		}
		require.Len(t, link, 2, "page %d has no next link", i+1)
		next = link[1]
	}
	assert.Len(t, seen, 120)
	assert.Equal(t, http.StatusBadRequest, b.get("/console/sso/groups/"+string(big.SID)+"?after=nope").status)
}
