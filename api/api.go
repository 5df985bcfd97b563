// Package api serves orgd's Twilio-compatible REST surface, so that
// Twilio's SDKs work when pointed at orgd: the 2010-04-01 Accounts API
// (subaccounts and API keys, HTTP Basic), the Organizations API (managed
// accounts and role assignments, OAuth 2.0 bearer tokens) and the token
// endpoint that issues those tokens. It translates; orgmodel decides.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// Config is what NewHandler needs.
type Config struct {
	Service *orgmodel.Service
	// Auth checks credentials. Share one with the SCIM mount of the
	// Organizations API so that both accept the same tokens; nil makes one.
	Auth *Authenticator
	Log  *slog.Logger
	// BaseURL prefixes the absolute URLs of the Organizations API's paging
	// links; "" derives them from each request's Host.
	BaseURL string
	// OrgSCIMUsers, when set, is mounted at /Organizations/{OrganizationSid}/scim
	// outside this package's authentication, so that it answers with its
	// own (SCIM) errors; it authenticates with Auth.OrgActor.
	OrgSCIMUsers http.Handler
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes bounds request bodies: every request of this API is
// a few fields.
const DefaultMaxBodyBytes = 64 << 10

// Paths are the URL paths the handler serves; cmd/orgd routes them to it
// (its own routes are absolute, so it needs no prefix stripped).
var Paths = []string{"/2010-04-01/*", "/Organizations/*", "/v2/token", "/openapi.json"}

// NewHandler returns the Twilio-compatible API on a chi router. Routed to
// from a parent chi router, it routes on the whole path with a routing
// context of its own, and hands its route pattern (say
// /2010-04-01/Accounts/{AccountSid}.json) back to the parent's, so that the
// parent's logs and metrics name the route rather than the prefix.
func NewHandler(cfg Config) http.Handler {
	mux := newRouter(cfg)
	return routed{mux: mux, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer := chi.RouteContext(r.Context())
		if outer == nil {
			mux.ServeHTTP(w, r)
			return
		}
		inner := chi.NewRouteContext()
		inner.Routes = mux
		defer func() { outer.RoutePatterns = append(outer.RoutePatterns[:0], inner.RoutePatterns...) }()
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, inner)))
	})}
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

type handler struct {
	svc     *orgmodel.Service
	auth    *Authenticator
	log     *slog.Logger
	base    string
	maxBody int64
}

func newRouter(cfg Config) chi.Router {
	h := &handler{svc: cfg.Service, auth: cfg.Auth, log: cfg.Log, base: strings.TrimRight(cfg.BaseURL, "/"), maxBody: cfg.MaxBodyBytes}
	if h.auth == nil {
		h.auth = NewAuthenticator(cfg.Service, AuthOptions{})
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	r := chi.NewRouter()
	r.Use(h.limitBody)
	r.NotFound(h.notFound)
	r.MethodNotAllowed(h.methodNotAllowed)

	r.Get("/openapi.json", h.openAPI)
	r.Post("/v2/token", h.createToken)

	r.Route("/2010-04-01", func(r chi.Router) {
		r.Use(h.basicAuth)
		r = r.With(h.checkPathSIDs)
		// Twilio's paths end in .json; the bare forms are served too.
		for _, ext := range []string{".json", ""} {
			r.Post("/Accounts"+ext, h.createAccount)
			r.Get("/Accounts"+ext, h.listAccounts)
			r.Get("/Accounts/{AccountSid}"+ext, h.fetchAccount)
			r.Post("/Accounts/{AccountSid}"+ext, h.updateAccount)
			r.Post("/Accounts/{AccountSid}/Keys"+ext, h.createKey)
			r.Get("/Accounts/{AccountSid}/Keys"+ext, h.listKeys)
			r.Get("/Accounts/{AccountSid}/Keys/{Sid}"+ext, h.fetchKey)
			r.Post("/Accounts/{AccountSid}/Keys/{Sid}"+ext, h.updateKey)
			r.Delete("/Accounts/{AccountSid}/Keys/{Sid}"+ext, h.deleteKey)
		}
	})

	r.Route("/Organizations/{OrganizationSid}", func(r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(h.bearerAuth)
			r.Get("/Accounts", h.listOrgAccounts)
			r.Post("/Accounts", h.createOrgAccount)
			r.Get("/Accounts/{AccountSid}", h.fetchOrgAccount)
			r.Get("/RoleAssignments", h.listRoleAssignments)
			r.Post("/RoleAssignments", h.createRoleAssignment)
			r.Delete("/RoleAssignments/{RoleAssignmentSid}", h.deleteRoleAssignment)
		})
		if cfg.OrgSCIMUsers != nil {
			r.Mount("/scim", cfg.OrgSCIMUsers)
		}
	})
	return r
}

// limitBody bounds every request body, and marks every answer as not to
// be cached: they are all bound to a credential, and some carry secrets.
func (h *handler) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > h.maxBody {
			h.writeError(w, r, tooLarge(h.maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, orgmodel.NotFound("resource", r.URL.Path))
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, withCode(&orgmodel.RuleError{Kind: orgmodel.KindInvalid,
		Msg: "method " + r.Method + " is not allowed on " + r.URL.Path}, codeMethodNotAllowed, http.StatusMethodNotAllowed))
}

// writeJSON answers v with status.
func (h *handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// remoteAddr is the client's address for the audit log.
func remoteAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
