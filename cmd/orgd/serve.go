package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

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

var serveCommand = &command{
	name:     "serve",
	synopsis: "[--addr 127.0.0.1:8080] [--base-url URL] [--dns-server HOST:PORT] [--smtp smtp://host:port] [--mail-from ADDR]",
	summary:  "serve HTTP (health, readiness, metrics, SAML single sign-on and the login pages, the Twilio-compatible REST API, SCIM 2.0 for identity providers, the admin console) and run the background jobs",
	noActor:  true,
	raw:      true,
	setup: func(f *flagSet) action {
		addr := f.fs.String("addr", envOr(f.getenv, "ORGD_ADDR", "127.0.0.1:8080"), "listen on `HOST:PORT` (env ORGD_ADDR; default 127.0.0.1:8080)")
		smtpURL := f.fs.String("smtp", f.getenv("ORGD_SMTP"), "deliver mail through this SMTP server `URL`: smtp://[user:pass@]host[:port][?from=ADDR] (env ORGD_SMTP; default: log it and keep it in the outbox)")
		from := f.fs.String("mail-from", f.getenv("ORGD_MAIL_FROM"), "the sender `ADDRESS` of mail (env ORGD_MAIL_FROM; default orgd@ the --base-url host)")
		mailEvery := f.fs.Duration("mail-interval", defaultMailPeriod, "how often the outbox is delivered (a `duration`)")
		f.dnsServer()
		var baseGiven bool
		f.check(func() error {
			if *mailEvery <= 0 {
				return f.usageErr("--mail-interval must be positive")
			}
			baseGiven = f.getenv("ORGD_BASE_URL") != ""
			f.fs.Visit(func(fl *flag.Flag) { baseGiven = baseGiven || fl.Name == "base-url" })
			return nil
		})
		return func(ctx context.Context, c *call) (any, error) {
			return nil, serve(ctx, c, serveConfig{addr: *addr, smtp: *smtpURL, mailFrom: *from, mailEvery: *mailEvery, baseGiven: baseGiven})
		}
	},
}

type serveConfig struct {
	addr      string
	smtp      string
	mailFrom  string
	mailEvery time.Duration
	baseGiven bool // --base-url or ORGD_BASE_URL was given; otherwise it follows the listener
}

// serve runs the HTTP server and the background jobs until ctx ends, then
// shuts both down gracefully.
func serve(ctx context.Context, c *call, cfg serveConfig) error {
	log := slog.New(requestIDHandler{slog.NewJSONHandler(c.stderr, nil)})
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
	router := serverRouter(c.svc, c.db, c.opts.baseURL, log, m)
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	jobCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	waitJobs := startJobs(jobCtx, log, m, append(serverJobs(c.svc, sender, cfg.mailEvery, log), ssoJobs(c.svc, log)...))

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

// serverRouter is everything orgd serve serves: the operations endpoints
// and every surface, mounted on one router.
func serverRouter(svc *orgmodel.Service, db pinger, baseURL string, log *slog.Logger, m *metrics) *chi.Mux {
	router := newRouter(log, db, m)
	mountSSO(router, svc, baseURL, log)
	mountAPI(router, svc, baseURL, log, orgSCIMUsers(svc, baseURL, log))
	mountSCIM(router, svc, baseURL, log)
	mountConsole(router, svc, baseURL, log)
	return router
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
