package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/api"
	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/scim"
)

// scimPrefix is where SCIM 2.0 is served (CONTRACT.md).
const scimPrefix = "/scim/v2"

// mountSCIM mounts SCIM 2.0 for identity providers (package scim) at
// /scim/v2: a SCIM token (orgd scim-token create) selects the organization.
func mountSCIM(r chi.Router, svc *orgmodel.Service, baseURL string, log *slog.Logger) {
	r.Mount(scimPrefix, scim.NewHandler(svc, scim.Options{BaseURL: strings.TrimRight(baseURL, "/") + scimPrefix, Log: log}))
}

// orgSCIMUsers makes the handler of the Organizations API's
// /Organizations/{OrganizationSid}/scim/Users (package scim's users),
// authenticated by the API's OAuth bearer tokens.
func orgSCIMUsers(svc *orgmodel.Service, baseURL string, log *slog.Logger) func(*api.Authenticator) http.Handler {
	return func(auth *api.Authenticator) http.Handler {
		return scim.NewOrgUsersHandler(svc, scim.Options{BaseURL: baseURL, Log: log}, auth.OrgActor)
	}
}
