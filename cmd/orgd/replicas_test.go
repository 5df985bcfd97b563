package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crewjam/saml/testsaml"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/ssotest"
	"github.com/orgd/orgd/store"
)

// lbURL is the public address both replicas share (--base-url), as behind
// a load balancer: mailed links and the SAML ACS URL name it, whichever
// replica answers. The test talks to each replica's own listener.
const lbURL = "http://orgd-lb.test"

// TestReplicas_PostgreSQL starts two `orgd serve` processes, built from
// this tree, at the same moment on one fresh PostgreSQL database and checks
// that they behave as one server: migrations run once; a user created
// through one is visible through the other at once; a SAML assertion (and
// an AuthnRequest) accepted by one is refused as a replay by the other; a
// session ended on one is refused by the other at once; every outbox mail
// is delivered exactly once, every due domain re-checked exactly once and
// every expired import expired exactly once, with both replicas running the
// jobs.
func TestReplicas_PostgreSQL(t *testing.T) {
	if os.Getenv("ORGD_TEST_POSTGRES") == "" {
		t.Skip("ORGD_TEST_POSTGRES is not set; the multi-replica test needs PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	dsn := postgresDB(t)
	bin := buildOrgd(t)
	dns := startDNS(t)
	mx := startSMTP(t)
	// An IdP publishing its metadata at an https URL the replicas trust.
	var mdMu sync.Mutex
	var mdServed []byte
	var mdFetches atomic.Int32
	mdSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mdFetches.Add(1)
		mdMu.Lock()
		defer mdMu.Unlock()
		_, _ = w.Write(mdServed)
	}))
	t.Cleanup(mdSrv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mdSrv.Certificate().Raw}), 0o600))
	env := []string{"SSL_CERT_FILE=" + caFile}
	serveArgs := []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--base-url", lbURL,
		"--dns-server", dns.addr, "--smtp", "smtp://" + mx.addr, "--mail-interval", "100ms",
		"--secret-key-file", testKeyFile(t, dsn)} // one key file, as every replica must share

	// Migrations once: both start on the empty database together.
	reps := startReplicas(t, bin, serveArgs, env, 2)
	r1, r2 := reps[0], reps[1]
	migrations := checkMigratedOnce(t, dsn)
	for _, r := range reps {
		resp, _ := get(t, r.url+"/readyz")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s is ready", r.name)
	}

	c := newCLI(t, dsn)
	c.env["ORGD_BASE_URL"] = lbURL
	c.env["ORGD_DNS_SERVER"] = dns.addr
	org := c.ok("signup", "--email", "owner@rep-acme.test", "--password", testPassword, "--name", "Replica Acme").str("organization_sid")
	d := c.ok("domain", "add", "--org", org, "--domain", "rep-acme.test")
	dns.add(d.str("txt_name"), d.str("txt_value"))
	c.ok("domain", "verify", "--org", org, "--domain", "rep-acme.test")
	tok := c.ok("scim-token", "create", "--org", org).str("token")
	idp := ssotest.NewIdP(t, "https://idp.rep.test/metadata", "idp.rep.test", time.Now())
	mdPath := filepath.Join(t.TempDir(), "idp.xml")
	require.NoError(t, os.WriteFile(mdPath, idp.Metadata(), 0o600))
	set := c.ok("sso", "set", "--org", org, "--idp-metadata", mdPath, "--allow-idp-initiated")
	acsPath := "/sso/saml/" + org + "/acs"
	require.Equal(t, lbURL+acsPath, set.str("acs_url"))
	inv := c.ok("user", "invite", "--org", org, "--email", "alice@rep-acme.test")
	c.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword)

	t.Run("user created on one is visible on the other", func(t *testing.T) {
		code, _, u := scimCall(t, "POST", r1.url+"/scim/v2/Users", tok, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "bob@rep-acme.test",
			"name": map[string]any{"givenName": "Bob", "familyName": "Rep"}, "active": true,
		})
		require.Equal(t, http.StatusCreated, code, "%v", u)
		id := u["id"].(string)
		code, _, got := scimCall(t, "GET", r2.url+"/scim/v2/Users/"+id, tok, nil)
		require.Equal(t, http.StatusOK, code, "%v", got)
		require.Equal(t, "bob@rep-acme.test", got["userName"])
		code, _, list := scimCall(t, "GET", r2.url+"/scim/v2/Users?filter="+url.QueryEscape(`userName eq "bob@rep-acme.test"`), tok, nil)
		require.Equal(t, http.StatusOK, code)
		require.EqualValues(t, 1, list["totalResults"])

		// And back: a change through the second is read through the first.
		code, _, _ = scimCall(t, "PATCH", r2.url+"/scim/v2/Users/"+id, tok, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "path": "name.givenName", "value": "Robert"}}})
		require.Equal(t, http.StatusOK, code)
		code, _, got = scimCall(t, "GET", r1.url+"/scim/v2/Users/"+id, tok, nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "Robert", got["name"].(map[string]any)["givenName"])
	})

	t.Run("credentials issued or revoked anywhere hold on every replica", func(t *testing.T) {
		oc := c.ok("oauth-client", "create", "--org", org)
		jwt := clientToken(t, r1.url, oc.str("client_id"), oc.str("client_secret"))
		accounts := "/Organizations/" + org + "/Accounts"
		require.Equal(t, http.StatusOK, bearerStatus(t, r2.url+accounts, jwt), "a token signed by one replica verifies on the other")
		c.ok("oauth-client", "revoke", "--org", org, "--client", oc.str("client_id"))
		for _, r := range reps {
			require.Equal(t, http.StatusUnauthorized, bearerStatus(t, r.url+accounts, jwt), "%s: the revoked client's token", r.name)
		}

		tok2 := c.ok("scim-token", "create", "--org", org, "--name", "second").str("token")
		for _, r := range reps {
			require.Equal(t, http.StatusOK, bearerStatus(t, r.url+"/scim/v2/Users", tok2), r.name)
		}
		c.ok("scim-token", "revoke", "--org", org, "--token", tok2)
		for _, r := range reps {
			require.Equal(t, http.StatusUnauthorized, bearerStatus(t, r.url+"/scim/v2/Users", tok2), "%s: the revoked SCIM token", r.name)
		}
	})

	t.Run("an assertion accepted by one is a replay on the other", func(t *testing.T) {
		// IdP-initiated: only the assertion's ID guards against replay.
		resp := idp.Build(t, ssotest.Response{NameID: "alice@rep-acme.test"}, set.str("acs_url"), set.str("sp_entity_id"), time.Now())
		form := url.Values{"SAMLResponse": {ssotest.Encode(t, resp)}}
		code, _, session := replicaPostForm(t, r1.url+acsPath, form, "")
		require.Equal(t, http.StatusSeeOther, code, r1.stderr.String())
		require.NotEmpty(t, session)
		code, _, again := replicaPostForm(t, r2.url+acsPath, form, "")
		require.Equal(t, http.StatusForbidden, code)
		require.Empty(t, again, "a replay opens no session")
		eventually(t, r2.name+" logs the replay", func() bool {
			return strings.Contains(r2.stderr.String(), "the assertion was already used")
		})

		// SP-initiated: the request one replica tracked is answered on the
		// other, once.
		id := startSAMLLogin(t, r2.url, org)
		resp = idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "alice@rep-acme.test"}, set.str("acs_url"), set.str("sp_entity_id"), time.Now())
		form = url.Values{"SAMLResponse": {ssotest.Encode(t, resp)}}
		code, _, session = replicaPostForm(t, r1.url+acsPath, form, "")
		require.Equal(t, http.StatusSeeOther, code, r1.stderr.String())
		require.NotEmpty(t, session)
		code, _, _ = replicaPostForm(t, r2.url+acsPath, form, "")
		require.Equal(t, http.StatusForbidden, code)
		answered := regexp.MustCompile(`"rule":"R-SSO-1","reason":"[^"]*(no open request|already answered)`)
		eventually(t, r2.name+" logs the answered request", func() bool { return answered.MatchString(r2.stderr.String()) })
	})

	t.Run("a session ended on one is ended on all", func(t *testing.T) {
		code, _, session := replicaPostForm(t, r1.url+"/login/password", url.Values{"email": {"alice@rep-acme.test"}, "password": {testPassword}}, "")
		require.Equal(t, http.StatusSeeOther, code, r1.stderr.String())
		require.NotEmpty(t, session)
		require.Equal(t, http.StatusOK, consoleStatus(t, r1.url, session))
		require.Equal(t, http.StatusOK, consoleStatus(t, r2.url, session))
		code, _, _ = replicaPostForm(t, r2.url+"/logout", nil, session)
		require.Equal(t, http.StatusSeeOther, code)
		require.Equal(t, http.StatusSeeOther, consoleStatus(t, r1.url, session), "logged out on the other replica")

		// A user deactivated through one replica loses the session it
		// opened on the other.
		resp := idp.Build(t, ssotest.Response{NameID: "bob@rep-acme.test"}, set.str("acs_url"), set.str("sp_entity_id"), time.Now())
		code, _, session = replicaPostForm(t, r1.url+acsPath, url.Values{"SAMLResponse": {ssotest.Encode(t, resp)}}, "")
		require.Equal(t, http.StatusSeeOther, code, r1.stderr.String())
		require.Equal(t, http.StatusOK, consoleStatus(t, r1.url, session))
		bob := c.ok("user", "list", "--org", org).list("users")
		bobSID := find(bob, "email", "bob@rep-acme.test").str("sid")
		code, _, _ = scimCall(t, "PATCH", r2.url+"/scim/v2/Users/"+bobSID, tok, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, http.StatusSeeOther, consoleStatus(t, r1.url, session), "deactivated on the other replica")
	})

	t.Run("every mail is delivered exactly once", func(t *testing.T) {
		db := openStore(t, dsn)
		const n = 60
		require.NoError(t, db.InTx(t.Context(), func(tx orgmodel.Tx) error {
			now := time.Now()
			for i := range n {
				m := &orgmodel.Mail{Kind: "invitation", To: fmt.Sprintf("m%02d@rep-acme.test", i), Subject: "Replica test " + strconv.Itoa(i),
					Body: "hello\n", CreatedAt: now, NextAttemptAt: now}
				if err := tx.EnqueueMail(t.Context(), m); err != nil {
					return err
				}
			}
			return nil
		}))
		eventually(t, "the outbox is delivered", func() bool {
			return len(c.ok("mail", "list", "--unsent").list("messages")) == 0
		})
		outbox := c.ok("mail", "list", "--limit", "1000").list("messages")
		require.GreaterOrEqual(t, len(outbox), n+1, "the test's mails and alice's invitation")
		want := map[string]bool{}
		for _, m := range outbox {
			want[strconv.Itoa(m.num("id"))] = true
		}
		got := map[string]int{}
		idRE := regexp.MustCompile(`^<(\d+)\.\d+@`)
		for _, m := range mx.received() {
			msg := parseMail(t, m.data)
			id := idRE.FindStringSubmatch(msg.header.Get("Message-Id"))
			require.NotNil(t, id, msg.header.Get("Message-Id"))
			got[id[1]]++
		}
		for id, k := range got {
			require.Equalf(t, 1, k, "outbox mail %s was delivered %d times", id, k)
			require.Truef(t, want[id], "mail %s is not in the outbox", id)
		}
		require.Len(t, got, len(want), "every outbox mail was delivered")
		// A run's count reaches the metrics when the run ends.
		eventually(t, "the replicas' mail counts add up to the outbox", func() bool {
			return r1.jobItems(t, "mail")+r2.jobItems(t, "mail") == len(want)
		})
		t.Logf("mails sent: %s %d, %s %d", r1.name, r1.jobItems(t, "mail"), r2.name, r2.jobItems(t, "mail"))
	})

	// The domain re-check and import expiry run when a replica starts and
	// then hourly: stop both, make work due, and start them together again.
	for _, r := range reps {
		r.stop(t)
	}
	db := openStore(t, dsn)
	const nDomains, nMissing, nImports = 120, 20, 8
	var domains []*orgmodel.Domain
	past := time.Now().Add(-orgmodel.DomainRecheck - time.Hour)
	for i := range nDomains {
		dm := &orgmodel.Domain{SID: orgmodel.DomainSID(orgmodel.NewSID(orgmodel.PrefixDomain)), OrgSID: orgmodel.OrgSID(org),
			Name: fmt.Sprintf("d%03d.rep-acme.test", i), Token: randHex(16), Status: orgmodel.DomainVerified,
			Signup: orgmodel.SignupRestricted, VerifiedAt: &past, CheckedAt: &past, CreatedAt: past, UpdatedAt: past}
		domains = append(domains, dm)
		if i >= nMissing {
			dns.add(dm.TXTName(), dm.TXTValue())
		}
	}
	orgB := c.ok("signup", "--email", "owner@rep-beta.test", "--password", testPassword, "--name", "Replica Beta").str("organization_sid")
	var imports []string
	for i := range nImports {
		imports = append(imports, c.ok("account", "create", "--org", orgB, "--name", "Imported "+strconv.Itoa(i)).str("sid"))
	}
	require.NoError(t, db.InTx(t.Context(), func(tx orgmodel.Tx) error {
		for _, dm := range domains {
			if err := tx.CreateDomain(t.Context(), dm); err != nil {
				return err
			}
		}
		// The IdP now publishes its metadata at a URL, with a second key.
		p, err := tx.GetIdP(t.Context(), orgmodel.OrgSID(org))
		if err != nil {
			return err
		}
		p.MetadataURL = mdSrv.URL + "/metadata"
		if err := tx.PutIdP(t.Context(), p); err != nil {
			return err
		}
		expired := time.Now().Add(-time.Hour)
		for _, a := range imports {
			l := &orgmodel.AccountLink{OrgSID: orgmodel.OrgSID(org), AccountSID: orgmodel.AccountSID(a), Relation: orgmodel.RelationPending,
				RequestedBy: "operator", TokenHash: orgmodel.HashToken(randHex(16)), ExpiresAt: &expired, CreatedAt: expired.Add(-orgmodel.ImportTTL)}
			if err := tx.PutLink(t.Context(), l); err != nil {
				return err
			}
		}
		return nil
	}))
	dns.queries() // forget the set-up's
	mdMu.Lock()
	mdServed = idp.Metadata(ssotest.NewIdP(t, "https://idp.rep.test/metadata", "idp.rep.test", time.Now()))
	mdMu.Unlock()
	idpSets := len(c.ok("audit", "list", "--org", org, "--action", "sso.idp_set").list("events"))

	reps = startReplicas(t, bin, serveArgs, env, 2)
	r1, r2 = reps[0], reps[1]
	require.Equal(t, migrations, checkMigratedOnce(t, dsn), "nothing more to migrate")

	t.Run("each due domain is re-checked exactly once", func(t *testing.T) {
		for _, r := range reps {
			eventually(t, r.name+" finishes its first domain re-check", func() bool { return r.jobRuns(t, "domain-recheck") >= 1 })
		}
		asked := dns.queries()
		for _, dm := range domains {
			require.Equalf(t, 1, asked[dm.TXTName()+"."], "look-ups of %s", dm.TXTName())
		}
		require.Len(t, asked, nDomains, "only the due domains were looked up: %v", asked)
		t.Logf("domains re-checked: %s %d, %s %d", r1.name, r1.jobItems(t, "domain-recheck"), r2.name, r2.jobItems(t, "domain-recheck"))
		require.Equal(t, nDomains, r1.jobItems(t, "domain-recheck")+r2.jobItems(t, "domain-recheck"))
		missing := c.ok("audit", "list", "--org", org, "--action", "domain.record_missing", "--limit", "1000").list("events")
		require.Len(t, missing, nMissing)
		listed := c.ok("domain", "list", "--org", org).list("domains")
		for i, dm := range domains {
			got := find(listed, "domain", dm.Name)
			require.NotNil(t, got, dm.Name)
			require.Equal(t, "verified", got.str("status"), dm.Name)
			require.Equalf(t, i < nMissing, got.str("missing_since") != "", "%s: missing_since %q", dm.Name, got.str("missing_since"))
		}
	})

	t.Run("each expired import expires exactly once", func(t *testing.T) {
		for _, r := range reps {
			eventually(t, r.name+" finishes its first import expiry", func() bool { return r.jobRuns(t, "import-expiry") >= 1 })
		}
		events := c.ok("audit", "list", "--org", org, "--action", "account.import_expire", "--limit", "1000").list("events")
		seen := map[string]int{}
		for _, e := range events {
			seen[e.str("target")]++
		}
		for _, a := range imports {
			require.Equalf(t, 1, seen[a], "expiry events of %s", a)
		}
		require.Len(t, events, nImports)
		require.Equal(t, nImports, r1.jobItems(t, "import-expiry")+r2.jobItems(t, "import-expiry"))
	})

	t.Run("a metadata change is stored once", func(t *testing.T) {
		for _, r := range reps {
			eventually(t, r.name+" finishes its first metadata refresh", func() bool { return r.jobRuns(t, "sso-metadata-refresh") >= 1 })
		}
		require.EqualValues(t, 2, mdFetches.Load(), "each replica fetched the metadata")
		require.Len(t, c.ok("audit", "list", "--org", org, "--action", "sso.idp_set").list("events"), idpSets+1, "one change, one event")
		require.Equal(t, 1, r1.jobItems(t, "sso-metadata-refresh")+r2.jobItems(t, "sso-metadata-refresh"))
		db := openStore(t, dsn)
		require.NoError(t, db.Read(t.Context(), func(tx orgmodel.Tx) error {
			p, err := tx.GetIdP(t.Context(), orgmodel.OrgSID(org))
			require.NoError(t, err)
			mdMu.Lock()
			defer mdMu.Unlock()
			require.Equal(t, string(mdServed), p.MetadataXML)
			return nil
		}))
	})

	for _, r := range reps {
		r.stop(t)
		require.NotContains(t, r.stderr.String(), `"level":"ERROR"`, "%s logged an error", r.name)
	}
}

