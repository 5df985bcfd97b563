package api

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes what this package serves; TestOpenAPI_MatchesRoutes
// checks it against the router, both ways.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI is GET /openapi.json.
func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDoc)
}
