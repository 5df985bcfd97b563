// Command orgbench seeds an organization of N users and groups into an orgd
// database, starts one or more `orgd serve` on it (or uses running ones),
// drives a mix of SCIM, SAML login (ACS) and Twilio-compatible API calls
// at a given concurrency, and prints a markdown table of throughput and
// p50 / p99 / max latency next to a baseline measured in the same run: a
// bare net/http handler returning a fixed JSON body, in a process of its
// own on the same machine.
//
//	orgbench --db sqlite:/tmp/b.db --users 1000000 --orgd ./bin/orgd
//	orgbench --db 'postgres://…/bench' --replicas 2 --orgd ./bin/orgd
//
// It sends traffic to loopback addresses only, and every scenario stops by
// itself after --duration (or when its pre-signed logins run out).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type config struct {
	db          string
	state       string
	users       int
	groups      int
	orgd        string
	replicas    int
	urls        []string
	baseURL     string
	conc        int
	duration    time.Duration
	scenarios   []string
	acsLogins   int
	serveArgs   []string
	out         string
	logDir      string
	pprofAddr   string
	keepServers bool
}

var allScenarios = []string{"baseline", "scim-create", "scim-get", "scim-filter", "scim-list", "group-patch", "acs", "api-fetch"}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-baseline-serve" {
		baselineServe(os.Args[2])
		return
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orgbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orgbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var urls, scen, serveArgs string
	fs.StringVar(&c.db, "db", "", "the orgd database `DSN` (sqlite:PATH or postgres://…); seeded when its state file is missing")
	fs.StringVar(&c.state, "state", "", "where the seeded organization's credentials are kept (`FILE`; default: PATH.orgbench.json for SQLite, a file in the temporary directory for PostgreSQL)")
	fs.IntVar(&c.users, "users", 10000, "users to seed (`N`)")
	fs.IntVar(&c.groups, "groups", 20, "groups to seed")
	fs.StringVar(&c.orgd, "orgd", "./bin/orgd", "the orgd binary to start (`PATH`)")
	fs.IntVar(&c.replicas, "replicas", 1, "how many `orgd serve` to start on the database; requests are spread over them")
	fs.StringVar(&urls, "url", "", "comma-separated base `URLs` of running servers on this machine, instead of starting them")
	fs.StringVar(&c.baseURL, "base-url", "", "the --base-url the servers were given (default: the first --url); SAML responses are addressed to it")
	fs.IntVar(&c.conc, "concurrency", 8, "concurrent clients")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "how long each scenario runs")
	fs.StringVar(&scen, "scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios to run, in order")
	fs.IntVar(&c.acsLogins, "acs-logins", 3000, "SAML responses to sign before the acs scenario (each is used once: the replay cache refuses repeats)")
	fs.StringVar(&serveArgs, "serve-args", "", "extra space-separated arguments for each `orgd serve`")
	fs.StringVar(&c.out, "out", "", "also write the report to this `FILE`")
	fs.StringVar(&c.logDir, "log-dir", "", "where the servers' logs go (default: a temporary directory, removed at the end)")
	freshPG := fs.Bool("fresh-postgres", false, "create a new database on the PostgreSQL server --db names, run there, and drop it at the end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.db == "" {
		return errors.New("--db is required: orgbench seeds the database and reads the seeded organization's credentials from it")
	}
	if c.users < 1 || c.conc < 1 || c.replicas < 1 || c.duration <= 0 {
		return errors.New("--users, --concurrency, --replicas and --duration must be positive")
	}
	if urls != "" {
		for _, u := range strings.Split(urls, ",") {
			u = strings.TrimRight(strings.TrimSpace(u), "/")
			if err := checkLoopback(u); err != nil {
				return err
			}
			c.urls = append(c.urls, u)
		}
	}
	for _, s := range strings.Split(scen, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(allScenarios, ", "))
		}
		c.scenarios = append(c.scenarios, s)
	}
	c.serveArgs = strings.Fields(serveArgs)
	if *freshPG {
		dsn, drop, err := freshPostgres(context.Background(), c.db)
		if err != nil {
			return err
		}
		defer drop()
		c.db = dsn
		fmt.Fprintln(stderr, "orgbench: created a fresh PostgreSQL database; it is dropped at the end")
	}
	if c.state == "" {
		if p, ok := strings.CutPrefix(c.db, "sqlite:"); ok {
			c.state = p + ".orgbench.json"
		} else {
			c.state = filepath.Join(os.TempDir(), fmt.Sprintf("orgbench-%x.json", hashString(c.db)))
		}
	}
	ctx := context.Background()
	rep := &report{cfg: c, started: time.Now(), load0: loadAvg()}

	st, err := loadOrSeed(ctx, &c, rep, stderr)
	if err != nil {
		return err
	}

	// The servers.
	if len(c.urls) == 0 {
		logDir := c.logDir
		if logDir == "" {
			d, err := os.MkdirTemp("", "orgbench-logs-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(d)
			logDir = d
		}
		servers, err := startServers(ctx, &c, logDir, stderr)
		defer stopServers(servers)
		if err != nil {
			return err
		}
		rep.servers = servers
		for _, s := range servers {
			c.urls = append(c.urls, s.url)
		}
		if c.baseURL == "" {
			c.baseURL = servers[0].base
		}
	}
	if c.baseURL == "" {
		c.baseURL = c.urls[0]
	}
	bl, err := startBaseline()
	if err != nil {
		return err
	}
	defer bl.stop()

	d := newDriver(&c, st, bl.url)
	for _, s := range rep.servers {
		d.pids = append(d.pids, s.cmd.Process.Pid)
	}
	for _, name := range c.scenarios {
		fmt.Fprintf(stderr, "orgbench: %s: %d clients for %v…\n", name, c.conc, c.duration)
		r, err := d.run(ctx, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if r.Errors > 0 {
			fmt.Fprintf(stderr, "orgbench: %s: %d unexpected answers, the first: %s\n", name, r.Errors, r.FirstErr)
		}
		rep.results = append(rep.results, r)
	}
	rep.notes = d.notes
	for _, s := range rep.servers {
		s.rssNow, s.rssPeak = rss(s.cmd.Process.Pid)
	}
	rep.load1 = loadAvg()
	rep.finished = time.Now()
	var b strings.Builder
	rep.write(&b)
	fmt.Fprint(stdout, b.String())
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkLoopback refuses a server that is not on this machine: orgbench
// only loads loopback addresses.
func checkLoopback(u string) error {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return fmt.Errorf("--url %q: only http:// URLs on this machine are loaded", u)
	}
	host := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host = rest[:i]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--url %q: orgbench loads loopback addresses only (127.0.0.0/8, ::1, localhost)", u)
}

// server is one `orgd serve` started by orgbench.
type server struct {
	cmd             *exec.Cmd
	url, base       string
	startup         time.Duration
	rssNow, rssPeak int64 // bytes
	logPath         string
	exited          chan struct{} // closed when the process has ended
	waitErr         error         // how it ended, once exited is closed
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServers starts c.replicas `orgd serve` one after the other and
// measures each one's start-up: from the exec to the first 200 of
// /readyz.
func startServers(ctx context.Context, c *config, logDir string, stderr io.Writer) ([]*server, error) {
	var out []*server
	base := ""
	for i := range c.replicas {
		addr, err := freeAddr()
		if err != nil {
			return out, err
		}
		if base == "" {
			base = "http://" + addr
		}
		s := &server{url: "http://" + addr, base: base, logPath: filepath.Join(logDir, fmt.Sprintf("orgd-%d.log", i)), exited: make(chan struct{})}
		logf, err := os.Create(s.logPath)
		if err != nil {
			return out, err
		}
		// orgbench measures what a server can answer: the per-credential
		// rate limit (every scenario uses one credential) is lifted unless
		// --serve-args sets it again (a later flag wins).
		args := append([]string{"serve", "--db", c.db, "--addr", addr, "--base-url", base, "--token-rate", "0"}, c.serveArgs...)
		if strings.HasPrefix(c.db, "postgres") && !slices.Contains(c.serveArgs, "--secret-key-file") && os.Getenv("ORGD_SECRET_KEY_FILE") == "" {
			// serve needs one on PostgreSQL, the same for every replica.
			args = append(args, "--secret-key-file", c.state+".key")
		}
		s.cmd = exec.Command(c.orgd, args...)
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
		t0 := time.Now()
		if err := s.cmd.Start(); err != nil {
			logf.Close()
			return out, fmt.Errorf("starting %s: %w", c.orgd, err)
		}
		go func() { s.waitErr = s.cmd.Wait(); logf.Close(); close(s.exited) }()
		out = append(out, s)
		if err := waitReady(ctx, s, 60*time.Second); err != nil {
			return out, err
		}
		s.startup = time.Since(t0)
		fmt.Fprintf(stderr, "orgbench: orgd serve %d ready at %s in %v\n", i+1, s.url, s.startup.Round(time.Millisecond))
	}
	return out, nil
}

func waitReady(ctx context.Context, s *server, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			tail, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("orgd serve exited (%v) before it was ready; its log ends with:\n%s", s.waitErr, lastLines(string(tail), 5))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/readyz", nil)
		if res, err := client.Do(req); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("orgd serve at %s was not ready within %v", s.url, limit)
}

func stopServers(ss []*server) {
	for _, s := range ss {
		_ = s.cmd.Process.Signal(os.Interrupt)
	}
	for _, s := range ss {
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// rss reads a process's resident set size now and at its peak (VmRSS and
// VmHWM of /proc/PID/status, Linux only; 0 elsewhere).
func rss(pid int) (now, peak int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		var kb int64
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &kb)
			now = kb << 10
		} else if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &kb)
			peak = kb << 10
		}
	}
	return now, peak
}

// loadAvg is the 1-minute load average (Linux), "?" elsewhere.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// processCPU is a process's user and system CPU time (Linux; 0 elsewhere).
func processCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; count from its ')'.
	s := string(raw)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
