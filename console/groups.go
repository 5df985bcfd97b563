package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// Group mappings (SSO & SCIM → Groups): what membership of a group the
// identity provider pushes gives — the Administrator role, access to
// accounts. orgmodel.MapGroup decides and grants; membership changes
// through SCIM grant and take away from then on. Only the Owner and
// Administrators reach these pages: a setup link, which may configure the
// identity provider, must not hand out roles.

// groupsPageSize is how many groups one page of the list shows.
const groupsPageSize = 25

// groupMembersPageSize is how many members one page of a group shows.
const groupMembersPageSize = 50

// maxGroupQuery bounds the text a person may search groups by.
const maxGroupQuery = 256

// groupsList is one page of the organization's groups, with their sizes
// (counted by the store: no member is read) and what they give.
type groupsList struct {
	Rows       []groupRow
	Total      int
	From, To   int
	Q          string
	Prev, Next string // links to the neighbouring pages ("" at an end)
}

type groupRow struct {
	*orgmodel.Group
	Gives []string
}

// accountRoles are the account-scope roles a group may give, strongest first.
var accountRoles = []orgmodel.AccountRole{orgmodel.AccountAdministrator, orgmodel.AccountDeveloper, orgmodel.AccountBilling, orgmodel.AccountSupport}

// gives says in words what membership of g gives, the role first.
func gives(g *orgmodel.Group, names map[orgmodel.AccountSID]string) []string {
	var out []string
	if g.Role == orgmodel.RoleAdministrator {
		out = append(out, "the Administrator role")
	}
	for _, ga := range g.Accounts {
		name := names[ga.AccountSID]
		if name == "" {
			name = string(ga.AccountSID)
		}
		out = append(out, fmt.Sprintf("%s on %s", ga.Role, name))
	}
	return out
}

// accountNames maps the organization's accounts to their names.
func (h *handler) accountNames(r *http.Request, me *who) (map[orgmodel.AccountSID]string, []*orgmodel.AccountView, error) {
	accts, err := h.svc.ListAccounts(r.Context(), me.actor, me.org)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[orgmodel.AccountSID]string, len(accts))
	for _, a := range accts {
		names[a.SID] = a.FriendlyName
	}
	return names, accts, nil
}

// pageNumber reads a 1-based page number; anything else is page 1.
func pageNumber(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 1
	}
	return n
}

