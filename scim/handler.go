// Package scim serves SCIM 2.0 (RFC 7643, RFC 7644) to identity
// providers — Okta and Microsoft Entra ID as they really behave — over
// orgmodel.Service: every provisioning call goes through the
// organization's rules. It uses github.com/elimity-com/scim for the
// schemas, resource validation, error shape and PATCH operation type, and
// does itself what that library leaves out or refuses: applying PATCH
// operations, filters translated into indexed queries, attributes and
// excludedAttributes, sorting, ETags (412, 304), /Bulk, .search and an
// honest /ServiceProviderConfig.
package scim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// Options configure a Handler.
type Options struct {
	// BaseURL is the absolute URL the handler is mounted at, e.g.
	// https://orgd.example/scim/v2; meta.location and Location headers
	// start with it.
	BaseURL string
	// Log receives unexpected errors (with a reference given to the client).
	Log *slog.Logger
}

type handler struct {
	svc  *orgmodel.Service
	base string
	log  *slog.Logger
	// api serves authenticated requests; /Bulk dispatches its operations to it.
	api http.Handler
}

type ctxKey struct{}

// reqAuth is what a request was authenticated as, and the URL prefix of
// the resources it is answered with.
type reqAuth struct {
	actor orgmodel.Actor
	base  string
}

// actorOf returns the organization agent a request was authenticated as.
func actorOf(ctx context.Context) orgmodel.Actor {
	a, _ := ctx.Value(ctxKey{}).(reqAuth)
	return a.actor
}

// baseOf is the URL prefix of resources in answers to the request: the
// handler's own, or the Organizations API's for its mount.
func (h *handler) baseOf(r *http.Request) string {
	if a, ok := r.Context().Value(ctxKey{}).(reqAuth); ok && a.base != "" {
		return a.base
	}
	return h.base
}

// NewHandler returns the SCIM service, to be mounted at /scim/v2.
func NewHandler(svc *orgmodel.Service, opts Options) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, base: strings.TrimRight(opts.BaseURL, "/"), log: log}

	api := chi.NewRouter()
	api.NotFound(h.notFound)
	api.MethodNotAllowed(h.methodNotAllowed)
	api.Get("/", h.rootSearch)
	api.Post("/.search", h.rootSearch)
	api.Get("/ServiceProviderConfig", h.serviceProviderConfig)
	api.Get("/ResourceTypes", h.resourceTypes)
	api.Get("/ResourceTypes/{name}", h.resourceType)
	api.Get("/Schemas", h.schemas)
	api.Get("/Schemas/{id}", h.schema)
	api.Post("/Bulk", h.bulk)
	api.HandleFunc("/Me", h.me)
	api.HandleFunc("/Me/*", h.me)

	api.Get("/Users", h.listUsers)
	api.Post("/Users", h.createUser)
	api.Post("/Users/.search", h.searchUsers)
	api.Get("/Users/{id}", h.getUser)
	api.Put("/Users/{id}", h.replaceUser)
	api.Patch("/Users/{id}", h.patchUser)
	api.Delete("/Users/{id}", h.deleteUser)

	api.Get("/Groups", h.listGroups)
	api.Post("/Groups", h.createGroup)
	api.Post("/Groups/.search", h.searchGroups)
	api.Get("/Groups/{id}", h.getGroup)
	api.Put("/Groups/{id}", h.replaceGroup)
	api.Patch("/Groups/{id}", h.patchGroup)
	api.Delete("/Groups/{id}", h.deleteGroup)
	// A search is a POST; other methods on it are not a lookup of an id.
	for _, p := range []string{"/.search", "/Users/.search", "/Groups/.search"} {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			api.Method(m, p, http.HandlerFunc(h.methodNotAllowed))
		}
	}
	h.api = api

	r := chi.NewRouter()
	r.Use(h.authenticate)
	r.Mount("/", api)
	return r
}

// authenticate resolves the bearer token to its organization's agent; the
// token alone selects the organization.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(strings.TrimSpace(authz), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			h.writeError(w, r, errStatus(http.StatusUnauthorized, "", "a bearer token is required (Authorization: Bearer <SCIM token>)"))
			return
		}
		a, err := h.svc.AuthenticateSCIM(r.Context(), strings.TrimSpace(token), remoteIP(r))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, reqAuth{actor: a})))
	})
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, errStatus(http.StatusNotFound, "", "no such endpoint: "+r.URL.Path))
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, errStatus(http.StatusMethodNotAllowed, "", r.Method+" is not allowed on "+r.URL.Path))
}

// me answers the /Me alias (RFC 7644 §3.11): a SCIM token belongs to the
// organization, not to a user, so there is no resource to alias, and a
// service provider that does not support the alias answers 501.
func (h *handler) me(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, errStatus(http.StatusNotImplemented, "",
		"/Me aliases the authenticated user; a SCIM token authenticates an organization's provisioning client, which is no user"))
}

// readBody reads a request body of at most limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, &bodyError{"the request body could not be read"}
	}
	return b, nil
}

// readObject reads a JSON object body.
func readObject(r *http.Request) (map[string]any, error) {
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := decodeJSON(b, &m); err != nil || m == nil {
		return nil, &bodyError{"the body is not a JSON object"}
	}
	return m, nil
}

// writeResource answers one resource with its ETag.
func writeResource(w http.ResponseWriter, status int, doc map[string]any, version int64) {
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, doc)
}

// notModified answers 304 when the client's If-None-Match holds the
// resource's current version (RFC 7644 §3.14).
func notModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	cur := etag(version)
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(cur, "W/") {
			w.Header().Set("ETag", cur)
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// ifMatch reads If-Match: the version a write must find (0: any).
func ifMatch(r *http.Request) (int64, error) {
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return 0, nil
	}
	for _, t := range strings.Split(im, ",") {
		if v, ok := parseETag(t); ok {
			return v, nil
		}
	}
	return 0, errStatus(http.StatusPreconditionFailed, "", "If-Match names no version of this resource")
}
