package console

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgd/orgd/orgmodel"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active navigation entry
	Me     *orgmodel.User
	Admin  bool
	Setup  *orgmodel.SetupLink // set on the setup-link pages
	Org    orgmodel.OrgSID
	Base   string // "/console" or "/console/setup" (identity pages)
	Notice string
	Err    *refusal
	Form   url.Values // the submitted form, re-shown with its error
	Data   any
	status int
	shown  bool // a template showed Err next to its form
}

// ErrFor returns the refusal when it answers form (and notes that the
// page showed it).
func (v *view) ErrFor(form string) *refusal {
	if v.Err != nil && v.Err.Form == form {
		v.shown = true
		return v.Err
	}
	return nil
}

// PageErr returns a refusal that answers no form of the page.
func (v *view) PageErr() *refusal {
	if v.Err != nil && v.Err.Form == "" {
		return v.Err
	}
	return nil
}

// Val is a submitted form value, to re-show after a refusal.
func (v *view) Val(name string) string { return v.Form.Get(name) }

var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"tsp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"signupLabel": func(s orgmodel.SignupSetting) string {
		switch s {
		case orgmodel.SignupAutoEnrollment:
			return "Auto-enrollment"
		case orgmodel.SignupBlocked:
			return "Blocked"
		}
		return "Restricted"
	},
	"eqs": func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
	"num": num,
}

// num writes n with thousands separators (100,000).
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
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
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return out
}()

// newView starts a page's view for the request's party.
func (h *handler) newView(w http.ResponseWriter, r *http.Request, title, nav string) *view {
	v := &view{Title: title, Nav: nav, Base: "/console", Form: url.Values{}}
	if me := whoOf(r); me != nil {
		v.Me, v.Admin, v.Setup, v.Org, v.Base = me.user, me.admin(), me.link, me.org, me.base()
	}
	v.Notice = h.takeFlash(w, r)
	return v
}

// render writes a page. Templates are parsed at start-up, so a failure
// here is a bug: logged, and answered 500 without the page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, name string, v *view) {
	t, ok := pages[name]
	if !ok {
		h.log.ErrorContext(r.Context(), "console: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "layout", v)
	if err == nil && v.Err != nil && v.Err.Form != "" && !v.shown {
		// The form the refusal answers is not on the page as it is now
		// (its object is gone, or it is not offered to this person):
		// show the refusal at the top instead.
		v.Err.Form = ""
		buf.Reset()
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "console: template failed", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	status := v.status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage answers err as a page of its own: a missing object and one of
// another organization get the same 404.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	h.errorPageStatus(w, r, err, 0)
}

// errorPageStatus is errorPage with another status than the error's kind
// gives (0 keeps it).
func (h *handler) errorPageStatus(w http.ResponseWriter, r *http.Request, err error, status int) {
	ref := h.refuse(r, err, "")
	if status != 0 {
		ref.Status = status
	}
	title := http.StatusText(ref.Status)
	if ref.Status == http.StatusNotFound {
		title = "Not found"
	}
	v := h.newView(w, r, title, "")
	v.Err, v.status = ref, ref.Status
	h.render(w, r, "error.html", v)
}

// pageFunc renders a page with v (which may carry a refusal to show next
// to one of its forms).
type pageFunc func(w http.ResponseWriter, r *http.Request, v *view)

// refused answers a POST whose command was refused: its page again, with
// the refusal next to form and the submitted values, at the refusal's status.
func (h *handler) refused(w http.ResponseWriter, r *http.Request, err error, form string, page pageFunc) {
	ref := h.refuse(r, err, form)
	v := &view{Form: r.PostForm, Err: ref, status: ref.Status}
	if v.Form == nil {
		v.Form = url.Values{}
	}
	page(w, r, v)
}

// fill completes a view built by refused (or a fresh one) for a page.
func (h *handler) fill(w http.ResponseWriter, r *http.Request, v *view, title, nav string) *view {
	if v == nil {
		return h.newView(w, r, title, nav)
	}
	fresh := h.newView(w, r, title, nav)
	fresh.Err, fresh.Form, fresh.status = v.Err, v.Form, v.status
	return fresh
}

// --- flash messages: what a command did, shown on the page it redirects to ---

const flashCookie = "orgd_console_flash"

// done redirects to page with a notice of what was done (Post/Redirect/Get).
func (h *handler) done(w http.ResponseWriter, r *http.Request, page, notice string) {
	if len(notice) > 600 {
		notice = notice[:600]
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(notice)),
		Path: "/console", MaxAge: 60, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, page, http.StatusSeeOther)
}

func (h *handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || !utf8.Valid(b) || len(b) > 600 {
		return ""
	}
	return string(b)
}

func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(assetFS, "assets")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/console/assets/", http.FileServerFS(sub)).ServeHTTP(w, r)
}
