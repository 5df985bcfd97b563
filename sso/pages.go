package sso

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// page is what every template may show.
type page struct {
	Title    string
	Notice   string
	Error    string
	Rule     string
	Ref      string
	Message  string
	Link     string
	LinkText string

	Email  string
	Name   string
	Next   string
	Token  string
	SSOOrg string

	Need   string // second factor: "verify" or "enrol"
	Secret string
	QR     template.URL
}

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		out[base] = template.Must(template.New(base).ParseFS(templateFS, "templates/layout.html", n))
	}
	return out
}()

// render writes a page; templates are parsed at start-up, so a failure
// here is a bug, logged and answered 500 without the page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	t, ok := pages[name]
	if !ok {
		h.log.Error("sso: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("sso: template failed", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(assetFS, "assets")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/sso/assets/", http.FileServerFS(sub)).ServeHTTP(w, r)
}
