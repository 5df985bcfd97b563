package console_test

import (
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

// TestLoginRequired: without a live session every page sends the browser
// to the login page, which comes back to the page asked for (a local path
// only); a form POST comes back to the console's start.
func TestLoginRequired(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	anon := e.anonymous()
	for _, path := range []string{"/console/", "/console/accounts", "/console/users", "/console/audit?action=user.", "/console/accounts/" + string(r.AccountSID)} {
		p := anon.get(path)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		assert.Equal(t, "/login?next="+url.QueryEscape(path), p.location, path)
	}
	p := anon.post("/console/accounts", url.Values{"name": {"X"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	assert.Equal(t, "/login?next=%2Fconsole%2F", p.location)
	// A garbage cookie, an ended session and an expired one are no session.
	b := e.as(r.UserSID)
	require.Equal(t, http.StatusOK, b.get("/console/").status)
	require.NoError(t, e.svc.EndSession(e.ctx, orgmodel.Actor{Via: "sso"}, b.token))
	assert.Equal(t, http.StatusSeeOther, b.get("/console/").status)
	u, _ := url.Parse(e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: orgmodel.SessionCookie, Value: "ses_forged0000000000", Path: "/"}})
	assert.Equal(t, http.StatusSeeOther, b.get("/console/").status)
	// /console redirects to /console/.
	p = anon.get("/console")
	assert.Equal(t, http.StatusMovedPermanently, p.status)
	assert.Equal(t, "/console/", p.location)
	// Nothing was created.
	accts, err := e.svc.ListAccounts(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Len(t, accts, 1)
}

// TestSecurityHeaders: a strict CSP without inline script, no framing, no
// referrer, no caching of pages; every page loads only its own script file.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	g, err := e.svc.CreateGroup(e.ctx, e.op, r.OrgSID, orgmodel.GroupInput{DisplayName: "Staff", Members: []orgmodel.UserSID{r.UserSID}})
	require.NoError(t, err)
	b := e.as(r.UserSID)
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=|javascript:|style="`)
	for _, path := range []string{"/console/", "/console/accounts", "/console/accounts/" + string(r.AccountSID), "/console/users",
		"/console/users/" + string(r.UserSID), "/console/domains", "/console/sso", "/console/sso/groups/" + string(g.SID), "/console/org", "/console/audit",
		"/console/setup-links", "/console/nope"} {
		p := b.get(path)
		csp := p.header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", path)
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.Equal(t, "DENY", p.header.Get("X-Frame-Options"), path)
		assert.Equal(t, "nosniff", p.header.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "no-referrer", p.header.Get("Referrer-Policy"), path)
		assert.Equal(t, "no-store", p.header.Get("Cache-Control"), path)
		assert.Empty(t, p.header.Get("Strict-Transport-Security"), "no HSTS over http")
		assert.False(t, inline.MatchString(p.body), "%s has inline script or style: %s", path, inline.FindString(p.body))
		assert.Contains(t, p.body, `<script src="/console/assets/console.js" defer></script>`, path)
		assert.Contains(t, p.body, `<main id="main"`, path)
		assert.Contains(t, p.body, `<html lang="en">`, path)
	}
	// Assets are embedded and served from this origin.
	css := b.get("/console/assets/console.css")
	require.Equal(t, http.StatusOK, css.status)
	assert.Contains(t, css.header.Get("Content-Type"), "text/css")
	assert.NotContains(t, css.body, "http://")
	assert.NotContains(t, css.body, "https://")
	js := b.get("/console/assets/console.js")
	require.Equal(t, http.StatusOK, js.status)
	assert.NotContains(t, js.body, "fetch(")
	assert.Equal(t, http.StatusNotFound, b.get("/console/assets/nope.js").status)
}

// TestCrossOriginPOSTIsRefused: http.CrossOriginProtection stops a form
// posted from another site before anything changes.
func TestCrossOriginPOSTIsRefused(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)
	for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.test"}} {
		req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+"/console/accounts", strings.NewReader("name=Evil"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		p := b.do(req)
		assert.Equal(t, http.StatusForbidden, p.status, "%v", hdr)
		assert.Contains(t, text(p.body), "sent from another site")
	}
	accts, err := e.svc.ListAccounts(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Len(t, accts, 1, "a cross-site form created an account")
}

// TestIsolation: a user of organization A gets, for every object of
// organization B, exactly the answer for an object that does not exist —
// on pages and on forms — and nothing of B changes.
func TestIsolation(t *testing.T) {
	e := newEnv(t)
	a := e.signup("owner@acme.test")
	bOrg := e.signup("boss@beta.test")
	e.verify(bOrg.OrgSID, "beta.test")
	bUser := e.member(bOrg.OrgSID, "dev@beta.test", orgmodel.RoleStandard)
	_, err := e.svc.CreateSetupLink(e.ctx, e.op, bOrg.OrgSID, "b", time.Hour)
	require.NoError(t, err)
	before := e.audit(bOrg.OrgSID, "")
	br := e.as(a.UserSID)
	missingAcct := "AC" + strings.Repeat("0", 32)
	missingUser := "US" + strings.Repeat("0", 32)
	notFound := br.get("/console/accounts/" + missingAcct)
	require.Equal(t, http.StatusNotFound, notFound.status)
	notFoundUser := br.get("/console/users/" + missingUser)
	require.Equal(t, http.StatusNotFound, notFoundUser.status)
	// same asserts that p is exactly the page for a missing object.
	same := func(path string, p page) {
		t.Helper()
		want := notFound.body
		if strings.Contains(path, "/users/") {
			want = notFoundUser.body
		}
		norm := strings.NewReplacer(missingAcct, "X", missingUser, "X", string(bOrg.AccountSID), "X", string(bUser), "X")
		assert.Equal(t, http.StatusNotFound, p.status, path)
		assert.Equal(t, text(norm.Replace(want)), text(norm.Replace(p.body)), path)
	}
	same("/console/accounts/B", br.get("/console/accounts/"+string(bOrg.AccountSID)))
	same("/console/users/B", br.get("/console/users/"+string(bUser)))
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/console/accounts/" + string(bOrg.AccountSID) + "/status", url.Values{"status": {"closed"}}},
		{"/console/accounts/" + string(bOrg.AccountSID) + "/rename", url.Values{"name": {"pwned"}}},
		{"/console/accounts/" + string(bOrg.AccountSID) + "/hipaa", url.Values{"enabled": {"true"}}},
		{"/console/accounts/" + string(bOrg.AccountSID) + "/transfer", url.Values{"to": {"owner@acme.test"}}},
		{"/console/accounts/" + string(bOrg.AccountSID) + "/subaccounts", url.Values{"name": {"x"}}},
		{"/console/accounts/" + string(bOrg.AccountSID) + "/grants", url.Values{"user": {string(a.UserSID)}}},
		{"/console/users/" + string(bUser) + "/role", url.Values{"role": {"administrator"}}},
		{"/console/users/" + string(bUser) + "/remove", nil},
		{"/console/users/" + string(bUser) + "/reset-password", nil},
		{"/console/users/" + string(bUser) + "/reset-2fa", nil},
		{"/console/users/" + string(bUser) + "/active", url.Values{"active": {"false"}}},
		{"/console/users/" + string(bUser) + "/owner", nil},
	} {
		p := br.post(post.path, post.form)
		same(post.path, p)
	}
	// B's domain is not A's to verify or configure; A's pages never list B's things.
	p := br.post("/console/domains/beta.test/verify", nil)
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.Contains(t, text(p.body), "domain beta.test not found")
	for _, path := range []string{"/console/accounts", "/console/users", "/console/domains", "/console/audit", "/console/setup-links", "/console/sso"} {
		body := br.get(path).body
		for _, secret := range []string{string(bOrg.AccountSID), string(bUser), "dev@beta.test", "beta.test", string(bOrg.OrgSID)} {
			assert.NotContains(t, body, secret, "%s shows %s of another organization", path, secret)
		}
	}
	assert.Equal(t, len(before), len(e.audit(bOrg.OrgSID, "")), "B changed")
}

// TestStandardUser: a Standard user sees only the accounts it owns or was
// granted, can create accounts (R-ACCT-2), and reaches no admin page
// (R-ROLE-3, decided by orgmodel.CheckAdmin).
func TestStandardUser(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	std := e.member(r.OrgSID, "std@acme.test", orgmodel.RoleStandard)
	granted, err := e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Granted", "")
	require.NoError(t, err)
	hidden, err := e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Hidden", "")
	require.NoError(t, err)
	_, err = e.svc.GrantAccess(e.ctx, e.op, granted.SID, std, "developer")
	require.NoError(t, err)
	b := e.as(std)

	home := b.get("/console/")
	require.Equal(t, http.StatusOK, home.status)
	assert.NotContains(t, home.body, `href="/console/users"`, "the navigation offers admin pages to a Standard user")
	list := b.get("/console/accounts")
	assert.Contains(t, list.body, "Granted")
	assert.NotContains(t, list.body, "Hidden")
	assert.NotContains(t, list.body, string(r.AccountSID))
	assert.NotContains(t, list.body, "Add an existing account")
	assert.Equal(t, http.StatusNotFound, b.get("/console/accounts/"+string(hidden.SID)).status)
	acct := b.get("/console/accounts/" + string(granted.SID))
	require.Equal(t, http.StatusOK, acct.status)
	assert.NotContains(t, acct.body, "Access grants")
	assert.NotContains(t, acct.body, "Transfer ownership")

	// It creates an account of its own, which it then sees and runs.
	p := b.post("/console/accounts", url.Values{"name": {"Mine"}, "usage": {"flex"}})
	require.Equal(t, http.StatusCreated, p.status, text(p.body))
	assert.Contains(t, b.get("/console/accounts").body, "Mine")

	for _, path := range []string{"/console/users", "/console/users/" + string(r.UserSID), "/console/domains", "/console/sso", "/console/org",
		"/console/audit", "/console/audit.csv", "/console/setup-links", "/console/org/merge?candidate=" + string(r.OrgSID)} {
		p := b.get(path)
		assert.Equal(t, http.StatusForbidden, p.status, path)
		assert.Contains(t, text(p.body), "R-ROLE-3", path)
		assert.Contains(t, text(p.body), "ask the organization's Owner or an Administrator", path)
	}
	for _, path := range []string{"/console/users/invite", "/console/domains", "/console/org/baa", "/console/setup-links", "/console/sso/scim-tokens", "/console/org/merge"} {
		p := b.post(path, url.Values{"email": {"x@acme.test"}, "domain": {"x.test"}, "ttl": {"1h"}})
		assert.Equal(t, http.StatusForbidden, p.status, path)
		assert.Contains(t, text(p.body), "R-ROLE-3", path)
	}
	// Granted access is not management: the lifecycle of someone else's account is refused.
	p = b.post("/console/accounts/"+string(granted.SID)+"/status", url.Values{"status": {"suspended"}})
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, text(p.body), "R-ROLE-3 you may not suspend on this account")
	p = b.post("/console/accounts/"+string(granted.SID)+"/hipaa", url.Values{"enabled": {"true"}})
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, text(p.body), "R-ROLE-3")
}

// TestNotFoundAndMethods: unknown pages are the same 404; a wrong method
// is refused with a page.
func TestNotFoundAndMethods(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)
	p := b.get("/console/no/such/page")
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.Contains(t, text(p.body), "Not found")
	p = b.get("/console/accounts/not-a-sid")
	assert.Equal(t, http.StatusBadRequest, p.status)
	p = b.post("/console/audit", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, p.status)
}
