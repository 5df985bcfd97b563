package orgmodel_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

// dnsZone is a TXT resolver answering from a map, as a DNS server would:
// names it does not hold are NXDOMAIN. The end-to-end tests in cmd/orgd use
// a real DNS server on loopback; here the rules are the subject.
type dnsZone struct {
	mu   sync.Mutex
	txt  map[string][]string
	fail bool // answer SERVFAIL-like errors
}

func (z *dnsZone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.fail {
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	v, ok := z.txt[strings.ToLower(name)]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return v, nil
}

func (z *dnsZone) set(name string, values ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if values == nil {
		delete(z.txt, name)
		return
	}
	z.txt[name] = values
}

// clock is a settable test clock.
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

type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *orgmodel.Service
	db    *store.DB
	dns   *dnsZone
	clock *clock
	op    orgmodel.Actor
}

// newEnv returns a service on a fresh SQLite file.
func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return newEnvOn(t, db)
}

func newEnvOn(t *testing.T, db *store.DB) *env {
	z := &dnsZone{txt: map[string][]string{}}
	c := &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	svc := orgmodel.NewService(db, orgmodel.Config{
		BaseURL: "https://orgd.test", Hasher: password.Fast, Resolver: z, Now: c.Now,
	})
	return &env{t: t, ctx: t.Context(), svc: svc, db: db, dns: z, clock: c, op: orgmodel.OperatorActor("cli")}
}

const pw = "Corr3ct-Horse-Battery"

// signup creates a new organization for email and returns the result.
func (e *env) signup(email string) *orgmodel.SignUpResult {
	e.t.Helper()
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: email, Password: pw, EmailVerified: true})
	require.NoError(e.t, err)
	return r
}

// verified registers and verifies domain for org through DNS.
func (e *env) verified(org orgmodel.OrgSID, domain string) *orgmodel.DomainView {
	e.t.Helper()
	d, err := e.svc.AddDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
	e.dns.set(d.TXTName, d.TXTValue)
	v, err := e.svc.VerifyDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
	return v
}

// setSignup sets a verified domain's sign-up setting.
func (e *env) setSignup(org orgmodel.OrgSID, domain string, s orgmodel.SignupSetting) {
	e.t.Helper()
	_, err := e.svc.ConfigureDomain(e.ctx, e.op, org, domain, orgmodel.DomainSettings{Signup: &s})
	require.NoError(e.t, err)
}

// member invites email into org with role and accepts; returns the user.
func (e *env) member(org orgmodel.OrgSID, email string, role orgmodel.Role) orgmodel.UserSID {
	e.t.Helper()
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: org, Email: email, Role: string(role)})
	require.NoError(e.t, err)
	r, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{Via: "test"}, inv.Token, pw)
	require.NoError(e.t, err)
	return r.UserSID
}

// as returns the actor of a user.
func as(u orgmodel.UserSID) orgmodel.Actor { return orgmodel.Actor{UserSID: u, Via: "console"} }

// requireRule asserts that err is a RuleError naming rule.
func requireRule(t *testing.T, err error, rule string) {
	t.Helper()
	require.Error(t, err, "want a refusal by %s", rule)
	require.Equal(t, rule, orgmodel.RuleOf(err), "err = %v", err)
}

// promote invites email into r's organization as an Administrator, after
// verifying the email's domain for it when needed.
func (e *env) promote(r *orgmodel.SignUpResult, email string) orgmodel.UserSID {
	e.t.Helper()
	e.ensureVerified(r.OrgSID, orgmodel.EmailDomain(email))
	return e.member(r.OrgSID, email, orgmodel.RoleAdministrator)
}

// standard invites email into r's organization as a Standard user.
func (e *env) standard(r *orgmodel.SignUpResult, email string) orgmodel.UserSID {
	e.t.Helper()
	e.ensureVerified(r.OrgSID, orgmodel.EmailDomain(email))
	return e.member(r.OrgSID, email, orgmodel.RoleStandard)
}

func (e *env) ensureVerified(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	ds, err := e.svc.ListDomains(e.ctx, e.op, org)
	require.NoError(e.t, err)
	for _, d := range ds {
		if d.Name == domain && d.Status == orgmodel.DomainVerified {
			return
		}
	}
	e.verified(org, domain)
}

// firstOpenAccount returns a managed, not closed, top-level account of r's organization.
func (e *env) firstOpenAccount(r *orgmodel.SignUpResult) orgmodel.AccountSID {
	e.t.Helper()
	accts, err := e.svc.ListAccounts(e.ctx, e.op, r.OrgSID)
	require.NoError(e.t, err)
	for _, a := range accts {
		if a.Relation == orgmodel.RelationManaged && a.Status != orgmodel.AccountClosed {
			return a.SID
		}
	}
	e.t.Fatal("no open account")
	return ""
}

// sessionEnded reads the session row of token and reports whether a rule
// ended it (not merely whether Session refuses it).
func (e *env) sessionEnded(token string) bool {
	e.t.Helper()
	var ended bool
	require.NoError(e.t, e.db.Read(e.ctx, func(tx orgmodel.Tx) error {
		s, err := tx.GetSessionByTokenHash(e.ctx, orgmodel.HashToken(token))
		if errors.Is(err, orgmodel.ErrNotFound) {
			ended = true // deleted with its user
			return nil
		}
		ended = err == nil && s.EndedAt != nil
		return err
	}))
	return ended
}
