package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/time/rate"

	"github.com/orgd/orgd/orgmodel"
)

// HTTP server limits.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	maxBodyBytes      = 1 << 20
	shutdownTimeout   = 15 * time.Second
)

// serveGCPercent is serve's GOGC when the environment sets none (GOGC and
// GOMEMLIMIT there still rule). Go's default, 100, collects each time the
// heap has doubled since the last collection, and at least every 4 MB; the
// server's live heap is 1–2 MB (SQLite's caches are outside Go's heap), so
// under load it collected about 40 times a second: at 1,000,000 users
// POST /Users cost 0.80–0.89 ms of the server's CPU with 100 and 0.62–0.73
// with 400 (6 collections a second), for 11 MiB more resident memory
// (orgbench, alternating runs; 8 clients: 1,452–1,647 → 1,700–1,932/s).
const serveGCPercent = 400

var serveCommand = &command{
	name:     "serve",
	synopsis: "[--addr 127.0.0.1:8080] [--base-url URL] [--dns-server HOST:PORT] [--smtp smtp://host:port] [--mail-from ADDR] [--secret-key-file FILE] [timeouts and rate limits: see -h]",
	summary:  "serve HTTP (health, readiness, metrics, SAML single sign-on and the login pages, the Twilio-compatible REST API, SCIM 2.0 for identity providers, the admin console) and run the background jobs",
	noActor:  true,
	raw:      true,
	setup: func(f *flagSet) action {
		addr := f.fs.String("addr", envOr(f.getenv, "ORGD_ADDR", "127.0.0.1:8080"), "listen on `HOST:PORT` (env ORGD_ADDR; default 127.0.0.1:8080)")
		smtpURL := f.fs.String("smtp", f.getenv("ORGD_SMTP"), "deliver mail through this SMTP server `URL`: smtp://[user:pass@]host[:port][?from=ADDR] (env ORGD_SMTP; default: log it and keep it in the outbox)")
		from := f.fs.String("mail-from", f.getenv("ORGD_MAIL_FROM"), "the sender `ADDRESS` of mail (env ORGD_MAIL_FROM; default orgd@ the --base-url host)")
		mailEvery := f.fs.Duration("mail-interval", defaultMailPeriod, "how often the outbox is delivered (a `duration`)")
		pprofAddr := f.fs.String("pprof-addr", "", "serve Go's pprof profiles on this loopback `HOST:PORT` (off by default; never on the main listener)")
		f.dnsServer()
		lim := serveLimits{}
		f.fs.DurationVar(&lim.readHeader, "read-header-timeout", readHeaderTimeout, "cut off a client that has not sent its request headers within this `duration` (default 10s)")
		f.fs.DurationVar(&lim.read, "read-timeout", readTimeout, "cut off a client that has not sent its whole request within this `duration` (default 30s)")
		f.fs.DurationVar(&lim.write, "write-timeout", writeTimeout, "give up writing an answer after this `duration` (default 1m)")
		f.fs.DurationVar(&lim.idle, "idle-timeout", idleTimeout, "close an idle keep-alive connection after this `duration` (default 2m)")
		f.fs.Float64Var(&lim.loginRate, "login-rate", 1, "form posts per second per client IP on the login pages (`N`; default 1; 0: no limit)")
		f.fs.IntVar(&lim.loginBurst, "login-burst", 20, "burst of form posts per client IP on the login pages (`N`; default 20)")
		f.fs.Float64Var(&lim.tokenRate, "token-rate", 5000, "requests per second per credential (SCIM token, API credential, OAuth client) to SCIM and the API (`N`; default 5000, above what one server answers, so that an identity provider provisioning at full speed is never refused; 0: no limit)")
		f.fs.IntVar(&lim.tokenBurst, "token-burst", 10000, "burst of requests per credential to SCIM and the API (`N`; default 10000)")
		f.fs.Float64Var(&lim.failRate, "auth-fail-rate", 1, "failed authentications per second per client IP to SCIM and the API (`N`; default 1; 0: no limit)")
		f.fs.IntVar(&lim.failBurst, "auth-fail-burst", 20, "burst of failed authentications per client IP to SCIM and the API (`N`; default 20)")
		var baseGiven bool
		f.check(func() error {
			if *mailEvery <= 0 {
				return f.usageErr("--mail-interval must be positive")
			}
			if err := lim.check(f); err != nil {
				return err
			}
			if *pprofAddr != "" && !loopbackAddr(*pprofAddr) {
				return f.usageErr("--pprof-addr %q must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT): profiles reveal the process's internals", *pprofAddr)
			}
			baseGiven = f.getenv("ORGD_BASE_URL") != ""
			f.fs.Visit(func(fl *flag.Flag) { baseGiven = baseGiven || fl.Name == "base-url" })
			return nil
		})
		return func(ctx context.Context, c *call) (any, error) {
			if f.getenv("GOGC") == "" {
				debug.SetGCPercent(serveGCPercent)
			}
			return nil, serve(ctx, c, serveConfig{addr: *addr, smtp: *smtpURL, mailFrom: *from, mailEvery: *mailEvery, baseGiven: baseGiven, limits: lim, pprofAddr: *pprofAddr})
		}
	},
}

