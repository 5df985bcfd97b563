package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/store"
)

// server is `orgd serve` running in-process on a free port.
type server struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() error // cancels the context and returns run's error
}

var servingRE = regexp.MustCompile(`orgd: serving on (http://\S+)`)

func startServe(t *testing.T, c *orgdCLI, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), c.getenv, s.stdout, s.stderr)
	}()
	var stopped bool
	var runErr error
	s.stop = func() error {
		if !stopped {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("serve did not stop after its context was cancelled")
			}
			stopped = true
		}
		return runErr
	}
	t.Cleanup(func() { _ = s.stop() })
	eventually(t, "serve prints where it listens", func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\nstderr: %s", err, s.stderr.String())
		default:
		}
		m := servingRE.FindStringSubmatch(s.stdout.String())
		if m != nil {
			s.url = m[1]
		}
		return m != nil
	})
	return s
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// logLines decodes the JSON log lines serve wrote on stderr.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		require.NoErrorf(t, json.Unmarshal(sc.Bytes(), &m), "log line is not JSON: %s", sc.Text())
		out = append(out, m)
	}
	return out
}

func TestServe_EndToEnd(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		c := newCLI(t, dsn)
		s := startServe(t, c)
		out := s.stdout.String()
		require.Contains(t, out, s.url+"/healthz")
		require.Contains(t, out, "/console/")
		require.Regexp(t, `orgd signup .*--email \S+ --password`, out, "the banner says how to sign in")
		require.Contains(t, out, "orgd: console "+s.url+"/console/ — sign up at "+s.url+"/signup", "the banner says the console is there")
		resp, body := get(t, s.url+"/console/assets/console.css")
		require.Equal(t, http.StatusOK, resp.StatusCode, "the console is mounted: %s", body)

		resp, body = get(t, s.url+"/healthz")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.JSONEq(t, `{"status":"ok"}`, body)
		require.NotEmpty(t, resp.Header.Get("X-Request-Id"))

		resp, body = get(t, s.url+"/readyz")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)

		resp, body = get(t, s.url+"/scim/v2/Users")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "SCIM is mounted and asks for its token")
		require.JSONEq(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401",
			"detail":"a bearer token is required (Authorization: Bearer <SCIM token>)"}`, body)

		resp, body = get(t, s.url+"/no-such-surface")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.JSONEq(t, `{"error":"not found"}`, body)
		id := resp.Header.Get("X-Request-Id")
		require.NotEmpty(t, id)

		var metrics string
		eventually(t, "the first mail job run is counted", func() bool {
			resp, metrics = get(t, s.url+"/metrics")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			return strings.Contains(metrics, `orgd_job_runs_total{job="mail-log",result="ok"}`)
		})
		for _, want := range []string{
			"# TYPE orgd_http_requests_total counter",
			`orgd_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
			`orgd_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
			"# TYPE orgd_http_request_duration_seconds histogram",
			"# TYPE go_goroutines gauge",
		} {
			require.Truef(t, strings.Contains(metrics, want), "/metrics lacks %s", want)
		}
		// SQLite's single writer: how many writes it carried, in how many batches, and how busy it was.
		writer := regexp.MustCompile(`(?m)^orgd_sqlite_writer_(batches|writes|busy_seconds|commit_seconds)_total ([0-9.e+-]+)$`).FindAllStringSubmatch(metrics, -1)
		if !strings.HasPrefix(dsn, "postgres") {
			w := map[string]float64{}
			for _, m := range writer {
				w[m[1]], _ = strconv.ParseFloat(m[2], 64)
			}
			require.Len(t, w, 4, "/metrics has the writer's four counters")
			require.Positive(t, w["batches"], "the mail job's runs wrote")
			require.GreaterOrEqual(t, w["writes"], w["batches"])
			require.Positive(t, w["busy_seconds"])
			require.GreaterOrEqual(t, w["busy_seconds"], w["commit_seconds"])
		} else {
			require.Empty(t, writer, "PostgreSQL has no single writer")
		}

		var logged bool
		for _, l := range logLines(t, s.stderr.String()) {
			if l["msg"] == "http request" && l["path"] == "/no-such-surface" {
				require.Equal(t, id, l["request_id"], "the log line carries the request id the client saw")
				require.EqualValues(t, 404, l["status"])
				logged = true
			}
		}
		require.True(t, logged, "the request was logged")

		require.NoError(t, s.stop(), "a cancelled context is a clean shutdown")
		_, err := http.Get(s.url + "/healthz")
		require.Error(t, err, "the listener is closed after shutdown")
		require.Contains(t, s.stderr.String(), `"msg":"stopped"`)
	})
}

// TestServe_MailBySMTP: with --smtp, an invitation made while serve runs
// reaches the SMTP server with its link, once.
func TestServe_MailBySMTP(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		mx := startSMTP(t)
		s := startServe(t, f.orgdCLI, "--smtp", "smtp://"+mx.addr+"?from=orgd@acme-ops.test", "--mail-interval", "20ms",
			"--base-url", "https://orgd.acme-ops.test")
		require.Contains(t, s.stdout.String(), "delivered by SMTP")
		eventually(t, "the fixture's invitation is delivered", func() bool { return len(mx.received()) == 1 })

		f.env["ORGD_BASE_URL"] = "https://orgd.acme-ops.test"
		inv := f.ok("user", "invite", "--org", f.orgA, "--email", "alice@acme.test", "--role", "administrator")
		eventually(t, "alice's invitation is delivered", func() bool { return len(mx.received()) == 2 })
		m := mailTo(t, mx.received(), "alice@acme.test")
		require.Equal(t, "orgd@acme-ops.test", m.from)
		msg := parseMail(t, m.data)
		require.Equal(t, "Invitation to Acme", msg.subject)
		require.Contains(t, msg.body, "https://orgd.acme-ops.test/signup?invitation="+inv.str("token"))
		require.Regexp(t, `^<\d+\.\d+@acme-ops.test>$`, msg.header.Get("Message-Id"))

		require.NoError(t, s.stop())
		require.Len(t, mx.received(), 2, "nothing was sent twice")
		require.Empty(t, f.ok("mail", "list", "--unsent").list("messages"))
	})
}

// TestServe_MailToLog: without --smtp, each mail is logged once, without
// its body (the link token), and stays in the outbox for `orgd mail list`.
func TestServe_MailToLog(t *testing.T) {
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	inv := f.ok("user", "invite", "--org", f.orgA, "--email", "alice@acme.test")
	s := startServe(t, f.orgdCLI, "--mail-interval", "20ms")
	eventually(t, "the invitation is logged", func() bool { return strings.Contains(s.stderr.String(), "alice@acme.test") })
	require.NoError(t, s.stop())
	var n int
	for _, l := range logLines(t, s.stderr.String()) {
		if l["to"] == "alice@acme.test" {
			n++
			require.Equal(t, "Invitation to Acme", l["subject"])
		}
	}
	require.Equal(t, 1, n, "logged once")
	require.NotContains(t, s.stderr.String(), inv.str("token"), "tokens never reach the log")

	m := find(f.ok("mail", "list", "--to", "alice@acme.test").list("messages"), "to", "alice@acme.test")
	require.NotNil(t, m)
	require.NotEmpty(t, m.str("logged_at"))
	require.Empty(t, m.str("sent_at"))
	require.Contains(t, m.str("body"), inv.str("token"), "the operator reads the link in the outbox")
}

// TestServe_GCPercent: serve collects garbage less often than Go's
// default, unless the environment's GOGC says how often. Not parallel: the
// GC percent is the process's, and every other serve test sets it too.
func TestServe_GCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	c := newCLI(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	require.NoError(t, startServe(t, c).stop())
	require.Equal(t, serveGCPercent, debug.SetGCPercent(100), "serve without GOGC sets its own")

	c.env["GOGC"] = "150" // the runtime read it at start; serve must leave it be
	require.NoError(t, startServe(t, c).stop())
	require.Equal(t, 100, debug.SetGCPercent(100), "serve with GOGC leaves the collector as the environment set it")
}

func TestServe_AddressInUse(t *testing.T) {
	c := newCLI(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	s := startServe(t, c)
	addr := strings.TrimPrefix(s.url, "http://")
	code, o := c.fail("serve", "--addr", addr)
	require.Equal(t, 1, code)
	require.Contains(t, o.str("error"), "cannot listen on "+addr)
}

func TestRouter_ReadyzFailsWithoutDatabase(t *testing.T) {
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), nil)
	require.NoError(t, err)
	h := newRouter(discardLog(), db, newMetrics())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code)

	require.NoError(t, db.Close())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"unavailable"}`, rec.Body.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code, "the process is still up")
}

