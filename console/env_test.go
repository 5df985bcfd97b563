package console_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/xml"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/console"
	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

// zone answers TXT look-ups from a map, as a DNS server would (unknown
// names are NXDOMAIN). The browser test in cmd/orgd uses a real DNS
// server on loopback; here the console's pages are the subject.
type zone struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (z *zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	v, ok := z.txt[strings.ToLower(strings.TrimSuffix(name, "."))]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return v, nil
}

func (z *zone) set(name, value string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[strings.ToLower(name)] = []string{value}
}

// metadata is a stand-in for the sso package's parser (cmd/orgd wires the
// real one, which the browser test goes through): it reads the entity ID
// and the SSO location of SAML metadata and refuses anything else.
func metadata(_ context.Context, data []byte, u string) (orgmodel.IdPConfig, error) {
	if u != "" {
		if !strings.HasPrefix(u, "https://") {
			return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata_url", "the metadata URL %q is not an https URL", u)
		}
		return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata_url", "fetching the metadata: no such host")
	}
	var ed struct {
		EntityID string `xml:"entityID,attr"`
		SSO      []struct {
			Location string `xml:"Location,attr"`
		} `xml:"IDPSSODescriptor>SingleSignOnService"`
	}
	if err := xml.Unmarshal(data, &ed); err != nil || ed.EntityID == "" || len(ed.SSO) == 0 {
		return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata", "the metadata is not SAML 2.0 identity provider metadata")
	}
	return orgmodel.IdPConfig{EntityID: ed.EntityID, SSOURL: ed.SSO[0].Location, MetadataXML: string(data)}, nil
}

const idpMetadata = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme.test/metadata">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.acme.test/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>`

type env struct {
	t   testing.TB
	ctx context.Context
	db  *store.DB
	svc *orgmodel.Service
	dns *zone
	srv *httptest.Server
	op  orgmodel.Actor
	log *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const pw = "Corr3ct-Horse-Battery"

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOn(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
}

// forEachDB runs fn on a fresh SQLite file and, when ORGD_TEST_POSTGRES is
// set, on a fresh PostgreSQL database (for pages whose queries the store
// builds per dialect).
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, newEnv(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, newEnvOn(t, postgresDB(t)))
	})
}

// postgresDB creates a database of its own for t on the server
// ORGD_TEST_POSTGRES names, drops it afterwards, and returns its DSN; it
// skips t when the variable is unset.
func postgresDB(t testing.TB) string {
	t.Helper()
	server := os.Getenv("ORGD_TEST_POSTGRES")
	if server == "" {
		t.Skip("ORGD_TEST_POSTGRES is not set; set it (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run this test on PostgreSQL too")
	}
	admin, err := sql.Open("pgx", server)
	require.NoError(t, err)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	_, err = admin.ExecContext(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err, "CREATE DATABASE on ORGD_TEST_POSTGRES")
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(server)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// newEnvOn is an env on the database dsn names.
func newEnvOn(t testing.TB, dsn string) *env {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, ctx: t.Context(), db: db, dns: &zone{txt: map[string][]string{}}, op: orgmodel.OperatorActor("cli"), log: &syncBuf{}}
	e.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + e.srv.Listener.Addr().String()
	e.svc = orgmodel.NewService(db, orgmodel.Config{BaseURL: base, Hasher: password.Fast, Resolver: e.dns})
	h := console.NewHandler(console.Config{
		Service: e.svc, BaseURL: base, Log: slog.New(slog.NewJSONHandler(e.log, nil)), IdPMetadata: metadata,
		Endpoints: func(org orgmodel.OrgSID) console.SPEndpoints {
			p := base + "/sso/saml/" + string(org)
			return console.SPEndpoints{EntityID: p + "/metadata", ACSURL: p + "/acs", MetadataURL: p + "/metadata"}
		},
	})
	e.srv.Config.Handler = h
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// signup creates an organization with email as its Owner.
func (e *env) signup(email string) *orgmodel.SignUpResult {
	e.t.Helper()
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: email, Password: pw, Name: strings.Split(email, "@")[1], EmailVerified: true})
	require.NoError(e.t, err)
	return r
}

