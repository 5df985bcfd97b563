package main

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/api"
	"github.com/orgd/orgd/orgmodel"
)

// mountAPI mounts the Twilio-compatible API (package api) on r: the
// 2010-04-01 Accounts API, the Organizations API, /v2/token and
// /openapi.json. orgSCIM, when not nil, is the SCIM package's handler of
// /Organizations/{OrganizationSid}/scim/…; it authenticates with the
// returned Authenticator's OrgActor, so both accept the same tokens.
func mountAPI(r chi.Router, svc *orgmodel.Service, baseURL string, log *slog.Logger, orgSCIM http.Handler) *api.Authenticator {
	auth := api.NewAuthenticator(svc, api.AuthOptions{})
	h := api.NewHandler(api.Config{Service: svc, Auth: auth, Log: log, BaseURL: baseURL, OrgSCIMUsers: orgSCIM})
	for _, p := range api.Paths {
		r.Handle(p, h)
	}
	return auth
}