// buildOrgd builds the orgd binary of this tree into a temporary directory.
func buildOrgd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orgd")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// replica is one `orgd serve` process.
type replica struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
	once   sync.Once
	err    error
}

// startReplicas starts n processes of bin with args (and env added to the
// test's, less orgd's variables) at the same moment and waits until each
// serves.
func startReplicas(t *testing.T, bin string, args, env []string, n int) []*replica {
	t.Helper()
	reps := make([]*replica, n)
	for i := range reps {
		r := &replica{name: "replica " + strconv.Itoa(i+1), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
		r.cmd = exec.Command(bin, args...)
		r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
		r.cmd.Env = append(replicaEnv(), env...)
		reps[i] = r
	}
	var wg sync.WaitGroup
	release := make(chan struct{})
	errs := make([]error, n)
	for i, r := range reps {
		wg.Go(func() {
			<-release
			if errs[i] = r.cmd.Start(); errs[i] == nil {
				go func() { r.done <- r.cmd.Wait() }()
			}
		})
	}
	close(release)
	wg.Wait()
	for i, r := range reps {
		require.NoError(t, errs[i], "starting %s", r.name)
		t.Cleanup(func() { r.stop(t) })
	}
	for _, r := range reps {
		eventually(t, r.name+" prints where it serves", func() bool {
			select {
			case err := <-r.done:
				r.done <- err
				t.Fatalf("%s ended early: %v\nstderr: %s", r.name, err, r.stderr.String())
			default:
			}
			if m := servingRE.FindStringSubmatch(r.stdout.String()); m != nil {
				r.url = m[1]
			}
			return r.url != ""
		})
	}
	return reps
}

// replicaEnv is the test's environment without orgd's own variables, so
// that only the flags configure a replica.
func replicaEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGD_") {
			env = append(env, kv)
		}
	}
	return env
}

