package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/scim"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

const base = "https://orgd.test/scim/v2"

// zone answers DNS TXT look-ups from a map, as a DNS server would; the
// end-to-end tests of cmd/orgd use a real one.
type zone struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (z *zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if v, ok := z.txt[strings.ToLower(name)]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

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

// env is one organization with a verified domain and a SCIM token, served
// by the SCIM handler over a real SQLite file.
type env struct {
	t     testing.TB
	ctx   context.Context
	db    *store.DB
	svc   *orgmodel.Service
	dns   *zone
	clock *clock
	org   orgmodel.OrgSID
	owner orgmodel.UserSID
	token string
	h     http.Handler
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return newEnvOn(t, db)
}

func newEnvOn(t testing.TB, db *store.DB) *env {
	t.Helper()
	z := &zone{txt: map[string][]string{}}
	c := &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: "https://orgd.test", Hasher: password.Fast, Resolver: z, Now: c.Now})
	e := &env{t: t, ctx: context.Background(), db: db, svc: svc, dns: z, clock: c}
	r, err := svc.SignUp(e.ctx, orgmodel.OperatorActor("cli"), orgmodel.SignUpInput{Email: "owner@acme.test", Password: "Corr3ct-Horse-Battery", EmailVerified: true})
	require.NoError(t, err)
	e.org, e.owner = r.OrgSID, r.UserSID
	e.verify(e.org, "acme.test")
	tok, err := svc.CreateSCIMToken(e.ctx, orgmodel.OperatorActor("cli"), e.org, "idp")
	require.NoError(t, err)
	e.token = tok.Token
	e.h = scim.NewHandler(svc, scim.Options{BaseURL: base})
	return e
}

// with returns e reporting to t (a fuzz target's own).
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// verify registers and verifies domain for org through DNS.
func (e *env) verify(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	op := orgmodel.OperatorActor("cli")
	d, err := e.svc.AddDomain(e.ctx, op, org, domain)
	require.NoError(e.t, err)
	e.dns.mu.Lock()
	e.dns.txt[d.TXTName] = []string{d.TXTValue}
	e.dns.mu.Unlock()
	_, err = e.svc.VerifyDomain(e.ctx, op, org, domain)
	require.NoError(e.t, err)
}

// resp is a recorded response.
type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

// JSON decodes the body.
func (r *resp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// do sends a request with the env's token; body is JSON-encoded unless it
// is a string or []byte. hdr holds header pairs.
func (e *env) do(method, path string, body any, hdr ...string) *resp {
	e.t.Helper()
	return e.doToken(e.token, method, path, body, hdr...)
}

func (e *env) doToken(token, method, path string, body any, hdr ...string) *resp {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "http://orgd.test"+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &resp{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// mustStatus asserts a status and returns the decoded body (nil for 204).
func (e *env) must(status int, r *resp) map[string]any {
	e.t.Helper()
	require.Equal(e.t, status, r.Code, "body: %s", r.Body)
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON(e.t)
}

// newUser provisions email through SCIM and returns its id.
func (e *env) newUser(email string, extra ...map[string]any) string {
	e.t.Helper()
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": email, "active": true}
	for _, x := range extra {
		for k, v := range x {
			body[k] = v
		}
	}
	doc := e.must(201, e.do("POST", "/Users", body))
	return doc["id"].(string)
}

func (e *env) newGroup(name string, members ...string) string {
	e.t.Helper()
	ms := []map[string]string{}
	for _, m := range members {
		ms = append(ms, map[string]string{"value": m})
	}
	doc := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": ms}))
	return doc["id"].(string)
}

// patchOps is a PatchOp body.
func patchOps(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

func q(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22", "[", "%5B", "]", "%5D").Replace(s)
}

var _ = fmt.Sprintf
