package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

func TestMain(m *testing.M) {
	// argon2id at its production cost would dominate the suite; the
	// parameters are the hasher's concern and tested in sso/password.
	passwordHasher = password.Fast
	if os.Getenv(execMainEnv) == "1" {
		main() // the test binary as orgd itself: see startChild
	}
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}

// forEachDB runs fn on a fresh SQLite file and, when ORGD_TEST_POSTGRES is
// set, on a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, postgresDB(t))
	})
}

// postgresDB creates a database of its own for t and drops it afterwards.
func postgresDB(t *testing.T) string {
	t.Helper()
	base := os.Getenv("ORGD_TEST_POSTGRES")
	if base == "" {
		t.Skip("ORGD_TEST_POSTGRES is not set; set it (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run this test on PostgreSQL too")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	name := "t_" + randHex(8)
	_, err = admin.ExecContext(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err, "CREATE DATABASE on ORGD_TEST_POSTGRES")
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// orgdCLI runs orgd verbs in-process against one database.
type orgdCLI struct {
	t   *testing.T
	env map[string]string
	// ran records which verbs succeeded, to check that a test covered them all.
	ran map[string]bool
}

func newCLI(t *testing.T, dsn string) *orgdCLI {
	env := map[string]string{"ORGD_DB": dsn}
	if _, err := sqlitePath("--db", dsn); err != nil {
		env["ORGD_SECRET_KEY_FILE"] = testKeyFile(t, dsn) // serve needs one on PostgreSQL
	}
	return &orgdCLI{t: t, env: env, ran: map[string]bool{}}
}

// testKeys holds one secret key file per PostgreSQL test database, shared
// by every CLI, server and replica of the test that made it.
var testKeys sync.Map // dsn → path

// testKeyFile is the secret key file of the test database dsn (made by
// the first process that uses it).
func testKeyFile(t *testing.T, dsn string) string {
	t.Helper()
	if p, ok := testKeys.Load(dsn); ok {
		return p.(string)
	}
	path := filepath.Join(t.TempDir(), "secret.key")
	_, err := store.LoadKeyFile(path, true)
	require.NoError(t, err)
	p, loaded := testKeys.LoadOrStore(dsn, path)
	if !loaded {
		t.Cleanup(func() { testKeys.Delete(dsn) })
	}
	return p.(string)
}

func (c *orgdCLI) getenv(k string) string { return c.env[k] }

type result struct {
	code   int
	stdout string
	stderr string
}

func (c *orgdCLI) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	err := run(c.t.Context(), args, c.getenv, &out, &errb)
	return result{code: exitCode(err), stdout: out.String(), stderr: errb.String()}
}

// ok runs a verb that must succeed and print exactly one JSON object.
func (c *orgdCLI) ok(args ...string) obj {
	c.t.Helper()
	r := c.run(args...)
	require.Equalf(c.t, 0, r.code, "orgd %s\nstderr: %s", strings.Join(args, " "), r.stderr)
	require.Emptyf(c.t, r.stderr, "orgd %s wrote to stderr", strings.Join(args, " "))
	o := oneObject(c.t, r.stdout)
	if cmd, _ := lookup(args); cmd != nil {
		c.ran[cmd.name] = true
	}
	return o
}

// fail runs a verb that must fail: nothing on stdout, exactly one JSON
// object with "error" (and at most "rule", "ref", "detail") on stderr.
func (c *orgdCLI) fail(args ...string) (int, obj) {
	c.t.Helper()
	r := c.run(args...)
	require.NotEqualf(c.t, 0, r.code, "orgd %s succeeded: %s", strings.Join(args, " "), r.stdout)
	require.Emptyf(c.t, r.stdout, "orgd %s failed but wrote to stdout", strings.Join(args, " "))
	o := oneObject(c.t, r.stderr)
	require.NotEmpty(c.t, o.str("error"), "error message")
	for k := range o {
		require.Containsf(c.t, []string{"error", "rule", "ref", "detail"}, k, "unexpected key %q in %s", k, r.stderr)
	}
	return r.code, o
}

// refused runs a verb that must fail with code and rule ("" for none) and
// leave the database exactly as it was.
func (c *orgdCLI) refused(code int, rule string, args ...string) obj {
	c.t.Helper()
	before := c.snapshot()
	got, o := c.fail(args...)
	require.Equalf(c.t, code, got, "exit status of orgd %s: %v", strings.Join(args, " "), o)
	require.Equalf(c.t, rule, o.str("rule"), "rule of orgd %s: %v", strings.Join(args, " "), o)
	require.Equalf(c.t, before, c.snapshot(), "orgd %s changed the database", strings.Join(args, " "))
	return o
}

// snapshot is what a refused command must not change: the audit log
// (every change writes an event) and the outbox.
func (c *orgdCLI) snapshot() string {
	c.t.Helper()
	r1 := c.run("audit", "list", "--limit", "1000")
	r2 := c.run("mail", "list", "--limit", "1000")
	require.Equal(c.t, 0, r1.code, r1.stderr)
	require.Equal(c.t, 0, r2.code, r2.stderr)
	return r1.stdout + r2.stdout
}

// obj is a decoded JSON object.
type obj map[string]any

func oneObject(t *testing.T, s string) obj {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var o obj
	require.NoErrorf(t, dec.Decode(&o), "not a JSON object: %q", s)
	require.NotNil(t, o, "null instead of an object")
	var extra json.RawMessage
	require.ErrorIsf(t, dec.Decode(&extra), io.EOF, "more than one JSON value in %q", s)
	return o
}

func (o obj) str(k string) string {
	s, _ := o[k].(string)
	return s
}

func (o obj) num(k string) int {
	f, _ := o[k].(float64)
	return int(f)
}

func (o obj) flag(k string) bool {
	b, _ := o[k].(bool)
	return b
}

func (o obj) list(k string) []obj {
	raw, _ := o[k].([]any)
	out := make([]obj, 0, len(raw))
	for _, v := range raw {
		m, _ := v.(map[string]any)
		out = append(out, obj(m))
	}
	return out
}

// find returns the first element of list whose key k is v.
func find(list []obj, k, v string) obj {
	for _, o := range list {
		if o.str(k) == v {
			return o
		}
	}
	return nil
}

// dnsServer is a real DNS server on loopback (UDP and TCP on one port)
// answering TXT queries from a map; unknown names are NXDOMAIN. UDP answers
// larger than the client's buffer are truncated, so that the client must
// retry over TCP, as a real server makes it.
type dnsServer struct {
	addr string
	mu   sync.Mutex
	txt  map[string][]string
	tcp  atomic.Int32 // queries over TCP
	// asked counts the questions received per lower-case FQDN.
	asked map[string]int
}

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	s := &dnsServer{txt: map[string][]string{}, asked: map[string]int{}}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ln == nil; try++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			require.Less(t, try, 20, "no port free for both UDP and TCP")
		}
	}
	s.addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.answer)}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.answer)}
	started := make(chan struct{}, 2)
	udp.NotifyStartedFunc = func() { started <- struct{}{} }
	tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	for range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the DNS server did not start")
		}
	}
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return s
}