// stop sends SIGTERM and waits; the replica must exit cleanly.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			_ = r.cmd.Process.Kill()
			r.err = fmt.Errorf("%s did not stop within 60 s of SIGTERM", r.name)
		}
		if r.err != nil {
			t.Errorf("%s: %v\nstderr: %s", r.name, r.err, r.stderr.String())
		}
	})
}

var jobMetricRE = regexp.MustCompile(`(?m)^orgd_job_(runs|items)_total\{job="([^"]+)"(?:,result="([^"]+)")?\} (\d+)`)

// jobMetric sums the replica's counter orgd_job_<kind>_total for job
// (runs: only those that ended ok).
func (r *replica) jobMetric(t *testing.T, kind, job string) int {
	t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	n := 0
	for _, m := range jobMetricRE.FindAllStringSubmatch(string(b), -1) {
		if m[1] == kind && m[2] == job && (kind == "items" || m[3] == "ok") {
			v, _ := strconv.Atoi(m[4])
			n += v
		}
	}
	return n
}

func (r *replica) jobRuns(t *testing.T, job string) int  { return r.jobMetric(t, "runs", job) }
func (r *replica) jobItems(t *testing.T, job string) int { return r.jobMetric(t, "items", job) }

// checkMigratedOnce checks that goose recorded each migration once and
// returns the versions applied.
func checkMigratedOnce(t *testing.T, dsn string) []int64 {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id`)
	require.NoError(t, err)
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v, n int64
		require.NoError(t, rows.Scan(&v, &n))
		require.Equalf(t, int64(1), n, "migration %d was applied %d times", v, n)
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, store.MigrationVersions("postgres"), versions, "every migration is applied, once")
	return versions
}

func openStore(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// postForm posts form (nil: empty) with the session cookie when given, and
// returns the status, Location and the session cookie set, if any.
func replicaPostForm(t *testing.T, u string, form url.Values, session string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if session != "" {
		req.AddCookie(&http.Cookie{Name: orgmodel.SessionCookie, Value: session})
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	var set string
	for _, ck := range resp.Cookies() {
		if ck.Name == orgmodel.SessionCookie && ck.MaxAge >= 0 {
			set = ck.Value
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), set
}

// consoleStatus is the status of GET /console/ with the session: 200, or
// 303 to the login page when the session is not live.
func consoleStatus(t *testing.T, base, session string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/console/", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: orgmodel.SessionCookie, Value: session})
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"), resp.Header.Get("Location"))
	}
	return resp.StatusCode
}

// startSAMLLogin starts an SP-initiated login on base and returns the
// AuthnRequest's ID.
func startSAMLLogin(t *testing.T, base, org string) string {
	t.Helper()
	resp, err := noRedirect.Get(base + "/sso/saml/" + org + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	req, err := testsaml.ParseRedirectRequest(loc)
	require.NoError(t, err)
	m := regexp.MustCompile(` ID="([^"]+)"`).FindStringSubmatch(string(req))
	require.NotNil(t, m, "AuthnRequest without an ID: %s", req)
	return m[1]
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// clientToken is the access token /v2/token at base issues for OAuth
// client credentials.
func clientToken(t testing.TB, base, id, secret string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/v2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotEmpty(t, out.AccessToken)
	return out.AccessToken
}

// bearerStatus is the status of GET u with a bearer token.
func bearerStatus(t *testing.T, u, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
