package main

import (
	"context"
	"log/slog"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/console"
	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
)

// mountConsole mounts the admin console (package console) under /console/.
// The console reads IdP metadata with the sso package's parser and
// fetcher, wired here so that neither adapter imports the other. It
// carries its own CSRF protection (http.CrossOriginProtection).
func mountConsole(r chi.Router, svc *orgmodel.Service, baseURL string, log *slog.Logger) {
	h := console.NewHandler(console.Config{
		Service:     svc,
		BaseURL:     baseURL,
		Log:         log,
		IdPMetadata: idpMetadata,
		Endpoints: func(org orgmodel.OrgSID) console.SPEndpoints {
			e := sso.Endpoints(baseURL, org)
			return console.SPEndpoints{EntityID: e.SPEntityID, ACSURL: e.ACSURL, MetadataURL: e.MetadataURL}
		},
	})
	for _, p := range console.Paths {
		r.Handle(p, h)
	}
}

// idpMetadata reads identity provider metadata for the console: an
// uploaded document, or one fetched from an https URL (10 s, 1 MiB), checked
// by sso.ParseMetadata as `orgd sso set` checks it.
func idpMetadata(ctx context.Context, data []byte, url string) (orgmodel.IdPConfig, error) {
	if url != "" {
		var err error
		if data, err = sso.FetchMetadata(ctx, nil, url); err != nil {
			return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata_url", "%s", err.Error())
		}
	}
	m, err := sso.ParseMetadata(data)
	if err != nil {
		return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata", "%s", err.Error())
	}
	return orgmodel.IdPConfig{EntityID: m.EntityID, SSOURL: m.SSOURL, MetadataXML: string(data), MetadataURL: url}, nil
}
