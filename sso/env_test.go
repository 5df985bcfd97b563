package sso_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/testsaml"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/sso/ssotest"
	"github.com/orgd/orgd/store"
)

const pw = "Corr3ct-Horse-Battery"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// dnsZone answers the TXT look-ups of domain verification from a map.
type dnsZone struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (z *dnsZone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.txt[strings.ToLower(name)], nil
}

// logBuf collects log lines so that tests can read refusal reasons.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// env is a real orgd login side on a temp SQLite file behind a real
// HTTP server, with an organization acme.test whose IdP is idp.
type env struct {
	t     testing.TB
	ctx   context.Context
	svc   *orgmodel.Service
	db    *store.DB
	clock *clock
	dns   *dnsZone
	srv   *httptest.Server
	base  string
	log   *logBuf
	op    orgmodel.Actor

	org   orgmodel.OrgSID
	owner orgmodel.UserSID
	idp   *ssotest.IdP
}

var start = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env { return newEnvAt(t, start) }

// newEnvAt is newEnv with the service clock starting at now.
func newEnvAt(t testing.TB, now time.Time) *env {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	c := &clock{now: now}
	z := &dnsZone{txt: map[string][]string{}}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: srv.URL, Hasher: password.Fast, Resolver: z, Now: c.Now})
	lb := &logBuf{}
	h := sso.NewHandler(sso.Config{Service: svc, BaseURL: srv.URL, Log: slog.New(slog.NewJSONHandler(lb, nil)), FormRate: 1000, FormBurst: 1000})
	srv.Config.Handler = h
	e := &env{t: t, ctx: context.Background(), svc: svc, db: db, clock: c, dns: z, srv: srv, base: srv.URL, log: lb, op: orgmodel.OperatorActor("cli")}
	r, err := svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "owner@acme.test", Password: pw, EmailVerified: true})
	require.NoError(t, err)
	e.org, e.owner = r.OrgSID, r.UserSID
	e.verify(e.org, "acme.test")
	e.idp = ssotest.NewIdP(t, "https://idp.test/metadata", "idp.test", now)
	e.setIdP(e.org, e.idp.Metadata(), false)
	return e
}

// verify registers and verifies domain for org.
func (e *env) verify(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	d, err := e.svc.AddDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
	e.dns.mu.Lock()
	e.dns.txt[d.TXTName] = []string{d.TXTValue}
	e.dns.mu.Unlock()
	_, err = e.svc.VerifyDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
}

func (e *env) setIdP(org orgmodel.OrgSID, md []byte, idpInitiated bool) {
	e.t.Helper()
	m, err := sso.ParseMetadata(md)
	require.NoError(e.t, err)
	_, err = e.svc.SetIdP(e.ctx, e.op, org, orgmodel.IdPConfig{EntityID: m.EntityID, SSOURL: m.SSOURL, MetadataXML: string(md), AllowIdPInitiated: idpInitiated})
	require.NoError(e.t, err)
}

func (e *env) setSignup(org orgmodel.OrgSID, domain string, s orgmodel.SignupSetting) {
	e.t.Helper()
	_, err := e.svc.ConfigureDomain(e.ctx, e.op, org, domain, orgmodel.DomainSettings{Signup: &s})
	require.NoError(e.t, err)
}

// member invites email into org and accepts with pw.
func (e *env) member(org orgmodel.OrgSID, email string) orgmodel.UserSID {
	e.t.Helper()
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: org, Email: email})
	require.NoError(e.t, err)
	r, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{}, inv.Token, pw)
	require.NoError(e.t, err)
	return r.UserSID
}

func (e *env) acs(org orgmodel.OrgSID) string { return e.base + "/sso/saml/" + string(org) + "/acs" }
func (e *env) audience(org orgmodel.OrgSID) string {
	return e.base + "/sso/saml/" + string(org) + "/metadata"
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// startSP runs the SP-initiated start for org with relay and returns the
// AuthnRequest ID the IdP must answer.
func (e *env) startSP(c *http.Client, org orgmodel.OrgSID, relay string) string {
	e.t.Helper()
	res, err := c.Get(e.base + "/sso/saml/" + string(org) + "/login?relay=" + url.QueryEscape(relay))
	require.NoError(e.t, err)
	res.Body.Close()
	require.Equal(e.t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(e.t, err)
	require.Equal(e.t, "idp.test", loc.Host)
	return requestID(e.t, loc)
}

// requestID decodes the AuthnRequest of an HTTP-Redirect URL and returns its ID.
func requestID(t testing.TB, loc *url.URL) string {
	t.Helper()
	raw, err := testsaml.ParseRedirectRequest(loc)
	require.NoError(t, err)
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(raw))
	id := doc.Root().SelectAttrValue("ID", "")
	require.NotEmpty(t, id)
	return id
}

// newLimitedEnv serves e's service through a handler with the default
// per-IP limits and returns its base URL.
func newLimitedEnv(t testing.TB, e *env) string {
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	srv.Config.Handler = sso.NewHandler(sso.Config{Service: e.svc, BaseURL: srv.URL})
	return srv.URL
}

// post sends a SAMLResponse (and RelayState) to org's ACS.
func (e *env) post(c *http.Client, org orgmodel.OrgSID, samlResponse, relay string) *http.Response {
	e.t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relay != "" {
		form.Set("RelayState", relay)
	}
	res, err := c.PostForm(e.acs(org), form)
	require.NoError(e.t, err)
	return res
}

// body reads and closes a response body.
func body(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	return string(b)
}

// sessionCookie returns the session cookie a response set, or "".
func sessionCookie(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Name == orgmodel.SessionCookie && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// sessionsStarted counts session.start audit events: a refused login must
// not add one.
func (e *env) sessionsStarted() int {
	e.t.Helper()
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{Action: "session.start", Limit: 1000})
	require.NoError(e.t, err)
	return len(evs)
}

var refRe = regexp.MustCompile(`Reference: <code>([0-9a-f]{16})</code>`)

// reason returns the logged reason of the refusal whose page is b.
func (e *env) reason(b string) string {
	m := refRe.FindStringSubmatch(b)
	if m == nil {
		return ""
	}
	for _, line := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(line, `"ref":"`+m[1]+`"`) {
			return line
		}
	}
	return ""
}

// mailLink returns the newest link with token= mailed to addr.
func (e *env) mailLink(addr string) string {
	e.t.Helper()
	ms, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: addr, Limit: 1})
	require.NoError(e.t, err)
	require.NotEmpty(e.t, ms, "no mail to %s", addr)
	m := regexp.MustCompile(`https?://\S+token=\S+`).FindString(ms[0].Body)
	require.NotEmpty(e.t, m, ms[0].Body)
	return m
}
