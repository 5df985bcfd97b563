package sso_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/ssotest"
)

func (e *env) form(c *http.Client, path string, v url.Values) (*http.Response, string) {
	e.t.Helper()
	res, err := c.PostForm(e.base+path, v)
	require.NoError(e.t, err)
	return res, body(e.t, res)
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	res, err := c.Get(e.base + path)
	require.NoError(e.t, err)
	return res, body(e.t, res)
}

func (e *env) enforce(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	_, err := e.svc.MarkIdPTested(e.ctx, e.op, org)
	require.NoError(e.t, err)
	on := true
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, org, domain, orgmodel.DomainSettings{SSOEnforced: &on})
	require.NoError(e.t, err)
}

func TestLogin_EmailFirstThenPassword(t *testing.T) {
	e := newEnv(t)
	bob := e.member(e.org, "bob@acme.test")
	c := e.browser()
	res, b := e.get(c, "/login?next=/console/x")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, b, `<label for="email">`)
	assert.Contains(t, b, `lang="en"`)

	// Not enforced: the password form, with SSO offered since the organization has an IdP.
	res, b = e.form(c, "/login", url.Values{"email": {"bob@acme.test"}, "next": {"/console/x"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, b, `name="password"`)
	assert.Contains(t, b, "/sso/saml/"+string(e.org)+"/login")

	res, b = e.form(c, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {"wrong-password!"}, "next": {"/console/x"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, b, "not correct")
	assert.Empty(t, sessionCookie(res))

	res, _ = e.form(c, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}, "next": {"/console/x"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/console/x", res.Header.Get("Location"))
	tok := sessionCookie(res)
	_, u, err := e.svc.Session(e.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, bob, u.SID)
	var device bool
	for _, ck := range res.Cookies() {
		if ck.Name == "orgd_device" {
			device = ck.HttpOnly && ck.MaxAge > 0
		}
	}
	assert.True(t, device, "the browser becomes a trusted device")

	// A next that is not a local path lands on the console.
	res, _ = e.form(e.browser(), "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}, "next": {"https://evil.test/"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/console/", res.Header.Get("Location"))

	// Logout ends the session.
	res, _ = e.form(c, "/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, _, err = e.svc.Session(e.ctx, tok)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}

func TestRule_DOM_5_LoginRoutesToTheIdPAndRefusesPasswords(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "bob@acme.test")
	e.enforce(e.org, "acme.test")
	c := e.browser()
	for _, email := range []string{"bob@acme.test", "unknown@acme.test"} {
		res, _ := e.form(c, "/login", url.Values{"email": {email}, "next": {"/console/y"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, email)
		assert.Equal(t, "/sso/saml/"+string(e.org)+"/login?relay=%2Fconsole%2Fy", res.Header.Get("Location"))
	}
	// Posting the password form directly is refused with the rule.
	res, b := e.form(c, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, b, "R-DOM-5")
	assert.Empty(t, sessionCookie(res))
	// And the full SP-initiated round trip lands on the relay.
	id := e.startSP(c, e.org, "/console/y")
	r := e.post(c, e.org, ssotest.Encode(t, e.idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "bob@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())), "")
	body(t, r)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/console/y", r.Header.Get("Location"))
}

func TestLogin_UserPicksSSO(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "bob@acme.test")
	res, _ := e.form(e.browser(), "/login", url.Values{"email": {"bob@acme.test"}, "method": {"sso"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/sso/saml/"+string(e.org)+"/login"))
	// No IdP for the email: the password form says so.
	res, b := e.form(e.browser(), "/login", url.Values{"email": {"x@nowhere.test"}, "method": {"sso"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Contains(t, b, "no single sign-on")
}

var secretRe = regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`)

func TestRule_USER_5_TOTPEnrolmentAndVerification(t *testing.T) {
	e := newEnv(t)
	bob := e.member(e.org, "bob@acme.test")
	_, err := e.svc.Reset2FA(e.ctx, e.op, e.org, bob)
	require.NoError(t, err)
	c := e.browser()
	login := func() {
		t.Helper()
		res, _ := e.form(c, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login/2fa"))
		assert.Empty(t, sessionCookie(res), "no session before the second factor")
	}
	login()
	res, b := e.get(c, "/login/2fa")
	require.Equal(t, http.StatusOK, res.StatusCode)
	m := secretRe.FindStringSubmatch(b)
	require.NotNil(t, m, b)
	secret := m[1]
	assert.Contains(t, b, `src="data:image/png;base64,`, "a QR code, no JavaScript")
	assert.Contains(t, b, `autocomplete="one-time-code"`)

	res, b = e.form(c, "/login/2fa", url.Values{"code": {"000000"}, "secret": {secret}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, b, secret, "the same secret is offered again")
	code, err := totp.GenerateCode(secret, e.clock.Now())
	require.NoError(t, err)
	res, _ = e.form(c, "/login/2fa", url.Values{"code": {code}, "secret": {secret}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.NotEmpty(t, sessionCookie(res))

	// Next login: verify with the enrolled factor; a code works once.
	login()
	res, b = e.get(c, "/login/2fa")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, b, `name="secret"`)
	res, _ = e.form(c, "/login/2fa", url.Values{"code": {code}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the enrolment code was used")
	e.clock.Add(30 * time.Second)
	code, err = totp.GenerateCode(secret, e.clock.Now())
	require.NoError(t, err)
	res, _ = e.form(c, "/login/2fa", url.Values{"code": {code}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, u, err := e.svc.Session(e.ctx, sessionCookie(res))
	require.NoError(t, err)
	assert.Equal(t, bob, u.SID)
}

func TestLockout_OverHTTP(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "bob@acme.test")
	trusted := e.browser()
	res, _ := e.form(trusted, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	attacker := e.browser()
	for i := 0; i < orgmodel.LoginFailureThreshold; i++ {
		res, _ = e.form(attacker, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {"guess-" + string(rune('a'+i))}})
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	res, b := e.form(attacker, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, b, "too many failed attempts")
	// Bob's own browser is not locked out.
	res, _ = e.form(trusted, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	// And the lock ends by itself.
	e.clock.Add(orgmodel.LoginLockMax)
	res, _ = e.form(attacker, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestRateLimit_FormsPerIP(t *testing.T) {
	e := newEnv(t)
	// A handler with the default limits: bursts of 20 per address.
	h := newLimitedEnv(t, e)
	var last int
	for i := 0; i < 25; i++ {
		res, err := http.PostForm(h+"/forgot", url.Values{"email": {"x@acme.test"}})
		require.NoError(t, err)
		body(t, res)
		last = res.StatusCode
	}
	assert.Equal(t, http.StatusTooManyRequests, last)
}

func TestRule_USER_4_ForgotAndResetOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "bob@acme.test")
	c := e.browser()
	res, b := e.form(c, "/forgot", url.Values{"email": {"bob@acme.test"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, b, "Check your mail")
	_, b2 := e.form(c, "/forgot", url.Values{"email": {"nobody@acme.test"}})
	assert.Equal(t, strings.ReplaceAll(b, "bob@acme.test", "X"), strings.ReplaceAll(b2, "nobody@acme.test", "X"), "the same answer")
	link := e.mailLink("bob@acme.test")
	u, err := url.Parse(link)
	require.NoError(t, err)
	res, b = e.get(c, u.RequestURI())
	require.Equal(t, http.StatusOK, res.StatusCode)
	token := u.Query().Get("token")
	assert.Contains(t, b, token)
	res, b = e.form(c, "/reset", url.Values{"token": {token}, "password": {"short"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	res, _ = e.form(c, "/reset", url.Values{"token": {token}, "password": {"N3w-Passw0rd-Here"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, b = e.form(c, "/reset", url.Values{"token": {token}, "password": {"An0ther-Passw0rd-Here"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, b, "R-USER-4")
	res, _ = e.form(e.browser(), "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {"N3w-Passw0rd-Here"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestRule_SSO_2_ResetLinkRefusedOnceEnforced(t *testing.T) {
	e := newEnv(t)
	bob := e.member(e.org, "bob@acme.test")
	_, err := e.svc.ResetPassword(e.ctx, e.op, e.org, bob)
	require.NoError(t, err)
	link, err := url.Parse(e.mailLink("bob@acme.test"))
	require.NoError(t, err)
	e.enforce(e.org, "acme.test")
	res, b := e.form(e.browser(), "/reset", url.Values{"token": {link.Query().Get("token")}, "password": {"N3w-Passw0rd-Here"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, b, "R-SSO-2")
}

func TestRule_DOM_3_SignupOverHTTP(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	// Restricted (the default) refuses at once.
	res, b := e.form(c, "/signup", url.Values{"email": {"new@acme.test"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, b, "R-DOM-3")
	// Auto-enrollment: confirm by mail, then join as Standard.
	e.setSignup(e.org, "acme.test", orgmodel.SignupAutoEnrollment)
	res, b = e.form(c, "/signup", url.Values{"email": {"new@acme.test"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, b, "Check your mail")
	u, err := url.Parse(e.mailLink("new@acme.test"))
	require.NoError(t, err)
	res, b = e.get(c, u.RequestURI())
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, b, "new@acme.test")
	res, _ = e.form(c, "/signup/confirm", url.Values{"token": {u.Query().Get("token")}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = e.form(c, "/login/password", url.Values{"email": {"new@acme.test"}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, usr, err := e.svc.Session(e.ctx, sessionCookie(res))
	require.NoError(t, err)
	assert.Equal(t, e.org, usr.OrgSID)
	assert.Equal(t, orgmodel.RoleStandard, usr.Role)
	// Invitations are accepted here too.
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: e.org, Email: "inv@acme.test", Role: "administrator"})
	require.NoError(t, err)
	res, b = e.get(c, "/signup?invitation="+inv.Token)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, b, "Accept the invitation")
	res, _ = e.form(c, "/signup", url.Values{"invitation": {inv.Token}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = e.form(e.browser(), "/login/password", url.Values{"email": {"inv@acme.test"}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestCSRF_CrossSiteFormsRefusedACSExempt(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "bob@acme.test")
	e.setIdP(e.org, e.idp.Metadata(), true)
	post := func(path string, v url.Values) *http.Response {
		req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(v.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.test")
		res, err := e.browser().Do(req)
		require.NoError(t, err)
		body(t, res)
		return res
	}
	for _, p := range []string{"/login", "/login/password", "/logout", "/forgot", "/reset", "/signup", "/signup/confirm", "/login/2fa"} {
		assert.Equal(t, http.StatusForbidden, post(p, url.Values{"email": {"bob@acme.test"}, "password": {pw}}).StatusCode, p)
	}
	// The IdP's cross-site POST to the ACS goes through.
	doc := ssotest.Encode(t, e.idp.Build(t, ssotest.Response{NameID: "bob@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now()))
	res := post("/sso/saml/"+string(e.org)+"/acs", url.Values{"SAMLResponse": {doc}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestSSO_TestConnectionThenEnforce(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "bob@acme.test")
	on := true
	_, err := e.svc.ConfigureDomain(e.ctx, e.op, e.org, "acme.test", orgmodel.DomainSettings{SSOEnforced: &on})
	require.Equal(t, "R-DOM-5", orgmodel.RuleOf(err), "not before a test passed")

	// A Standard user cannot start a test.
	std := e.browser()
	res, _ := e.form(std, "/login/password", url.Values{"email": {"bob@acme.test"}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, b := e.get(std, "/sso/saml/"+string(e.org)+"/login?test=1")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, b, "R-ROLE-3")

	// The Owner tests the connection; the assertion logs nobody in.
	c := e.browser()
	res, _ = e.form(c, "/login/password", url.Values{"email": {"owner@acme.test"}, "password": {pw}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, err = c.Get(e.base + "/sso/saml/" + string(e.org) + "/login?test=1")
	require.NoError(t, err)
	body(t, res)
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, _ := url.Parse(res.Header.Get("Location"))
	id := requestID(t, loc)
	before := e.sessionsStarted()
	r := e.post(c, e.org, ssotest.Encode(t, e.idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "bob@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())), "")
	b = body(t, r)
	require.Equal(t, http.StatusOK, r.StatusCode, e.reason(b))
	assert.Contains(t, b, "Connection test passed")
	assert.Equal(t, before, e.sessionsStarted())
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, e.org, "acme.test", orgmodel.DomainSettings{SSOEnforced: &on})
	require.NoError(t, err)
}
