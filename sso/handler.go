// Package sso is orgd's login side: a SAML service provider per
// organization (crewjam/saml), the email-first login page with home-realm
// discovery, passwords (argon2id) and a TOTP second factor, server-side
// sessions, password resets and sign-up. Every rule it honours is decided
// by orgmodel; this package translates HTTP and SAML into service calls.
package sso

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/time/rate"

	"github.com/orgd/orgd/orgmodel"
)

// Config is what the sso handler needs.
type Config struct {
	Service *orgmodel.Service
	// BaseURL is the public base URL ({base} in CONTRACT.md). Cookies are
	// Secure when it is https.
	BaseURL string
	Log     *slog.Logger
	// AllowSHA1 accepts SHA-1 signatures from identity providers; off by
	// default.
	AllowSHA1 bool
	// MaxBodyBytes caps a POSTed form (the ACS included); default 512 KiB.
	MaxBodyBytes int64
	// FormRate and FormBurst limit form POSTs per client IP (defaults: 1
	// per second, bursts of 20), on top of orgmodel's per-user lockout.
	FormRate  rate.Limit
	FormBurst int
}

// Paths are the URL paths the handler serves; cmd/orgd routes them to it.
var Paths = []string{"/sso/*", "/login", "/login/*", "/logout", "/signup", "/signup/*", "/reset", "/forgot"}

type handler struct {
	cfg     Config
	svc     *orgmodel.Service
	log     *slog.Logger
	base    *url.URL
	secure  bool
	md      *metadataCache
	limiter *Buckets
}

// NewHandler returns the login side's http.Handler: SAML endpoints under
// /sso/saml/{OR}/, and /login, /logout, /signup, /forgot, /reset. POST
// forms are protected by http.CrossOriginProtection (Sec-Fetch-Site /
// Origin); the ACS, which an IdP posts from another site, is exempted.
//
// It panics when cfg has no Service or its BaseURL is not an http(s) URL:
// cmd/orgd checks both before wiring.
func NewHandler(cfg Config) http.Handler {
	if cfg.Service == nil {
		panic("sso: NewHandler without a Service")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		panic(fmt.Sprintf("sso: the base URL %q is not an http(s) URL", cfg.BaseURL))
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 512 << 10
	}
	if cfg.FormRate == 0 {
		cfg.FormRate = 1
	}
	if cfg.FormBurst == 0 {
		cfg.FormBurst = 20
	}
	h := &handler{
		cfg: cfg, svc: cfg.Service, log: cfg.Log, base: base, secure: base.Scheme == "https",
		md:      &metadataCache{m: map[orgmodel.OrgSID]cachedMetadata{}},
		limiter: NewBuckets(cfg.FormRate, cfg.FormBurst),
	}
	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.Get("/sso/saml/{org}/metadata", h.metadata)
	r.Get("/sso/saml/{org}/login", h.startLogin)
	r.Post("/sso/saml/{org}/acs", h.acs)
	r.Get("/sso/assets/*", h.asset)
	r.Group(func(r chi.Router) {
		r.Use(h.limitPOST)
		r.Get("/login", h.loginPage)
		r.Post("/login", h.loginEmail)
		r.Post("/login/password", h.loginPassword)
		r.Get("/login/2fa", h.secondFactorPage)
		r.Post("/login/2fa", h.secondFactor)
		r.Post("/logout", h.logout)
		r.Get("/forgot", h.forgotPage)
		r.Post("/forgot", h.forgot)
		r.Get("/reset", h.resetPage)
		r.Post("/reset", h.reset)
		r.Get("/signup", h.signupPage)
		r.Post("/signup", h.signup)
		r.Get("/signup/confirm", h.confirmPage)
		r.Post("/signup/confirm", h.confirm)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, orgmodel.NotFound("page", ""), failOpts{})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, POST")
		h.render(w, r, http.StatusMethodNotAllowed, "message.html", page{Title: "Method not allowed"})
	})
	cop := http.NewCrossOriginProtection()
	// The IdP posts the SAMLResponse from its own site: that POST is
	// authenticated by the assertion's signature, not by its origin.
	cop.AddInsecureBypassPattern("POST /sso/saml/{org}/acs")
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &orgmodel.RuleError{Kind: orgmodel.KindForbidden, Msg: "this form was sent from another site; go back, reload the page and try again"}, failOpts{})
	}))
	return routed{Handler: cop.Handler(r), mux: r}
}

// routed is a handler with the router it serves, which Router returns so
// that cmd/orgd can enumerate every route (its isolation test walks them
// with chi.Walk, so that no route escapes it).
type routed struct {
	http.Handler
	mux chi.Routes
}

// Router returns the routes the handler serves.
func (h routed) Router() chi.Routes { return h.mux }

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// failOpts says how to answer an error.
type failOpts struct {
	// saml: a refused SAML response: 403 with a reference only.
	saml bool
	org  orgmodel.OrgSID
	// form and data re-render a form page with the message.
	form string
	data page
}