// add publishes one more TXT value at name.
func (s *dnsServer) add(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = dns.Fqdn(strings.ToLower(name))
	s.txt[name] = append(s.txt[name], value)
}

// remove deletes every record at name.
func (s *dnsServer) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.txt, dns.Fqdn(strings.ToLower(name)))
}

// queries returns how many questions each name received (lower-case
// FQDN), and forgets them.
func (s *dnsServer) queries() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.asked
	s.asked = map[string]int{}
	return q
}

func (s *dnsServer) answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	s.mu.Lock()
	for _, q := range req.Question {
		s.asked[strings.ToLower(q.Name)]++
		vals, ok := s.txt[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if q.Qtype != dns.TypeTXT {
			continue
		}
		for _, v := range vals {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1},
				Txt: []string{v},
			})
		}
	}
	s.mu.Unlock()
	if w.LocalAddr().Network() == "tcp" {
		s.tcp.Add(1)
	} else {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// smtpServer is a real SMTP server on loopback (emersion/go-smtp) with an
// in-memory mailbox. It can be stopped and started again on the same port.
type smtpServer struct {
	t    *testing.T
	addr string
	tls  *tlsConfig
	mu   sync.Mutex
	msgs []receivedMail
	srv  *smtp.Server
}

type receivedMail struct {
	from string
	to   []string
	data string
	tls  bool
}

func startSMTP(t *testing.T) *smtpServer {
	s := &smtpServer{t: t, addr: "127.0.0.1:0"}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *smtpServer) start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	require.NoError(s.t, err)
	s.addr = ln.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, conn: c}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if s.tls != nil {
		srv.TLSConfig = s.tls.server
	}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