// verify registers and verifies domain for org.
func (e *env) verify(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	d, err := e.svc.AddDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
	e.dns.set(d.TXTName, d.TXTValue)
	_, err = e.svc.VerifyDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
}

// member invites email into org with role and accepts.
func (e *env) member(org orgmodel.OrgSID, email string, role orgmodel.Role) orgmodel.UserSID {
	e.t.Helper()
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: org, Email: email, Role: string(role)})
	require.NoError(e.t, err)
	r, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{Via: "test"}, inv.Token, pw)
	require.NoError(e.t, err)
	return r.UserSID
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	e     *env
	c     *http.Client
	token string
}

func (e *env) anonymous() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// as returns a browser logged in as user (a session started as the login
// pages start one).
func (e *env) as(user orgmodel.UserSID) *browser {
	e.t.Helper()
	b := e.anonymous()
	tok, _, err := e.svc.StartSession(e.ctx, orgmodel.Actor{Via: "sso"}, user, orgmodel.ViaPassword)
	require.NoError(e.t, err)
	u, _ := url.Parse(e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: orgmodel.SessionCookie, Value: tok, Path: "/"}})
	b.token = tok
	return b
}

// page is an answer.
type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.e.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.e.t, err)
	return page{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(b.e.ctx, http.MethodGet, b.e.srv.URL+path, nil)
	require.NoError(b.e.t, err)
	return b.do(req)
}

// post sends a form as a browser on the same site does.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(b.e.ctx, http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// upload posts a multipart form with one file field.
func (b *browser) upload(path string, fields map[string]string, fileField, fileName, content string) page {
	b.e.t.Helper()
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(b.e.t, mw.WriteField(k, v))
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		require.NoError(b.e.t, err)
		_, err = io.WriteString(fw, content)
		require.NoError(b.e.t, err)
	}
	require.NoError(b.e.t, mw.Close())
	req, err := http.NewRequestWithContext(b.e.ctx, http.MethodPost, b.e.srv.URL+path, strings.NewReader(buf.String()))
	require.NoError(b.e.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// follow posts and follows the Post/Redirect/Get redirect, returning the
// page it lands on (with its notice).
func (b *browser) follow(path string, form url.Values) page {
	b.e.t.Helper()
	p := b.post(path, form)
	require.Equalf(b.e.t, http.StatusSeeOther, p.status, "POST %s: %s", path, text(p.body))
	return b.get(p.location)
}

var (
	tags   = regexp.MustCompile(`<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// text is a page's visible text, tags stripped and spaces folded, to
// assert on what a person reads.
func text(body string) string {
	s := tags.ReplaceAllString(body, " ")
	s = strings.NewReplacer("&#39;", "'", "&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&rarr;", "→").Replace(s)
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

// refusal returns the text of the refusal shown next to form (its
// element has id err-<form>), or "".
func refusal(body, form string) string {
	i := strings.Index(body, `id="err-`+form+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, "</div>"); j >= 0 {
		rest = rest[:j]
	}
	return text("<" + rest)
}

// mailTo returns the newest outbox message to addr.
func (e *env) mailTo(addr string) *orgmodel.Mail {
	e.t.Helper()
	ms, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: addr, Limit: 1})
	require.NoError(e.t, err)
	require.NotEmpty(e.t, ms, "no mail to %s", addr)
	return ms[0]
}

// audit returns the organization's newest audit events.
func (e *env) audit(org orgmodel.OrgSID, action string) []*orgmodel.AuditEvent {
	e.t.Helper()
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: org, Action: action, Limit: 1000})
	require.NoError(e.t, err)
	return evs
}
