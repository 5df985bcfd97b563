// Package console is orgd's admin console at /console/: server-rendered
// pages (html/template, assets embedded, no JavaScript needed) for every
// Console > Admin flow of the seed — accounts, users, domains, SSO and
// SCIM (with group → role / account mappings), the organization, the
// audit log — and setup links, which open only the SSO and SCIM setup to a
// customer's IT administrator.
//
// The console decides nothing: every action is one orgmodel.Service call
// acting as the logged-in user (Actor{UserSID, Via: "console"}), and a
// refusal is shown next to its form with its rule id and what to do about
// it.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// IdPMetadataFunc reads an identity provider's SAML metadata — data, or
// when url is not "" the document at url — and returns the configuration
// it describes (entity ID, SSO URL, the metadata and its URL). cmd/orgd
// wires the sso package's parser and fetcher here, so that the console
// never imports another adapter. Its errors should be *orgmodel.RuleError
// (Kind Invalid) whose message the person can act on.
type IdPMetadataFunc func(ctx context.Context, data []byte, url string) (orgmodel.IdPConfig, error)

// SPEndpoints are what an organization gives its identity provider.
type SPEndpoints struct {
	EntityID    string
	ACSURL      string
	MetadataURL string
}

// Config is what the console needs.
type Config struct {
	Service *orgmodel.Service
	// BaseURL is the public base URL ({base} in CONTRACT.md); cookies are
	// Secure and HSTS is sent when it is https.
	BaseURL string
	Log     *slog.Logger
	// IdPMetadata parses (and fetches) IdP metadata; required.
	IdPMetadata IdPMetadataFunc
	// Endpoints returns an organization's SAML SP endpoints; required.
	Endpoints func(org orgmodel.OrgSID) SPEndpoints
}

// Paths are the URL paths the handler serves; cmd/orgd routes them to it.
var Paths = []string{"/console", "/console/*"}

type handler struct {
	svc    *orgmodel.Service
	log    *slog.Logger
	base   string
	secure bool
	idp    IdPMetadataFunc
	sp     func(orgmodel.OrgSID) SPEndpoints
}

