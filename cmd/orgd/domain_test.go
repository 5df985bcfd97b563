package main

import (
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
)

// TestDomainVerify_RealDNS drives `orgd domain verify --dns-server` end to
// end against a real DNS server on loopback (R-DOM-1).
func TestDomainVerify_RealDNS(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		dns := startDNS(t)
		c := newCLI(t, dsn)
		org := c.ok("signup", "--email", "owner@bar-acme.test", "--password", testPassword, "--name", "Bar Acme").str("organization_sid")

		d := c.ok("domain", "add", "--org", org, "--domain", "Bar-Acme.TEST")
		require.Equal(t, "bar-acme.test", d.str("domain"), "upper case is folded (R-DOM-2)")
		require.Equal(t, "unverified", d.str("status"))
		require.Regexp(t, `^DN[0-9a-f]{32}$`, d.str("sid"))
		require.Equal(t, "_orgd.bar-acme.test", d.str("txt_name"))
		require.Regexp(t, `^orgd-domain-verification=[0-9a-f]{32}$`, d.str("txt_value"))

		verify := []string{"domain", "verify", "--org", org, "--domain", "bar-acme.test", "--dns-server", dns.addr}
		o := c.refused(3, "R-DOM-1", verify...)
		require.Contains(t, o.str("error"), "_orgd.bar-acme.test", "the error names the record to publish")

		dns.add(d.str("txt_name"), "orgd-domain-verification="+strings.Repeat("0", 32))
		c.refused(3, "R-DOM-1", verify...) // another token proves nothing

		dns.add(d.str("txt_name"), d.str("txt_value"))
		v := c.ok(verify...)
		require.Equal(t, "verified", v.str("status"))
		require.Equal(t, d.str("sid"), v.str("sid"))
		require.NotEmpty(t, v.str("verified_at"))
		require.Equal(t, "verified", c.ok("domain", "list", "--org", org).list("domains")[0].str("status"))
		require.Equal(t, "domain.verify", c.ok("audit", "list", "--org", org, "--limit", "1").list("events")[0].str("action"))
	})
}

// TestDomainVerify_TruncatedUDPFallsBackToTCP checks that --dns-server
// takes the Go resolver's whole path: an answer too large for UDP comes
// back truncated and is asked again over TCP.
func TestDomainVerify_TruncatedUDPFallsBackToTCP(t *testing.T) {
	dns := startDNS(t)
	c := newCLI(t, "sqlite:"+t.TempDir()+"/orgd.db")
	org := c.ok("signup", "--email", "owner@big-acme.test", "--password", testPassword).str("organization_sid")
	d := c.ok("domain", "add", "--org", org, "--domain", "big-acme.test")
	for i := range 12 {
		dns.add(d.str("txt_name"), strings.Repeat(string(rune('a'+i)), 200))
	}
	dns.add(d.str("txt_name"), d.str("txt_value"))
	v := c.ok("domain", "verify", "--org", org, "--domain", "big-acme.test", "--dns-server", dns.addr)
	require.Equal(t, "verified", v.str("status"))
	require.Positive(t, dns.tcp.Load(), "the answer did not fit UDP, so it must have come over TCP")
}

// TestDomainVerify_DNSServerDown: a server that does not answer says
// nothing about the record; verification is refused and nothing changes.
func TestDomainVerify_DNSServerDown(t *testing.T) {
	c := newCLI(t, "sqlite:"+t.TempDir()+"/orgd.db")
	org := c.ok("signup", "--email", "owner@down-acme.test", "--password", testPassword).str("organization_sid")
	c.ok("domain", "add", "--org", org, "--domain", "down-acme.test")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := pc.LocalAddr().String()
	pc.Close()
	o := c.refused(3, "R-DOM-1", "domain", "verify", "--org", org, "--domain", "down-acme.test", "--dns-server", dead)
	require.Contains(t, o.str("error"), "did not answer")

	code, o := c.fail("domain", "verify", "--org", org, "--domain", "down-acme.test", "--dns-server", "nowhere")
	require.Equal(t, 2, code)
	require.Contains(t, o.str("error"), "--dns-server")
}

// TestDomainRecheckJob runs serve's domain re-check job against the real
// DNS server: a record gone is noted, and after the 30-day grace the
// domain stops being verified (R-DOM-1).
func TestDomainRecheckJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		clk := &clock{}
		svc := testService(t, dsn, f.dns.addr, clk.Now)
		recheck := jobNamed(t, serverJobs(svc, nil, time.Second, discardLog()), "domain-recheck")

		n, err := recheck.run(t.Context())
		require.NoError(t, err)
		require.Zero(t, n, "nothing is due within 24 hours of verification")

		f.dns.remove("_orgd.acme.test")
		clk.add(orgmodel.DomainRecheck + time.Minute)
		n, err = recheck.run(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, n, "acme.test of A and of C")
		require.Equal(t, "verified", domainOf(f, f.orgA, "acme.test").str("status"), "still verified within the grace")
		require.NotEmpty(t, domainOf(f, f.orgA, "acme.test").str("missing_since"))

		clk.add(orgmodel.DomainGrace)
		_, err = recheck.run(t.Context())
		require.NoError(t, err)
		require.Equal(t, "unverified", domainOf(f, f.orgA, "acme.test").str("status"))
		require.NotNil(t, find(f.ok("audit", "list", "--org", f.orgA).list("events"), "action", "domain.unverify"))
	})
}

func domainOf(f *fixture, org, name string) obj {
	return find(f.ok("domain", "list", "--org", org).list("domains"), "domain", name)
}

func jobNamed(t *testing.T, jobs []job, name string) job {
	for _, j := range jobs {
		if j.name == name {
			return j
		}
	}
	t.Fatalf("no job %q", name)
	return job{}
}

// testService opens dsn for a test that sets the clock.
func testService(t *testing.T, dsn, dnsServer string, now func() time.Time) *orgmodel.Service {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	keys := "" // SQLite: the default file beside the database
	if _, err := sqlitePath("--db", dsn); err != nil {
		keys = testKeyFile(t, dsn)
	}
	require.NoError(t, useKeys(t.Context(), db, dsn, keys, slog.New(slog.DiscardHandler)), "the key file the CLI uses")
	res, err := newResolver(dnsServer)
	require.NoError(t, err)
	return orgmodel.NewService(db, orgmodel.Config{BaseURL: defaultBaseURL, Hasher: passwordHasher, Resolver: res, Now: now})
}

// clock runs with real time plus an offset the test moves forward, so
// that what the CLI writes with the real clock is in its past.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
