package api

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// API keys of an account: /2010-04-01/Accounts/{AccountSid}/Keys.

type keyJSON struct {
	Sid          string  `json:"sid"`
	FriendlyName string  `json:"friendly_name"`
	DateCreated  string  `json:"date_created"`
	DateUpdated  string  `json:"date_updated"`
	Secret       *string `json:"secret,omitempty"` // only when just created
}

func keyOut(k *orgmodel.APIKey, secret string) keyJSON {
	out := keyJSON{Sid: string(k.SID), FriendlyName: k.FriendlyName, DateCreated: date2822(k.CreatedAt), DateUpdated: date2822(k.UpdatedAt)}
	if secret != "" {
		out.Secret = &secret
	}
	return out
}

type keyList struct {
	Keys []keyJSON `json:"keys"`
	pageURIs
}

var pathSIDParams = []struct{ name, prefix string }{
	{"AccountSid", orgmodel.PrefixAccount},
	{"Sid", orgmodel.PrefixAPIKey},
}

// checkPathSIDs refuses a path whose SIDs are malformed: it names no
// resource, so it is not found (as Twilio answers), not a bad request.
func (h *handler) checkPathSIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range pathSIDParams {
			if v := chi.URLParam(r, p.name); v != "" && !orgmodel.ValidSID(p.prefix, v) {
				h.writeError(w, r, orgmodel.NotFound("resource", r.URL.Path))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func pathAccount(r *http.Request) orgmodel.AccountSID {
	return orgmodel.AccountSID(chi.URLParam(r, "AccountSid"))
}

func pathKey(r *http.Request) orgmodel.APIKeySID { return orgmodel.APIKeySID(chi.URLParam(r, "Sid")) }

// createKey is POST …/Keys.json: the secret is in this answer only; orgd
// keeps its SHA-256.
func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	k, err := h.svc.CreateAPIKey(r.Context(), actorFrom(r.Context()), pathAccount(r), r.PostForm.Get("FriendlyName"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusCreated, keyOut(&k.APIKey, k.Secret))
}

// listKeys is GET …/Keys.json, in SID order.
func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parsePage(q, 50, 1000, orgmodel.PrefixAPIKey)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	keys, err := h.svc.ListAPIKeys(r.Context(), actorFrom(r.Context()), pathAccount(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	after := keys[:0:0]
	for _, k := range keys {
		if string(k.SID) > p.after {
			after = append(after, k)
		}
	}
	items, more := cut(p, after)
	out := keyList{Keys: make([]keyJSON, 0, len(items))}
	last := ""
	for _, k := range items {
		out.Keys = append(out.Keys, keyOut(k, ""))
		last = string(k.SID)
	}
	out.pageURIs = v2010Page(r.URL.Path, url.Values{}, p, len(items), more, last, r.URL.RawQuery)
	h.writeJSON(w, r, http.StatusOK, out)
}

// fetchKey is GET …/Keys/{Sid}.json (never the secret).
func (h *handler) fetchKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.svc.GetAPIKey(r.Context(), actorFrom(r.Context()), pathAccount(r), pathKey(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, keyOut(k, ""))
}

// updateKey is POST …/Keys/{Sid}.json: FriendlyName.
func (h *handler) updateKey(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	a, acct, sid := actorFrom(r.Context()), pathAccount(r), pathKey(r)
	var k *orgmodel.APIKey
	var err error
	if _, ok := r.PostForm["FriendlyName"]; ok {
		k, err = h.svc.RenameAPIKey(r.Context(), a, acct, sid, r.PostForm.Get("FriendlyName"))
	} else {
		k, err = h.svc.GetAPIKey(r.Context(), a, acct, sid)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, keyOut(k, ""))
}

// deleteKey is DELETE …/Keys/{Sid}.json; the key stops authenticating at
// once on this replica.
func (h *handler) deleteKey(w http.ResponseWriter, r *http.Request) {
	err := h.svc.DeleteAPIKey(r.Context(), actorFrom(r.Context()), pathAccount(r), pathKey(r))
	h.auth.InvalidateCredentials()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
