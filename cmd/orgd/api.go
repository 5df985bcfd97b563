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
// /openapi.json. orgSCIM, when not nil, makes the handler of
// /Organizations/{OrganizationSid}/scim/… (the SCIM package's) from the
// API's Authenticator, whose OrgActor turns the request's bearer token into
// the organization's agent, so that both accept the same tokens.
func mountAPI(r chi.Router, svc *orgmodel.Service, baseURL string, log *slog.Logger, orgSCIM func(*api.Authenticator) http.Handler) *api.Authenticator {
	auth := api.NewAuthenticator(svc, api.AuthOptions{})
	cfg := api.Config{Service: svc, Auth: auth, Log: log, BaseURL: baseURL}
	if orgSCIM != nil {
		cfg.OrgSCIMUsers = orgSCIM(auth)
	}
	h := api.NewHandler(cfg)
	for _, p := range api.Paths {
		r.Handle(p, h)
	}
	return auth
}
