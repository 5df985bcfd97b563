package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"

	"github.com/orgd/orgd/api"
	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
)

// testHasher stands in for argon2id: the API never hashes passwords, the
// tests only sign users up.
type testHasher struct{}

func (testHasher) Hash(p string) (string, error) {
	h := sha256.Sum256([]byte(p))
	return hex.EncodeToString(h[:]), nil
}

func (testHasher) Verify(hash, p string) (bool, error) {
	h := sha256.Sum256([]byte(p))
	return subtle.ConstantTimeCompare([]byte(hash), []byte(hex.EncodeToString(h[:]))) == 1, nil
}

type zone map[string][]string

func (z zone) LookupTXT(_ context.Context, name string) ([]string, error) { return z[name], nil }

type env struct {
	t    testing.TB
	ctx  context.Context
	svc  *orgmodel.Service
	db   *store.DB
	auth *api.Authenticator
	srv  *httptest.Server
	dns  zone
	op   orgmodel.Actor
}

// newEnv serves the API over a fresh SQLite file on a loopback listener.
func newEnv(t testing.TB) *env {
	return newEnvWith(t, api.AuthOptions{})
}

func newEnvWith(t testing.TB, opts api.AuthOptions) *env {
	t.Helper()
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	z := zone{}
	svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: "https://orgd.test", Hasher: testHasher{}, Resolver: z})
	auth := api.NewAuthenticator(svc, opts)
	srv := httptest.NewServer(api.NewHandler(api.Config{Service: svc, Auth: auth}))
	t.Cleanup(srv.Close)
	return &env{t: t, ctx: t.Context(), svc: svc, db: db, auth: auth, srv: srv, dns: z, op: orgmodel.OperatorActor("cli")}
}

const pw = "Corr3ct-Horse-Battery"

func (e *env) signup(email string) *orgmodel.SignUpResult {
	e.t.Helper()
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: email, Password: pw, EmailVerified: true})
	require.NoError(e.t, err)
	return r
}

// member invites email into r's organization (verifying its domain) and
// accepts; returns the user.
func (e *env) member(r *orgmodel.SignUpResult, email string, role orgmodel.Role) orgmodel.UserSID {
	e.t.Helper()
	domain := orgmodel.EmailDomain(email)
	ds, err := e.svc.ListDomains(e.ctx, e.op, r.OrgSID)
	require.NoError(e.t, err)
	verified := false
	for _, d := range ds {
		verified = verified || (d.Name == domain && d.Status == orgmodel.DomainVerified)
	}
	if !verified {
		d, err := e.svc.AddDomain(e.ctx, e.op, r.OrgSID, domain)
		require.NoError(e.t, err)
		e.dns[d.TXTName] = []string{d.TXTValue}
		_, err = e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, domain)
		require.NoError(e.t, err)
	}
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: email, Role: string(role)})
	require.NoError(e.t, err)
	acc, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{Via: "test"}, inv.Token, pw)
	require.NoError(e.t, err)
	return acc.UserSID
}

func (e *env) oauthClient(org orgmodel.OrgSID) *orgmodel.OAuthClientResult {
	e.t.Helper()
	c, err := e.svc.CreateOAuthClient(e.ctx, e.op, org, "")
	require.NoError(e.t, err)
	return c
}

// rewrite sends every request of the SDK, whatever Twilio host it names
// (api, preview-iam, oauth), to the test server, as a user's program would
// with a proxy; the original host travels in X-Twilio-Host.
// Every response is checked against openapi.json on the way.
type rewrite struct {
	t      testing.TB
	target *url.URL
}

func (rw rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("X-Twilio-Host", req.URL.Host)
	r.URL.Scheme, r.URL.Host, r.Host = rw.target.Scheme, rw.target.Host, rw.target.Host
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	checkDoc(rw.t, r.Method, r.URL.Path, res.StatusCode, b)
	return res, nil
}

// checkDoc reports a response the OpenAPI document does not describe.
func checkDoc(t testing.TB, method, path string, status int, body []byte) {
	t.Helper()
	for _, p := range api.CheckResponse(method, path, status, body) {
		t.Errorf("openapi.json: %s", p)
	}
}

func (e *env) httpClient() *http.Client {
	u, err := url.Parse(e.srv.URL)
	require.NoError(e.t, err)
	return &http.Client{Transport: rewrite{e.t, u}}
}

// basicClient is the official SDK with HTTP Basic credentials: an account
// SID and auth token, or an API key SID and secret (then account names
// the account the key belongs to).
func (e *env) basicClient(user, secret string, account orgmodel.AccountSID) *twilio.RestClient {
	c := &client.Client{Credentials: client.NewCredentials(user, secret), HTTPClient: e.httpClient()}
	c.SetAccountSid(string(account))
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
}

// orgClient is the official SDK with OAuth 2.0 client credentials, built
// by hand: its ClientCredentialProvider path ignores the HTTP client.
func (e *env) orgClient(id orgmodel.OAuthClientSID, secret string) *twilio.RestClient {
	oc := &client.Client{Credentials: client.NewCredentials("", ""), HTTPClient: e.httpClient()}
	oc.SetOauth(twilio.NewAPIOAuth(client.NewRequestHandler(oc),
		&twilio.OAuthCredentials{GrantType: "client_credentials", ClientId: string(id), ClientSecret: secret}))
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: oc})
}

// twilioErr asserts err is the SDK's decoding of a Twilio error body.
func twilioErr(t *testing.T, err error, status, code int) *client.TwilioRestError {
	t.Helper()
	require.Error(t, err)
	var te *client.TwilioRestError
	require.ErrorAs(t, err, &te, "err = %v", err)
	require.Equal(t, status, te.Status, "err = %v", err)
	require.Equal(t, code, te.Code, "err = %v", err)
	require.Equal(t, "https://www.twilio.com/docs/errors/"+strconv.Itoa(code), te.MoreInfo)
	return te
}

// raw sends one request with the given headers and body and returns the
// status, headers and decoded JSON body.
type rawResp struct {
	status int
	header http.Header
	body   map[string]any
	text   string
}

func (e *env) raw(method, path string, header map[string]string, body string) rawResp {
	e.t.Helper()
	return e.send(method, path, header, strings.NewReader(body))
}

// rawReader sends body without a Content-Length (chunked).
func (e *env) rawReader(method, path string, header map[string]string, body io.Reader) rawResp {
	e.t.Helper()
	return e.send(method, path, header, struct{ io.Reader }{body})
}

func (e *env) send(method, path string, header map[string]string, body io.Reader) rawResp {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, body)
	require.NoError(e.t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	if !strings.Contains(path, "/scim/") { // the SCIM mount is the SCIM package's to describe
		checkDoc(e.t, method, req.URL.Path, res.StatusCode, b)
	}
	out := rawResp{status: res.StatusCode, header: res.Header, text: string(b)}
	if len(b) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(e.t, json.Unmarshal(b, &out.body), "body %s", b)
	}
	return out
}

func basic(user, secret string) map[string]string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, secret)
	return map[string]string{"Authorization": req.Header.Get("Authorization")}
}

func form(h map[string]string) map[string]string {
	out := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range h {
		out[k] = v
	}
	return out
}
