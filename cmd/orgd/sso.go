package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/time/rate"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
)

// Timing of the login side's background jobs.
const (
	loginPurgeEvery      = time.Hour
	loginPurgeTimeout    = 5 * time.Minute
	metadataRefreshLimit = 10 * time.Minute
)

// mountSSO mounts the login side (package sso) on r: SAML under /sso/,
// and /login, /logout, /signup, /forgot, /reset. It carries its own CSRF
// protection (http.CrossOriginProtection, the ACS exempted).
func mountSSO(r chi.Router, svc *orgmodel.Service, baseURL string, log *slog.Logger, formRate rate.Limit, formBurst int) {
	h := sso.NewHandler(sso.Config{Service: svc, BaseURL: baseURL, Log: log, FormRate: formRate, FormBurst: formBurst})
	for _, p := range sso.Paths {
		r.Handle(p, h)
	}
}

// ssoJobs refresh identity provider metadata fetched from URLs and purge
// expired login state (used assertion IDs, AuthnRequests, lockout counts).
func ssoJobs(svc *orgmodel.Service, log *slog.Logger) []job {
	return []job{
		{name: "sso-metadata-refresh", every: sso.MetadataRefreshEvery, timeout: metadataRefreshLimit, run: func(ctx context.Context) (int, error) {
			return sso.RefreshMetadata(ctx, svc, nil, log)
		}},
		{name: "login-purge", every: loginPurgeEvery, timeout: loginPurgeTimeout, run: svc.PurgeLoginState},
	}
}