// fail is the package's one mapping from errors to HTTP answers. A
// refused SAML response is 403 with a reference id and nothing else (the
// reason, with the rule id, goes to the log). Other errors re-render the
// form (or a message page) with a status from the error's kind and a
// message that carries the rule id; unexpected errors are logged under a
// reference id and answered generically.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error, o failOpts) {
	ref := newRef()
	rule := orgmodel.RuleOf(err)
	if o.saml {
		var refusal *acsRefusal
		level := slog.LevelWarn
		if !errors.As(err, &refusal) && orgmodel.KindOf(err) == orgmodel.KindInternal {
			level = slog.LevelError
		}
		h.log.Log(r.Context(), level, "sso: SAML response refused", "ref", ref, "org", o.org, "rule", rule, "reason", err.Error(), "remote", clientIP(r))
		w.Header().Set("Cache-Control", "no-store")
		h.render(w, r, http.StatusForbidden, "message.html", page{Title: "Single sign-on failed",
			Message: "The login could not be completed. Give this reference to your administrator: " + ref + ".",
			Link:    "/login", LinkText: "Back to login", Ref: ref})
		return
	}
	status, msg := http.StatusInternalServerError, ""
	switch orgmodel.KindOf(err) {
	case orgmodel.KindInvalid:
		status = http.StatusBadRequest
	case orgmodel.KindForbidden:
		status = http.StatusForbidden
	case orgmodel.KindNotFound:
		status = http.StatusNotFound
	case orgmodel.KindConflict, orgmodel.KindPrecondition:
		status = http.StatusConflict
	case orgmodel.KindUnauthenticated:
		status = http.StatusUnauthorized
	case orgmodel.KindTooMany:
		status = http.StatusTooManyRequests
		var th *orgmodel.Throttled
		if errors.As(err, &th) {
			retryAfter(w, th.RetryAfter)
		}
	}
	var re *orgmodel.RuleError
	if status == http.StatusInternalServerError || !errors.As(err, &re) {
		status = http.StatusInternalServerError
		h.log.Error("sso: unexpected error", "ref", ref, "path", r.URL.Path, "err", err)
		msg = "Something went wrong on our side. Try again; if it persists, give this reference to the operator: " + ref + "."
	} else {
		msg = re.Msg
		if rule != "" {
			msg = rule + ": " + msg
		}
		h.log.Info("sso: refused", "ref", ref, "path", r.URL.Path, "rule", rule, "kind", re.Kind.String())
	}
	if o.form == "" {
		h.render(w, r, status, "message.html", page{Title: http.StatusText(status), Error: msg, Rule: rule, Ref: ref, Link: "/login", LinkText: "Back to login"})
		return
	}
	o.data.Error, o.data.Rule = msg, rule
	h.render(w, r, status, o.form, o.data)
}

func newRef() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clientIP is the peer address: orgd trusts no forwarding header.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientNet is what the form rate limit counts by: the client's IPv4
// address, or its IPv6 /64 (one host's usual allocation, which a client
// could otherwise walk through).
func clientNet(r *http.Request) string {
	ip := clientIP(r)
	if a, err := netip.ParseAddr(ip); err == nil && a.Unmap().Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return ip
}

// --- cookies and sessions ---

const (
	pendingCookie = "orgd_login"  // a password login waiting for its second factor
	deviceCookie  = "orgd_device" // trusted-device token (orgmodel.TrustDevice)
)

func (h *handler) cookie(name, value, path string, maxAge int, site http.SameSite) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: h.secure, SameSite: site}
}

// setSession sets the session cookie: HttpOnly, Secure under https,
// SameSite=Lax (so that the top-level navigation after the IdP's POST
// carries it), a browser-session cookie whose lifetime the server decides.
func (h *handler) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, h.cookie(orgmodel.SessionCookie, token, "/", 0, http.SameSiteLaxMode))
}

func (h *handler) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, h.cookie(name, "", path, -1, http.SameSiteLaxMode))
}

// currentSession is the live session of the request's cookie.
func (h *handler) currentSession(r *http.Request) (*orgmodel.Session, *orgmodel.User, error) {
	c, err := r.Cookie(orgmodel.SessionCookie)
	if err != nil {
		return nil, nil, orgmodel.Unauthenticated("log in first")
	}
	return h.svc.Session(r.Context(), c.Value)
}

// --- rate limits ---

// retryAfter sets Retry-After to d in whole seconds, at least 1.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}

// parseForm reads a POSTed form (at most MaxBodyBytes). A body over the
// limit is answered 413 with a page saying so, and false.
func (h *handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	err := r.ParseForm()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		w.Header().Set("Cache-Control", "no-store")
		h.render(w, r, http.StatusRequestEntityTooLarge, "message.html", page{Title: "Request too large",
			Error: fmt.Sprintf("the form is larger than %d bytes, the most this page accepts", mbe.Limit), Link: "/login", LinkText: "Back to login"})
		return false
	}
	return true // other parse errors: the handler finds the fields missing
}

func (h *handler) limitPOST(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if ok, d := h.limiter.Take(clientNet(r), time.Now()); !ok {
				retryAfter(w, d)
				h.fail(w, r, &orgmodel.RuleError{Kind: orgmodel.KindTooMany, Msg: "too many requests from your address; wait a few seconds and try again"}, failOpts{})
				return
			}
			if !h.parseForm(w, r) {
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