// groupsOf reads one page of the organization's groups for the SSO &
// SCIM page: ?gq= finds groups whose name contains it (without regard to
// case), ?gpage= pages.
func (h *handler) groupsOf(r *http.Request, me *who) (*groupsList, error) {
	q := r.URL.Query()
	find := strings.TrimSpace(q.Get("gq"))
	if len(find) > maxGroupQuery {
		return nil, orgmodel.Invalid("gq", "search for at most %d characters of a group's name", maxGroupQuery)
	}
	page := pageNumber(q.Get("gpage"))
	query := orgmodel.Query{Sort: orgmodel.Sort{Col: orgmodel.GroupColName},
		Offset: (page - 1) * groupsPageSize, Limit: groupsPageSize, MemberCounts: true}
	if find != "" {
		query.Cond = orgmodel.ColCond{Col: orgmodel.GroupColName, Op: orgmodel.OpCo, Value: find}
	}
	gs, total, err := h.svc.SearchGroups(r.Context(), me.actor, me.org, query)
	if err != nil {
		return nil, err
	}
	out := &groupsList{Total: total, Q: find}
	var names map[orgmodel.AccountSID]string
	for _, g := range gs {
		if len(g.Accounts) > 0 && names == nil {
			if names, _, err = h.accountNames(r, me); err != nil {
				return nil, err
			}
		}
		out.Rows = append(out.Rows, groupRow{Group: g, Gives: gives(g, names)})
	}
	if len(gs) > 0 {
		out.From, out.To = query.Offset+1, query.Offset+len(gs)
	}
	link := func(p int) string {
		v := url.Values{}
		if find != "" {
			v.Set("gq", find)
		}
		if p > 1 {
			v.Set("gpage", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return "/console/sso#groups"
		}
		return "/console/sso?" + v.Encode() + "#groups"
	}
	if page > 1 {
		out.Prev = link(min(page-1, max(1, (total+groupsPageSize-1)/groupsPageSize)))
	}
	if query.Offset+len(gs) < total {
		out.Next = link(page + 1)
	}
	return out, nil
}

// groupData is one group's page: the group, a page of its members, and
// the mapping form.
type groupData struct {
	Group    *orgmodel.Group
	Gives    []string
	Members  []*orgmodel.User // one page, in SID order
	Total    int              // members in all
	First    string           // the first page, when this is not it
	Next     string           // the next page, "" on the last
	Admin    bool             // the form's role choice
	Accounts []mapRow         // the form's account choices
	Roles    []orgmodel.AccountRole
}

// mapRow is one account of the mapping form.
type mapRow struct {
	SID      orgmodel.AccountSID
	Name     string
	Relation orgmodel.Relation
	Sub      bool // a subaccount
	Gone     bool // mapped, but no longer an account of the organization
	Checked  bool
	Role     orgmodel.AccountRole
}

func (h *handler) groupPage(w http.ResponseWriter, r *http.Request) {
	h.showGroup(w, r, nil)
}

// showGroup renders a group's page; a group of another organization is
// the same 404 as one that does not exist. The group, one page of its
// members (?after= the last SID of the page before) and their number come
// in one read that touches only that page's members
// (orgmodel.GroupMembersPage), whatever the group's size.
func (h *handler) showGroup(w http.ResponseWriter, r *http.Request, v *view) {
	me := whoOf(r)
	sid := orgmodel.GroupSID(chi.URLParam(r, "sid"))
	after := orgmodel.UserSID(r.URL.Query().Get("after"))
	p, err := h.svc.GroupMembersPage(r.Context(), me.actor, me.org, sid, after, groupMembersPageSize)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	g := p.Group
	names, accts, err := h.accountNames(r, me)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, g.DisplayName, "sso")
	d := &groupData{Group: g, Gives: gives(g, names), Members: p.Members, Total: p.Total, Roles: accountRoles}
	base := "/console/sso/groups/" + string(g.SID)
	if after != "" {
		d.First = base + "#members"
	}
	if p.Next != "" {
		d.Next = base + "?after=" + url.QueryEscape(string(p.Next)) + "#members"
	}

	// The form shows the mapping as it is, or as submitted when refused.
	d.Admin = g.Role == orgmodel.RoleAdministrator
	want := make(map[orgmodel.AccountSID]orgmodel.AccountRole, len(g.Accounts))
	for _, ga := range g.Accounts {
		want[ga.AccountSID] = ga.Role
	}
	if _, resubmitted := v.Form["role"]; resubmitted {
		d.Admin = v.Form.Get("role") == string(orgmodel.RoleAdministrator)
		want = map[orgmodel.AccountSID]orgmodel.AccountRole{}
		for _, a := range v.Form["account"] {
			want[orgmodel.AccountSID(a)] = orgmodel.AccountRole(v.Form.Get("account_role_" + a))
		}
	}
	seen := map[orgmodel.AccountSID]bool{}
	for _, a := range accts {
		_, mapped := want[a.SID]
		// Offered: the accounts access may be given to (not pending, not
		// closed); subaccounts only when already mapped, to keep the form short.
		if !mapped && (a.Relation == orgmodel.RelationPending || a.Status == orgmodel.AccountClosed || a.ParentSID != "") {
			continue
		}
		seen[a.SID] = true
		d.Accounts = append(d.Accounts, mapRow{SID: a.SID, Name: a.FriendlyName, Relation: a.Relation, Sub: a.ParentSID != "",
			Checked: mapped, Role: roleOr(want[a.SID])})
	}
	for _, ga := range g.Accounts {
		if !seen[ga.AccountSID] {
			d.Accounts = append(d.Accounts, mapRow{SID: ga.AccountSID, Name: string(ga.AccountSID), Gone: true, Role: ga.Role})
		}
	}
	v.Data = d
	h.render(w, r, "group.html", v)
}

// roleOr is r, or the default account role (developer) when r is "".
func roleOr(r orgmodel.AccountRole) orgmodel.AccountRole {
	if r == "" {
		return orgmodel.AccountDeveloper
	}
	return r
}

// mapGroup sets what membership of a group gives (orgmodel.MapGroup:
// R-ROLE-3, never the Owner role R-ROLE-4, accounts the organization may
// grant R-ACCT-8); the group's current members gain or lose it at once.
func (h *handler) mapGroup(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	sid := orgmodel.GroupSID(chi.URLParam(r, "sid"))
	role := r.PostFormValue("role")
	if role == "none" {
		role = ""
	}
	var access []orgmodel.GroupAccess
	if r.PostFormValue("clear") != "" {
		role = ""
	} else {
		for _, a := range r.PostForm["account"] {
			access = append(access, orgmodel.GroupAccess{AccountSID: orgmodel.AccountSID(a),
				Role: orgmodel.AccountRole(r.PostFormValue("account_role_" + a))})
		}
	}
	g, err := h.svc.MapGroup(r.Context(), me.actor, me.org, sid, role, access)
	if err != nil {
		h.refused(w, r, err, "map", h.showGroup)
		return
	}
	var msg string
	if g.Role == "" && len(g.Accounts) == 0 {
		msg = fmt.Sprintf("%q gives nothing any more: its members lost what it had given them, and nothing else.", g.DisplayName)
	} else {
		names, _, err := h.accountNames(r, me)
		if err != nil {
			names = nil // the mapping is saved; the notice names accounts by SID
		}
		msg = fmt.Sprintf("Members of %q now get %s: its current members have it now, whoever joins gets it, whoever leaves loses what the group gave.",
			g.DisplayName, strings.Join(gives(g, names), ", "))
	}
	h.done(w, r, "/console/sso/groups/"+string(g.SID), msg)
}
