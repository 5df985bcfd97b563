package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

type domainsData struct {
	Domains []*orgmodel.DomainView
	IdP     *orgmodel.IdP // nil when none is configured
}

// domainsPage lists the organization's domains with the exact TXT record
// each needs (R-DOM-1), its sign-up setting (R-DOM-3) and SSO enforcement
// (R-DOM-5).
func (h *handler) domainsPage(w http.ResponseWriter, r *http.Request) {
	h.showDomains(w, r, nil)
}

func (h *handler) showDomains(w http.ResponseWriter, r *http.Request, v *view) {
	me := whoOf(r)
	ctx := r.Context()
	ds, err := h.svc.ListDomains(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	idp, err := h.svc.GetIdP(ctx, me.actor, me.org)
	if err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "Domains", "domains")
	v.Data = &domainsData{Domains: ds, IdP: idp}
	h.render(w, r, "domains.html", v)
}

func domainOf(r *http.Request) string {
	d, _ := url.PathUnescape(chi.URLParam(r, "domain"))
	return d
}

// addDomain registers a domain (R-DOM-2) and shows the record to publish.
func (h *handler) addDomain(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	d, err := h.svc.AddDomain(r.Context(), me.actor, me.org, r.PostFormValue("domain"))
	if err != nil {
		h.refused(w, r, err, "add", h.showDomains)
		return
	}
	h.done(w, r, "/console/domains#"+d.Name, fmt.Sprintf("%s is registered. Publish a TXT record at %s holding %s, then press Verify now.", d.Name, d.TXTName, d.TXTValue))
}

// verifyDomain looks the TXT record up now (R-DOM-1).
func (h *handler) verifyDomain(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	d, err := h.svc.VerifyDomain(r.Context(), me.actor, me.org, domainOf(r))
	if err != nil {
		h.refused(w, r, err, "verify:"+domainOf(r), h.showDomains)
		return
	}
	h.done(w, r, "/console/domains#"+d.Name, d.Name+" is verified. Choose its sign-up setting below.")
}

// domainSignup sets a verified domain's sign-up setting (R-DOM-3, R-DOM-4).
func (h *handler) domainSignup(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	set, err := orgmodel.ParseSignupSetting(r.PostFormValue("signup"))
	if err == nil {
		var d *orgmodel.DomainView
		if d, err = h.svc.ConfigureDomain(r.Context(), me.actor, me.org, domainOf(r), orgmodel.DomainSettings{Signup: &set}); err == nil {
			h.done(w, r, "/console/domains#"+d.Name, fmt.Sprintf("Sign-up for %s is %s.", d.Name, d.Signup))
			return
		}
	}
	h.refused(w, r, err, "signup:"+domainOf(r), h.showDomains)
}

// domainSSO turns SSO enforcement on or off (R-DOM-5: only after a
// passing connection test; R-DOM-4).
func (h *handler) domainSSO(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	on := r.PostFormValue("enforced") == "true"
	d, err := h.svc.ConfigureDomain(r.Context(), me.actor, me.org, domainOf(r), orgmodel.DomainSettings{SSOEnforced: &on})
	if err != nil {
		h.refused(w, r, err, "sso:"+domainOf(r), h.showDomains)
		return
	}
	msg := fmt.Sprintf("Everyone on %s except the Owner now logs in through single sign-on; their password sessions have ended.", d.Name)
	if !on {
		msg = fmt.Sprintf("SSO is no longer enforced on %s.", d.Name)
	}
	h.done(w, r, "/console/domains#"+d.Name, msg)
}

func (h *handler) removeDomain(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	name := domainOf(r)
	if err := h.svc.RemoveDomain(r.Context(), me.actor, me.org, name); err != nil {
		h.refused(w, r, err, "remove:"+name, h.showDomains)
		return
	}
	h.done(w, r, "/console/domains", name+" is removed; what it enforced stopped with it.")
}