func (s *smtpServer) stop() {
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}

func (s *smtpServer) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.msgs...)
}

type smtpSession struct {
	s    *smtpServer
	conn *smtp.Conn
	from string
	to   []string
}

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *smtpSession) Reset()                                      { x.from, x.to = "", nil }
func (x *smtpSession) Logout() error                               { return nil }
func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.msgs = append(x.s.msgs, receivedMail{from: x.from, to: x.to, data: string(b), tls: isTLS})
	return nil
}

// syncBuffer is a bytes.Buffer safe for a server goroutine writing while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// eventually polls cond until it holds, failing t after a generous bound.
// The bound guards against hangs; nothing asserts how fast anything is.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testPassword is what test users sign up with.
const testPassword = "Corr3ct-Horse-Battery"

// fixture is a database with organizations to act on, and the DNS server
// that proves their domains:
//   - D (jane@acme.test, signed up before anyone verified acme.test);
//   - A (owner@acme.test, "Acme"), which verifies acme.test;
//   - C (henry@c-corp.test), which verifies acme.test too and has invited
//     ivan@acme.test as an Administrator who owns an account there;
//   - B (bob@beta.test), with no domains.
type fixture struct {
	*orgdCLI
	dns                 *dnsServer
	orgA, ownerA, acctA string
	orgB, ownerB, acctB string
	orgC, ownerC, acctC string
	orgD, ownerD, acctD string
	ivan, acctIvan      string
}

func newFixture(t *testing.T, dsn string) *fixture {
	f := &fixture{orgdCLI: newCLI(t, dsn), dns: startDNS(t)}
	f.env["ORGD_DNS_SERVER"] = f.dns.addr
	signup := func(email, name string) (org, user, acct string) {
		o := f.ok("signup", "--email", email, "--password", testPassword, "--name", name)
		return o.str("organization_sid"), o.str("user_sid"), o.str("account_sid")
	}
	f.orgD, f.ownerD, f.acctD = signup("jane@acme.test", "Jane's org")
	f.orgA, f.ownerA, f.acctA = signup("owner@acme.test", "Acme")
	f.orgC, f.ownerC, f.acctC = signup("henry@c-corp.test", "C Corp")
	f.orgB, f.ownerB, f.acctB = signup("bob@beta.test", "Beta")
	f.verify(f.orgA, "acme.test")
	f.verify(f.orgC, "acme.test")
	inv := f.ok("user", "invite", "--org", f.orgC, "--email", "ivan@acme.test", "--role", "administrator")
	f.ivan = f.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword).str("user_sid")
	f.acctIvan = f.ok("account", "create", "--org", f.orgC, "--name", "Ivan's", "--as", f.ivan).str("sid")
	return f
}

// verify registers domain for org, publishes its TXT record and verifies it.
func (f *fixture) verify(org, domain string) obj {
	f.t.Helper()
	d := f.ok("domain", "add", "--org", org, "--domain", domain)
	f.dns.add(d.str("txt_name"), d.str("txt_value"))
	v := f.ok("domain", "verify", "--org", org, "--domain", domain)
	require.Equal(f.t, "verified", v.str("status"))
	return v
}

// envInt is the integer in the environment variable name, or def when it
// is unset.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}
