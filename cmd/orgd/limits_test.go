package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
)

// hardened is a served fixture with a credential of every kind.
type hardened struct {
	*fixture
	s                     *server
	acct, authToken, key  string
	scimToken, scimToken2 string
	clientID, secret, jwt string
	session               string
	user                  string // a user of orgA other than the Owner
	group                 string
}

func newHardened(t *testing.T, serveArgs ...string) *hardened {
	t.Helper()
	f := newFixture(t, "sqlite:"+t.TempDir()+"/orgd.db")
	h := &hardened{fixture: f, acct: f.acctA}
	h.authToken = f.ok("account", "rotate-token", "--account", f.acctA).str("auth_token")
	h.key = f.ok("account", "keys", "create", "--account", f.acctA).str("sid")
	h.scimToken = f.ok("scim-token", "create", "--org", f.orgA).str("token")
	h.scimToken2 = f.ok("scim-token", "create", "--org", f.orgA, "--name", "second").str("token")
	oc := f.ok("oauth-client", "create", "--org", f.orgA)
	h.clientID, h.secret = oc.str("client_id"), oc.str("client_secret")
	inv := f.ok("user", "invite", "--org", f.orgA, "--email", "sam@acme.test")
	h.user = f.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword).str("user_sid")
	h.group = f.ok("group", "create", "--org", f.orgA, "--name", "Engineering").str("sid")
	h.s = startServe(t, f.orgdCLI, serveArgs...)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {h.clientID}, "client_secret": {h.secret}}
	resp, err := http.PostForm(h.s.url+"/v2/token", form)
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	h.jwt, _ = tok["access_token"].(string)
	require.NotEmpty(t, h.jwt, "%v", tok)
	h.session = loginSession(t, h.s.url, "owner@acme.test", testPassword)
	return h
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// probe is one request of the body-limit walk.
type probe struct {
	method, path string
	auth         string // Authorization header
	cookie       bool   // the console session
	multipart    bool
	reads        bool // the route reads a body: a cut body is 413 too
}

// surfaceOfProbe is the surface format an answer must be in.
func checkFormat(t *testing.T, p probe, resp *http.Response, body []byte, status int) {
	t.Helper()
	ct := resp.Header.Get("Content-Type")
	switch surfaceOf(p.path) {
	case surfaceSCIM:
		require.Contains(t, ct, "application/scim+json", "%s %s", p.method, p.path)
		var e map[string]any
		require.NoError(t, json.Unmarshal(body, &e), "%s %s: %s", p.method, p.path, body)
		require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, e["schemas"], "%s %s", p.method, p.path)
		require.Equal(t, strconv.Itoa(status), e["status"], "%s %s", p.method, p.path)
		require.NotEmpty(t, e["detail"])
	case surfaceAPI:
		require.Contains(t, ct, "application/json", "%s %s", p.method, p.path)
		var e map[string]any
		require.NoError(t, json.Unmarshal(body, &e), "%s %s: %s", p.method, p.path, body)
		require.EqualValues(t, status, e["status"], "%s %s: %s", p.method, p.path, body)
		require.NotZero(t, e["code"], "%s %s", p.method, p.path)
		require.NotEmpty(t, e["message"], "%s %s", p.method, p.path)
		require.NotEmpty(t, e["more_info"], "%s %s", p.method, p.path)
	case surfaceHTML:
		require.Contains(t, ct, "text/html", "%s %s", p.method, p.path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", "%s %s", p.method, p.path)
	default:
		require.Contains(t, ct, "application/json", "%s %s", p.method, p.path)
		require.Contains(t, string(body), `"error"`)
	}
}