type serveConfig struct {
	addr      string
	smtp      string
	mailFrom  string
	mailEvery time.Duration
	baseGiven bool // --base-url or ORGD_BASE_URL was given; otherwise it follows the listener
	limits    serveLimits
	pprofAddr string
}

// serveLimits are the server's timeouts and rate limits (serve's flags).
type serveLimits struct {
	readHeader, read, write, idle time.Duration
	loginRate                     float64
	loginBurst                    int
	tokenRate                     float64
	tokenBurst                    int
	failRate                      float64
	failBurst                     int
}

func (l *serveLimits) check(f *flagSet) error {
	for name, d := range map[string]time.Duration{"read-header-timeout": l.readHeader, "read-timeout": l.read, "write-timeout": l.write, "idle-timeout": l.idle} {
		if d <= 0 {
			return f.usageErr("--%s must be positive", name)
		}
	}
	for name, v := range map[string]float64{"login-rate": l.loginRate, "token-rate": l.tokenRate, "auth-fail-rate": l.failRate} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return f.usageErr("--%s must be a number of requests per second, 0 or more", name)
		}
	}
	for name, v := range map[string]int{"login-burst": l.loginBurst, "token-burst": l.tokenBurst, "auth-fail-burst": l.failBurst} {
		if v < 1 {
			return f.usageErr("--%s must be 1 or more", name)
		}
	}
	return nil
}

// serve runs the HTTP server and the background jobs until ctx ends, then
// shuts both down gracefully.
func serve(ctx context.Context, c *call, cfg serveConfig) error {
	log := slog.New(requestIDHandler{slog.NewJSONHandler(c.stderr, nil)})
	if _, err := sqlitePath("--db", c.opts.db); err != nil && c.opts.keyFile == "" {
		// SQLite's key file defaults to one beside the database; replicas
		// on PostgreSQL must share one, which only the operator can give.
		return &usageError{"serve on PostgreSQL needs --secret-key-file FILE (env ORGD_SECRET_KEY_FILE), the same file on every replica: it seals TOTP secrets, token signing keys and mailed links in the database (a missing file is made, mode 0600; copy it to the other replicas)"}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return &operatorError{fmt.Sprintf("cannot listen on %s: %v", cfg.addr, unwrapOp(err))}
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String()
	if !cfg.baseGiven {
		c.opts.baseURL = url
	}
	var sender orgmodel.MailSender
	if cfg.smtp != "" {
		s, err := newSMTPSender(cfg.smtp, cfg.mailFrom, c.opts.baseURL)
		if err != nil {
			return err
		}
		sender = s
	}
	if err := c.open(ctx, log); err != nil {
		return err
	}
	defer c.db.Close()

	m := newMetrics()
	if c.db.Dialect() == "sqlite" {
		m.watchWriter(c.db.WriterStats)
	}
	lim := cfg.limits
	rl := rateLimits(limitsConfig{tokenRate: rate.Limit(lim.tokenRate), tokenBurst: lim.tokenBurst, failRate: rate.Limit(lim.failRate), failBurst: lim.failBurst})
	mws := []func(http.Handler) http.Handler{rl}
	if strings.HasPrefix(c.opts.baseURL, "https://") {
		mws = append(mws, hsts)
	}
	router := mountAll(newRouter(log, c.db, m, mws...), c.svc, c.opts.baseURL, log, lim)
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	jobCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	waitJobs := startJobs(jobCtx, log, m, append(serverJobs(c.svc, sender, cfg.mailEvery, log), ssoJobs(c.svc, log)...))

	if cfg.pprofAddr != "" {
		stopPprof, err := servePprof(cfg.pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "base_url", c.opts.baseURL, "database", c.db.Dialect(), "smtp", sender != nil)
	printBanner(c.stdout, url, c.opts.baseURL, c.opts.db, sender != nil)

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
		log.Info("shutting down", "deadline", shutdownTimeout.String())
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the shutdown deadline were cut off", "error", err.Error())
		_ = srv.Close()
	}
	stopJobs()
	waitJobs()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return &operatorError{"the HTTP server stopped: " + serveErr.Error()}
	}
	log.Info("stopped")
	return nil
}

