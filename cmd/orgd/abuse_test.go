package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// client returns an HTTP client that does not follow redirects and, when
// from is not "", connects from that loopback address (127.0.0.2 and
// others reach the server as other client IPs).
func httpFrom(from string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		tr.DialContext = d.DialContext
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func retryAfterSeconds(t *testing.T, resp *http.Response) int {
	t.Helper()
	v := resp.Header.Get("Retry-After")
	n, err := strconv.Atoi(v)
	require.NoErrorf(t, err, "Retry-After %q is whole seconds", v)
	require.Positive(t, n)
	return n
}

// TestSlowloris: a client that sends its headers a byte at a time is cut
// off by the read-header timeout (set short with --read-header-timeout),
// and the server keeps answering others.
func TestSlowloris(t *testing.T) {
	c := newCLI(t, "sqlite:"+t.TempDir()+"/orgd.db")
	s := startServe(t, c, "--read-header-timeout", "300ms", "--read-timeout", "2s")
	addr := strings.TrimPrefix(s.url, "http://")

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: orgd\r\n")
	require.NoError(t, err)
	dripped := make(chan error, 1)
	go func() {
		// One header byte every 50 ms, for at most 20 s: far longer than
		// the server allows; it stops when the server has hung up.
		for i := 0; i < 400; i++ {
			if _, err := conn.Write([]byte("X")); err != nil {
				dripped <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		dripped <- nil
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	b, err := io.ReadAll(conn)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server hung up before the client gave up (read: %v)", err)
	require.NotContains(t, string(b), "200 OK", "the request was never served")

	// A slow body is cut off by the read timeout.
	conn2, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn2.Close()
	_, err = io.WriteString(conn2, "POST /login HTTP/1.1\r\nHost: orgd\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail=")
	require.NoError(t, err)
	go func() {
		for i := 0; i < 200; i++ {
			if _, err := conn2.Write([]byte("a")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	require.NoError(t, conn2.SetReadDeadline(time.Now().Add(20*time.Second)))
	_, err = io.ReadAll(bufio.NewReader(conn2))
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server cut the slow body off (read: %v)", err)

	resp, body := get(t, s.url+"/healthz")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// TestRateLimits: per credential (a SCIM token, an API credential) and,
// for failed authentications and login forms, per client IP; each refusal
// is 429 with Retry-After in whole seconds and the surface's error body.
func TestRateLimits(t *testing.T) {
	h := newHardened(t, "--token-rate", "0.01", "--token-burst", "3", "--auth-fail-rate", "0.01", "--auth-fail-burst", "2",
		"--login-rate", "0.01", "--login-burst", "3")
	do := func(c *http.Client, method, path, auth string) (*http.Response, []byte) {
		req, err := http.NewRequest(method, h.s.url+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	hc := httpFrom("")

	// SCIM: the token's bucket runs dry; another token has its own.
	for i := range 3 {
		resp, b := do(hc, "GET", "/scim/v2/Users?count=1", "Bearer "+h.scimToken)
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d: %s", i, b)
	}
	resp, b := do(hc, "GET", "/scim/v2/Users?count=1", "Bearer "+h.scimToken)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", b)
	retryAfterSeconds(t, resp)
	checkFormat(t, probe{path: "/scim/v2/Users"}, resp, b, http.StatusTooManyRequests)
	resp, b = do(hc, "GET", "/scim/v2/Users?count=1", "Bearer "+h.scimToken2)
	require.Equal(t, http.StatusOK, resp.StatusCode, "another token is not limited: %s", b)

	// The API: per account SID (or key SID).
	path := "/2010-04-01/Accounts/" + h.acct + ".json"
	for i := range 3 {
		resp, b := do(hc, "GET", path, basicAuth(h.acct, h.authToken))
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d: %s", i, b)
	}
	resp, b = do(hc, "GET", path, basicAuth(h.acct, h.authToken))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", b)
	retryAfterSeconds(t, resp)
	checkFormat(t, probe{path: path}, resp, b, http.StatusTooManyRequests)
	require.Contains(t, string(b), `"code":20429`)

	// Guessing credentials: two failures from 127.0.0.3, then that address
	// is refused whatever it presents; 127.0.0.4 is not.
	guesser, other := httpFrom("127.0.0.3"), httpFrom("127.0.0.4")
	for i := range 2 {
		resp, _ := do(guesser, "GET", "/scim/v2/Users", "Bearer scim_guess"+strconv.Itoa(i))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	resp, b = do(guesser, "GET", "/scim/v2/Users", "Bearer scim_guess9")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", b)
	retryAfterSeconds(t, resp)
	resp, b = do(guesser, "GET", path, basicAuth(h.acct, "wrong"))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", b)
	checkFormat(t, probe{path: path}, resp, b, http.StatusTooManyRequests)
	resp, _ = do(other, "GET", "/scim/v2/Users", "Bearer scim_guess0")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "another address is not limited")

	// Login forms: per client IP (loginSession spent one form of 127.0.0.1).
	lc := httpFrom("127.0.0.5")
	for i := range 3 {
		resp, body := postForm(t, lc, h.s.url+"/forgot", url.Values{"email": {"nobody@acme.test"}})
		require.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode, "form %d: %s", i, body)
	}
	resp, body := postForm(t, lc, h.s.url+"/forgot", url.Values{"email": {"nobody@acme.test"}})
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	retryAfterSeconds(t, resp)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, body, "too many requests")
}

// TestLockout_PerClientAddress: wrong passwords from one address lock that
// address out of the account (429 with Retry-After, even for the right
// password), while the user logs in from another address; the attacker
// cannot lock the user out.
func TestLockout_PerClientAddress(t *testing.T) {
	h := newHardened(t, "--login-rate", "0")
	attacker, user := httpFrom("127.0.0.6"), httpFrom("127.0.0.7")
	login := func(c *http.Client, pw string) (*http.Response, string) {
		return postForm(t, c, h.s.url+"/login/password", url.Values{"email": {"owner@acme.test"}, "password": {pw}})
	}
	for i := range orgmodel.LoginFailureThreshold {
		resp, body := login(attacker, "wrong-password-"+strconv.Itoa(i))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	}
	resp, body := login(attacker, testPassword)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "locked, even with the right password: %s", body)
	n := retryAfterSeconds(t, resp)
	require.LessOrEqual(t, n, int(orgmodel.LoginLockBase/time.Second))
	require.Contains(t, body, "too many failed attempts")

	resp, body = login(user, testPassword)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the user logs in from another address: %s", body)
	var session string
	for _, ck := range resp.Cookies() {
		if ck.Name == orgmodel.SessionCookie {
			session = ck.Value
		}
	}
	require.NotEmpty(t, session)
}

// TestOpenRedirects: every place that redirects after login takes only a
// local path; anything else lands on the console's start.
func TestOpenRedirects(t *testing.T) {
	h := newHardened(t, "--login-rate", "0")
	hc := httpFrom("")
	evil := []string{"https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example", "javascript:alert(1)",
		"/\t/evil.example", "http:/evil.example", "HTTPS://evil.example", " //evil.example", "evil.example", "/\x00//evil.example"}
	for _, next := range evil {
		resp, body := postForm(t, hc, h.s.url+"/login/password", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "next %q: %s", next, body)
		require.Equal(t, "/console/", resp.Header.Get("Location"), "next %q", next)
		// The login page does not carry it either.
		resp, body = get(t, h.s.url+"/login?next="+url.QueryEscape(next))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotContains(t, body, "evil.example", "next %q", next)
	}
	resp, _ := postForm(t, hc, h.s.url+"/login/password", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "next": {"/console/users?x=1"}})
	require.Equal(t, "/console/users?x=1", resp.Header.Get("Location"), "a local path is kept")

	// The console sends a visitor without a session to the login page with
	// the page asked for, which is always its own.
	for _, p := range []string{"/console/accounts", "/console//evil.example", "/console/%2F%2Fevil.example"} {
		req, err := http.NewRequest(http.MethodGet, h.s.url+p, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if loc == "" { // not a page: no redirect at all
			require.NotEqual(t, http.StatusFound, resp.StatusCode, p)
			continue
		}
		u, err := url.Parse(loc)
		require.NoError(t, err)
		require.Empty(t, u.Host, "%s → %q", p, loc)
		require.Equal(t, "/login", u.Path, "%s → %q", p, loc)
		require.True(t, strings.HasPrefix(u.Query().Get("next"), "/console/"), "%s → %q", p, loc)
	}
}

// TestCookieFlags: every cookie orgd sets is HttpOnly, SameSite Lax or
// Strict, scoped by Path, and Secure when the public URL is https.
func TestCookieFlags(t *testing.T) {
	for _, https := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[https], func(t *testing.T) {
			var args []string
			if https {
				args = append(args, "--base-url", "https://orgd.test")
			}
			h := newHardened(t, append(args, "--login-rate", "0")...)
			hc := httpFrom("")
			var got []*http.Cookie
			resp, _ := postForm(t, hc, h.s.url+"/login/password", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}})
			got = append(got, resp.Cookies()...)
			// A user with a second factor gets the pending-login cookie.
			f := h.fixture
			mfa := f.ok("user", "invite", "--org", f.orgA, "--email", "mia@acme.test")
			mia := f.ok("user", "accept", "--token", mfa.str("token"), "--password", testPassword).str("user_sid")
			f.ok("user", "reset-2fa", "--org", f.orgA, "--user", mia)
			resp, _ = postForm(t, hc, h.s.url+"/login/password", url.Values{"email": {"mia@acme.test"}, "password": {testPassword}})
			got = append(got, resp.Cookies()...)
			// A setup link's cookie.
			link := f.ok("org", "show", "--org", f.orgA) // the org exists
			require.NotEmpty(t, link.str("sid"))
			svc := testService(t, f.env["ORGD_DB"], f.dns.addr, time.Now)
			sl, err := svc.CreateSetupLink(context.Background(), orgmodel.Actor{UserSID: orgmodel.UserSID(f.ownerA), Via: "console"}, orgmodel.OrgSID(f.orgA), "IT", time.Hour)
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodGet, h.s.url+"/console/setup?token="+sl.Token, nil)
			require.NoError(t, err)
			resp, err = hc.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			got = append(got, resp.Cookies()...)

			names := map[string]bool{}
			for _, ck := range got {
				names[ck.Name] = true
				require.True(t, ck.HttpOnly, "%s is HttpOnly", ck.Name)
				require.Contains(t, []http.SameSite{http.SameSiteLaxMode, http.SameSiteStrictMode}, ck.SameSite, "%s SameSite", ck.Name)
				require.NotEmpty(t, ck.Path, "%s has a Path", ck.Name)
				require.Equal(t, https, ck.Secure, "%s Secure under %v", ck.Name, https)
			}
			for _, want := range []string{orgmodel.SessionCookie, "orgd_device", "orgd_login", "orgd_setup"} {
				require.True(t, names[want], "the test saw %s (saw %v)", want, names)
			}
		})
	}
}

// TestSecurityHeaders: every route answers with nosniff, no framing and no
// referrer; the HTML surfaces with a Content-Security-Policy; under an
// https public URL, HSTS.
func TestSecurityHeaders(t *testing.T) {
	h := newHardened(t, "--base-url", "https://orgd.test", "--login-rate", "0")
	session := &http.Cookie{Name: orgmodel.SessionCookie, Value: h.session}
	paths := []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/nope", "/login", "/signup", "/forgot", "/reset",
		"/login/2fa", "/sso/saml/" + h.orgA + "/metadata", "/console", "/console/", "/console/accounts", "/console/users",
		"/console/audit.csv", "/console/nope", "/scim/v2/Users", "/scim/v2/ServiceProviderConfig",
		"/2010-04-01/Accounts.json", "/Organizations/" + h.orgA + "/Accounts", "/v2/token",
		"/logout", "/signup/confirm", "/scim/v2/", "/scim/v2/.search", "/scim/v2/Groups", "/scim/v2/Groups/.search",
		"/scim/v2/Groups/" + h.group, "/scim/v2/Me", "/scim/v2/Me/x", "/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes/User",
		"/scim/v2/Schemas", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/scim/v2/Users/.search",
		"/scim/v2/Users/" + h.user}
	// Every GET route of the router serve builds is among them.
	svc := testService(t, h.env["ORGD_DB"], h.dns.addr, time.Now)
	router := mountAll(newRouter(discardLog(), nopPinger{}, newMetrics()), svc, h.s.url, discardLog(), serveLimits{loginBurst: 1})
	var missing []string
	require.NoError(t, chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodGet {
			return nil
		}
		re := routeRE(route)
		for _, p := range paths {
			if re.MatchString(strings.SplitN(p, "?", 2)[0]) {
				return nil
			}
		}
		missing = append(missing, route)
		return nil
	}))
	require.Empty(t, missing, "GET routes without a path in this test: add them")

	hc := httpFrom("")
	for _, p := range paths {
		req, err := http.NewRequest(http.MethodGet, h.s.url+p, nil)
		require.NoError(t, err)
		req.AddCookie(session)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		hd := resp.Header
		require.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"), p)
		require.Equal(t, "DENY", hd.Get("X-Frame-Options"), p)
		require.Equal(t, "no-referrer", hd.Get("Referrer-Policy"), p)
		require.Equal(t, "max-age=31536000", hd.Get("Strict-Transport-Security"), p)
		if surfaceOf(p) == surfaceHTML {
			csp := hd.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
				require.Contains(t, csp, d, "%s CSP", p)
			}
		}
	}
}