// TestLimits_EveryRouteRefusesOversizedBodies walks the router orgd
// serves (chi.Walk) and sends a body over the limit to every route, with
// the credential its surface needs: once with its length declared (refused
// before any handler) and once chunked (cut while read). Every answer is
// 413 in the surface's error format — the SCIM error schema, Twilio's
// error JSON, an HTML page — never a 500; a route that reads no body may
// answer its usual refusal (405, 404) to the chunked one.
func TestLimits_EveryRouteRefusesOversizedBodies(t *testing.T) {
	h := newHardened(t, "--login-rate", "0", "--token-rate", "0", "--auth-fail-rate", "0")
	A, US, AC, SK := h.orgA, h.user, h.acct, h.key
	scim, jwt, basic := "Bearer "+h.scimToken, "Bearer "+h.jwt, basicAuth(h.acct, h.authToken)
	probes := []probe{
		{method: "POST", path: "/healthz"}, {method: "POST", path: "/readyz"}, {method: "POST", path: "/metrics"},
		{method: "POST", path: "/openapi.json", auth: basic},
		{method: "POST", path: "/scim/v2/Users", auth: scim, reads: true},
		{method: "PUT", path: "/scim/v2/Users/" + US, auth: scim, reads: true},
		{method: "PATCH", path: "/scim/v2/Users/" + US, auth: scim, reads: true},
		{method: "POST", path: "/scim/v2/Groups", auth: scim, reads: true},
		{method: "PUT", path: "/scim/v2/Groups/" + h.group, auth: scim, reads: true},
		{method: "PATCH", path: "/scim/v2/Groups/" + h.group, auth: scim, reads: true},
		{method: "POST", path: "/scim/v2/Groups/.search", auth: scim, reads: true},
		{method: "PUT", path: "/scim/v2/.search", auth: scim}, {method: "PATCH", path: "/scim/v2/.search", auth: scim},
		{method: "PUT", path: "/scim/v2/Users/.search", auth: scim}, {method: "PATCH", path: "/scim/v2/Users/.search", auth: scim},
		{method: "PUT", path: "/scim/v2/Groups/.search", auth: scim}, {method: "PATCH", path: "/scim/v2/Groups/.search", auth: scim},
		{method: "POST", path: "/scim/v2/Me", auth: scim}, {method: "PUT", path: "/scim/v2/Me", auth: scim},
		{method: "PATCH", path: "/scim/v2/Me", auth: scim}, {method: "POST", path: "/scim/v2/Me/x", auth: scim},
		{method: "PUT", path: "/scim/v2/Me/x", auth: scim}, {method: "PATCH", path: "/scim/v2/Me/x", auth: scim},
		{method: "POST", path: "/scim/v2/Bulk", auth: scim, reads: true},
		{method: "POST", path: "/scim/v2/.search", auth: scim, reads: true},
		{method: "POST", path: "/scim/v2/Users/.search", auth: scim, reads: true},
		{method: "POST", path: "/Organizations/" + A + "/scim/Users", auth: jwt, reads: true},
		{method: "PATCH", path: "/Organizations/" + A + "/scim/Users/" + US, auth: jwt, reads: true},
		{method: "POST", path: "/Organizations/" + A + "/RoleAssignments", auth: jwt, reads: true},
		{method: "POST", path: "/2010-04-01/Accounts.json", auth: basic, reads: true},
		{method: "POST", path: "/2010-04-01/Accounts/" + AC + ".json", auth: basic, reads: true},
		{method: "POST", path: "/2010-04-01/Accounts/" + AC + "/Keys.json", auth: basic, reads: true},
		{method: "POST", path: "/2010-04-01/Accounts/" + AC + "/Keys/" + SK + ".json", auth: basic, reads: true},
		{method: "POST", path: "/v2/token", reads: true},
		{method: "POST", path: "/login", reads: true}, {method: "POST", path: "/login/password", reads: true},
		{method: "POST", path: "/login/2fa", reads: true}, {method: "POST", path: "/logout", reads: true},
		{method: "POST", path: "/forgot", reads: true}, {method: "POST", path: "/reset", reads: true},
		{method: "POST", path: "/signup", reads: true}, {method: "POST", path: "/signup/confirm", reads: true},
		{method: "POST", path: "/sso/saml/" + A + "/acs", reads: true},
		{method: "POST", path: "/console", cookie: true},
		{method: "POST", path: "/console/accounts", cookie: true, reads: true},
		{method: "POST", path: "/console/users/invite", cookie: true, reads: true},
		{method: "POST", path: "/console/users/import", cookie: true, multipart: true, reads: true},
		{method: "POST", path: "/console/sso/idp", cookie: true, multipart: true, reads: true},
		{method: "POST", path: "/console/org/rename", cookie: true, reads: true},
		{method: "POST", path: "/console/setup-links", cookie: true, reads: true},
		{method: "POST", path: "/console/confirm-import", reads: true},
	}

	// Every route of the router serve builds is probed.
	svc := testService(t, h.env["ORGD_DB"], h.dns.addr, time.Now)
	router := mountAll(newRouter(discardLog(), nopPinger{}, newMetrics()), svc, h.s.url, discardLog(), serveLimits{loginBurst: 1})
	covered := map[string]bool{}
	require.NoError(t, chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != "POST" && method != "PUT" && method != "PATCH" {
			return nil
		}
		re := routeRE(route)
		key := method + " " + route
		covered[key] = covered[key] || false
		for _, p := range probes {
			if re.MatchString(p.path) && (p.method == method || !strings.Contains(route, "/*/")) {
				covered[key] = true
			}
		}
		return nil
	}))
	require.Greater(t, len(covered), 20, "the walk found the routes")
	var missing []string
	for route, ok := range covered {
		if !ok {
			missing = append(missing, route)
		}
	}
	require.Empty(t, missing, "routes without a probe: add them")

	big := bytes.Repeat([]byte("a"), maxBodyBytes+512<<10)
	for _, p := range probes {
		for _, chunked := range []bool{false, true} {
			if chunked && !p.reads {
				continue
			}
			// A body that parses as far as it goes, so that a handler reads
			// it up to the limit: a long JSON string, form value or upload.
			ct, prefix := "application/x-www-form-urlencoded", "name="
			mw := multipart.NewWriter(io.Discard)
			switch {
			case p.multipart:
				ct, prefix = mw.FormDataContentType(), "--"+mw.Boundary()+"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n"
			case surfaceOf(p.path) == surfaceSCIM:
				ct, prefix = "application/scim+json", `{"displayName":"`
			case strings.HasSuffix(p.path, "RoleAssignments"):
				ct, prefix = "application/json", `{"role_sid":"`
			}
			var body io.Reader = io.MultiReader(strings.NewReader(prefix), bytes.NewReader(big))
			if !chunked {
				body = bytes.NewReader(append([]byte(prefix), big...))
			}
			req, err := http.NewRequest(p.method, h.s.url+p.path, body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if p.auth != "" {
				req.Header.Set("Authorization", p.auth)
			}
			if p.cookie {
				req.AddCookie(&http.Cookie{Name: "orgd_session", Value: h.session})
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err, "%s %s (chunked %v)", p.method, p.path, chunked)
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equalf(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s %s (chunked %v): %s", p.method, p.path, chunked, rb)
			checkFormat(t, p, resp, rb, http.StatusRequestEntityTooLarge)
			require.Contains(t, strings.ToLower(string(rb)), "larger than", "%s %s: the answer says what was wrong", p.method, p.path)
		}
	}
	require.NotContains(t, h.s.stderr.String(), `"status":500`, "no 500 was logged")
}

// routeRE matches the paths of a chi route pattern ({param} one segment,
// a mount's "/*/" nothing more, a final "*" the rest).
func routeRE(route string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	rest := route
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "/*/"):
			b.WriteString("/")
			rest = rest[3:]
		case rest == "*":
			b.WriteString(".*")
			rest = ""
		case rest[0] == '{':
			end := strings.IndexByte(rest, '}')
			b.WriteString("[^/]+")
			rest = rest[end+1:]
		default:
			b.WriteString(regexp.QuoteMeta(rest[:1]))
			rest = rest[1:]
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