// NewHandler returns the console's http.Handler, serving the paths under
// /console/. POSTs are protected by http.CrossOriginProtection
// (Sec-Fetch-Site / Origin); no console path is exempted (the SAML ACS,
// which is, belongs to package sso).
//
// It panics when cfg lacks its Service, its hooks, or an http(s) BaseURL:
// cmd/orgd wires all of them.
func NewHandler(cfg Config) http.Handler {
	if cfg.Service == nil || cfg.IdPMetadata == nil || cfg.Endpoints == nil {
		panic("console: NewHandler needs a Service, IdPMetadata and Endpoints")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		panic(fmt.Sprintf("console: the base URL %q is not an http(s) URL", cfg.BaseURL))
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: cfg.Service, log: cfg.Log, base: base.String(), secure: base.Scheme == "https",
		idp: cfg.IdPMetadata, sp: cfg.Endpoints}

	r := chi.NewRouter()
	r.Use(h.headers)
	r.Get("/console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
	})
	r.Get("/console/assets/*", h.asset)

	// Reached from a mailed link: the token is the credential.
	r.Get("/console/confirm-import", h.confirmImportPage)
	r.Post("/console/confirm-import", h.confirmImport)

	// Setup links: the token becomes a cookie, then only the identity
	// setup pages open.
	r.Get("/console/setup", h.setupEnter)
	r.Group(func(r chi.Router) {
		r.Use(h.setupLink)
		r.Get("/console/setup/sso", h.identityPage)
		r.Post("/console/setup/sso/idp", h.setIdP)
		r.Post("/console/setup/sso/idp-initiated", h.setIdPInitiated)
		r.Post("/console/setup/sso/scim-tokens", h.createSCIMToken)
		r.Post("/console/setup/sso/scim-tokens/{id}/revoke", h.revokeSCIMToken)
		r.Post("/console/setup/leave", h.setupLeave)
	})

	r.Group(func(r chi.Router) {
		r.Use(h.session)
		r.Get("/console/", h.dashboard)
		r.Get("/console/accounts", h.accountsPage)
		r.Post("/console/accounts", h.createAccount)
		r.Post("/console/accounts/import", h.importAccount)
		r.Get("/console/accounts/{sid}", h.accountPage)
		r.Post("/console/accounts/{sid}/rename", h.renameAccount)
		r.Post("/console/accounts/{sid}/transfer", h.transferAccount)
		r.Post("/console/accounts/{sid}/status", h.accountStatus)
		r.Post("/console/accounts/{sid}/hipaa", h.accountHIPAA)
		r.Post("/console/accounts/{sid}/subaccounts", h.createSubaccount)
		r.Post("/console/accounts/{sid}/grants", h.grantAccess)
		r.Post("/console/accounts/{sid}/grants/{user}/revoke", h.revokeAccess)

		// Organization management: Owner and Administrators only, as
		// orgmodel decides (CheckAdmin); each command checks again.
		r.Group(func(r chi.Router) {
			r.Use(h.admin)
			r.Get("/console/users", h.usersPage)
			r.Post("/console/users/invite", h.invite)
			r.Post("/console/users/invitations/{sid}/revoke", h.revokeInvitation)
			r.Post("/console/users/import", h.importUsers)
			r.Get("/console/users/{sid}", h.userPage)
			r.Post("/console/users/{sid}/role", h.setRole)
			r.Post("/console/users/{sid}/owner", h.makeOwner)
			r.Post("/console/users/{sid}/remove", h.removeUser)
			r.Post("/console/users/{sid}/reset-password", h.resetPassword)
			r.Post("/console/users/{sid}/reset-2fa", h.reset2FA)
			r.Post("/console/users/{sid}/active", h.setActive)

			r.Get("/console/domains", h.domainsPage)
			r.Post("/console/domains", h.addDomain)
			r.Post("/console/domains/{domain}/verify", h.verifyDomain)
			r.Post("/console/domains/{domain}/signup", h.domainSignup)
			r.Post("/console/domains/{domain}/sso", h.domainSSO)
			r.Post("/console/domains/{domain}/remove", h.removeDomain)

			r.Get("/console/sso", h.identityPage)
			r.Post("/console/sso/idp", h.setIdP)
			r.Post("/console/sso/idp-initiated", h.setIdPInitiated)
			r.Post("/console/sso/scim-tokens", h.createSCIMToken)
			r.Post("/console/sso/scim-tokens/{id}/revoke", h.revokeSCIMToken)
			// Group mappings grant roles: never under /console/setup.
			r.Get("/console/sso/groups/{sid}", h.groupPage)
			r.Post("/console/sso/groups/{sid}/map", h.mapGroup)

			r.Get("/console/org", h.orgPage)
			r.Post("/console/org/rename", h.renameOrg)
			r.Post("/console/org/baa", h.recordBAA)
			r.Post("/console/org/mfa", h.requireMFA)
			r.Post("/console/org/owner", h.transferOwner)
			r.Get("/console/org/merge", h.mergePreflight)
			r.Post("/console/org/merge", h.merge)

			r.Get("/console/audit", h.auditPage)
			r.Get("/console/audit.csv", h.auditCSV)

			r.Get("/console/setup-links", h.setupLinksPage)
			r.Post("/console/setup-links", h.createSetupLink)
			r.Post("/console/setup-links/{id}/revoke", h.revokeSetupLink)
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, orgmodel.NotFound("page", ""))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, POST")
		h.errorPageStatus(w, r, &orgmodel.RuleError{Kind: orgmodel.KindInvalid, Msg: "this page does not take that method; go back and use its form"}, http.StatusMethodNotAllowed)
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, &orgmodel.RuleError{Kind: orgmodel.KindForbidden,
			Msg: "this form was sent from another site; go back, reload the page and try again"})
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

// headers sets the security headers of every console answer: a strict
// Content-Security-Policy (scripts and styles from this origin only, no
// inline script), no framing, no referrer (setup and confirmation links
// carry tokens), no caching of pages, HSTS under https.
func (h *handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if h.secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/console/assets/") {
			hd.Set("Cache-Control", "no-store")
		}
		if r.Method == http.MethodPost && !h.readForm(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a console form, uploads included.
const maxFormBytes = 2 << 20

// readForm parses a POSTed form before any handler, so that a body over
// the limit is answered 413 with a page that says so, rather than reaching
// a handler as a form without its fields. Other parse errors are left to
// the handlers, which find the fields missing.
func (h *handler) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(maxFormBytes)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		w.Header().Set("Connection", "close")
		h.errorPageStatus(w, r, orgmodel.Invalid("body", "the form is larger than %d bytes, the most this server accepts; send a smaller file", mbe.Limit), http.StatusRequestEntityTooLarge)
		return false
	}
	return true
}

// clientIP is the peer address: orgd trusts no forwarding header.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// --- who acts ---

// who is the party a console request acts as: a logged-in user, or a
// setup link (user nil).
type who struct {
	actor orgmodel.Actor
	org   orgmodel.OrgSID
	user  *orgmodel.User
	sess  *orgmodel.Session
	link  *orgmodel.SetupLink
}

// base is the path prefix of the identity setup pages for this party.
func (w *who) base() string {
	if w.link != nil {
		return "/console/setup"
	}
	return "/console"
}

func (w *who) admin() bool {
	return w.user != nil && (w.user.Role == orgmodel.RoleOwner || w.user.Role == orgmodel.RoleAdministrator)
}

type ctxKey struct{}

func whoOf(r *http.Request) *who {
	w, _ := r.Context().Value(ctxKey{}).(*who)
	return w
}

// session admits requests with a live session (orgmodel.Session: ended,
// idle, expired and SSO-enforced password sessions are refused); others
// go to the login page, which comes back here afterwards.
func (h *handler) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess *orgmodel.Session
		var u *orgmodel.User
		err := error(orgmodel.Unauthenticated("log in first"))
		if c, cerr := r.Cookie(orgmodel.SessionCookie); cerr == nil {
			sess, u, err = h.svc.Session(r.Context(), c.Value)
		}
		if err != nil {
			if orgmodel.KindOf(err) == orgmodel.KindInternal {
				h.errorPage(w, r, err)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(loginNext(r)), http.StatusSeeOther)
			return
		}
		me := &who{actor: orgmodel.Actor{UserSID: u.SID, Via: "console", RemoteAddr: clientIP(r)},
			org: u.OrgSID, user: u, sess: sess}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, me)))
	})
}

// loginNext is where a login returns to: the page asked for, a local path
// under /console/ only (a form's POST returns to the console's start).
func loginNext(r *http.Request) string {
	p := r.URL.RequestURI()
	if r.Method != http.MethodGet || !strings.HasPrefix(p, "/console/") || strings.ContainsAny(p, "\\\r\n") || len(p) > 1024 {
		return "/console/"
	}
	return p
}

// admin lets through the Owner and Administrators (orgmodel.CheckAdmin,
// R-ROLE-3); a Standard user gets the refusal page.
func (h *handler) admin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := whoOf(r)
		if err := h.svc.CheckAdmin(r.Context(), me.actor, me.org, "manage the organization"); err != nil {
			h.errorPage(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