// TestRouter_PanicIsAGeneric500: the client gets a reference, never the
// panic or a stack; the log gets both, under the same reference.
func TestRouter_PanicIsAGeneric500(t *testing.T) {
	var logs syncBuffer
	h := newRouter(slog.New(requestIDHandler{slog.NewJSONHandler(&logs, nil)}), nopPinger{}, newMetrics())
	h.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("secret detail: SELECT * FROM users") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, "internal error", body["error"])
	require.Regexp(t, `^[0-9a-f]{12}$`, body["ref"])
	require.NotContains(t, rec.Body.String(), "SELECT")
	require.NotContains(t, rec.Body.String(), "goroutine")
	require.Contains(t, logs.String(), body["ref"])
	require.Contains(t, logs.String(), "SELECT * FROM users")
	require.Contains(t, logs.String(), `"request_id"`)
}

func TestRouter_RequestID(t *testing.T) {
	h := newRouter(discardLog(), nopPinger{}, newMetrics())
	for in, keep := range map[string]bool{"abc-123": true, "bad id\twith tab": false, strings.Repeat("x", 100): false} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header.Set("X-Request-Id", in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		require.NotEmpty(t, got)
		require.Equal(t, keep, got == in, "request id %q", in)
	}
}

type nopPinger struct{}

func (nopPinger) Ping(context.Context) error { return nil }

// On PostgreSQL there is no default key file (replicas must share one), so
// serve refuses to start without one instead of keeping secrets in clear.
func TestServe_PostgreSQLNeedsSecretKeyFile(t *testing.T) {
	c := newCLI(t, postgresDB(t))
	delete(c.env, "ORGD_SECRET_KEY_FILE")
	code, o := c.fail("serve", "--addr", "127.0.0.1:0")
	require.Equal(t, 2, code)
	require.Contains(t, o.str("error"), "--secret-key-file")

	c.env["ORGD_SECRET_KEY_FILE"] = filepath.Join(t.TempDir(), "secret.key")
	s := startServe(t, c)
	resp, err := http.Get(s.url + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.FileExists(t, c.env["ORGD_SECRET_KEY_FILE"], "a missing key file is made")
}
