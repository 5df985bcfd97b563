package scim

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// OrgAuth turns a request of the Organizations API into the agent of the
// organization its path names (package api's Authenticator.OrgActor, for
// an OAuth bearer token): NotFound for another organization's credential,
// Unauthenticated for a bad one.
type OrgAuth func(r *http.Request, org orgmodel.OrgSID) (orgmodel.Actor, error)

// NewOrgUsersHandler serves the Organizations API's SCIM users
// (/Organizations/{OrganizationSid}/scim/Users…, which package api mounts
// with its own credentials): the same Users as NewHandler's, for the
// organization in the path, authenticated by auth. opts.BaseURL is the
// server's base URL; resources are located under the mount.
func NewOrgUsersHandler(svc *orgmodel.Service, opts Options, auth OrgAuth) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, base: strings.TrimRight(opts.BaseURL, "/"), log: log}
	r := chi.NewRouter()
	r.NotFound(h.notFound)
	r.MethodNotAllowed(h.methodNotAllowed)
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			org := orgmodel.OrgSID(chi.URLParam(req, "OrganizationSid"))
			if !orgmodel.ValidSID(orgmodel.PrefixOrg, string(org)) {
				h.writeError(w, req, orgmodel.NotFound("organization", excerpt(string(org))))
				return
			}
			a, err := auth(req, org)
			if err != nil {
				h.writeError(w, req, err)
				return
			}
			if a.OrgSID != org {
				h.writeError(w, req, orgmodel.NotFound("organization", string(org)))
				return
			}
			base := h.base + "/Organizations/" + string(org) + "/scim"
			next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), ctxKey{}, reqAuth{actor: a, base: base})))
		})
	})
	r.Get("/Users", h.listUsers)
	r.Post("/Users", h.createUser)
	r.Get("/Users/{id}", h.getUser)
	r.Put("/Users/{id}", h.replaceUser)
	r.Patch("/Users/{id}", h.patchUser)
	r.Delete("/Users/{id}", h.deleteUser)
	return r
}