// mountAll mounts every surface of CONTRACT.md on r.
func mountAll(r *chi.Mux, svc *orgmodel.Service, baseURL string, log *slog.Logger, lim serveLimits) *chi.Mux {
	loginRate := rate.Limit(lim.loginRate)
	if lim.loginRate == 0 {
		loginRate = rate.Inf
	}
	mountSSO(r, svc, baseURL, log, loginRate, lim.loginBurst)
	mountAPI(r, svc, baseURL, log, orgSCIMUsers(svc, baseURL, log))
	mountSCIM(r, svc, baseURL, log)
	mountConsole(r, svc, baseURL, log)
	return r
}

// serverRouter is every surface of orgd serve on one router, without the
// rate limits (the isolation matrix sends more than they allow).
func serverRouter(svc *orgmodel.Service, db pinger, baseURL string, log *slog.Logger, m *metrics) *chi.Mux {
	return mountAll(newRouter(log, db, m), svc, baseURL, log, serveLimits{loginBurst: 1})
}

// printBanner tells the operator where the server is and how to begin.
func printBanner(w io.Writer, url, base, db string, smtp bool) {
	mail := "mail: written to the log and kept in the outbox, read it with orgd mail list"
	if smtp {
		mail = "mail: delivered by SMTP"
	}
	dbFlag := ""
	switch {
	case db == defaultDB:
	case strings.HasPrefix(db, "postgres"):
		dbFlag = " --db '<the same postgres:// DSN>'"
	default:
		dbFlag = " --db '" + db + "'"
	}
	var b strings.Builder // one write, so a reader never sees half of it
	fmt.Fprintf(&b, "orgd: serving on %s (%s)\n", url, mail)
	fmt.Fprintf(&b, "orgd: health %s/healthz · readiness %s/readyz · metrics %s/metrics\n", url, url, url)
	fmt.Fprintf(&b, "orgd: console %s/console/ — sign up at %s/signup (without --smtp the confirmation link is in the outbox: orgd mail list%s), then log in\n", strings.TrimRight(base, "/"), strings.TrimRight(base, "/"), dbFlag)
	fmt.Fprintf(&b, "orgd: SCIM 2.0 for identity providers at %s/scim/v2 (give the IdP a token from orgd scim-token create --org OR…)\n", strings.TrimRight(base, "/"))
	fmt.Fprintf(&b, "orgd: or create the first user and organization from the CLI with:\n")
	fmt.Fprintf(&b, "        orgd signup%s --email you@corp.example --password 'at-least-12-characters' --name \"Corp\"\n", dbFlag)
	_, _ = io.WriteString(w, b.String())
}

// unwrapOp drops the "listen tcp …:" prefix a *net.OpError repeats.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
