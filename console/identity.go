package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// The SSO & SCIM page serves two parties: the organization's Owner and
// Administrators (/console/sso), and the holder of a setup link
// (/console/setup/sso), whose actor orgmodel scopes to exactly these
// commands.

type identityData struct {
	IdP      *orgmodel.IdP // nil until configured
	SP       SPEndpoints
	SCIMURL  string
	Tokens   []*orgmodel.SCIMToken
	NewToken *orgmodel.SCIMTokenResult // shown once, right after creation
	TestURL  string                    // "" for a setup link: the test needs an administrator's session
	Groups   *groupsList               // nil for a setup link: mapping groups grants roles
}

func (h *handler) identityPage(w http.ResponseWriter, r *http.Request) {
	h.showIdentity(w, r, nil)
}

func (h *handler) showIdentity(w http.ResponseWriter, r *http.Request, v *view) {
	h.showIdentityWith(w, r, v, nil)
}

func (h *handler) showIdentityWith(w http.ResponseWriter, r *http.Request, v *view, fresh *orgmodel.SCIMTokenResult) {
	me := whoOf(r)
	ctx := r.Context()
	idp, err := h.svc.GetIdP(ctx, me.actor, me.org)
	if err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
		h.errorPage(w, r, err)
		return
	}
	tokens, err := h.svc.ListSCIMTokens(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "SSO & SCIM", "sso")
	if me.link != nil {
		v.Title = "Single sign-on and SCIM setup"
	}
	d := &identityData{IdP: idp, SP: h.sp(me.org), SCIMURL: h.base + "/scim/v2", Tokens: tokens, NewToken: fresh}
	if idp != nil && me.link == nil {
		d.TestURL = "/sso/saml/" + string(me.org) + "/login?test=1"
	}
	if me.link == nil {
		d.Groups, err = h.groupsOf(r, me)
		if err != nil && orgmodel.KindOf(err) != orgmodel.KindInvalid {
			h.errorPage(w, r, err)
			return
		}
		if err != nil { // the search text: shown next to its form
			v.Err = h.refuse(r, err, "groups")
			v.status = v.Err.Status
			d.Groups = &groupsList{}
		}
	}
	v.Data = d
	h.render(w, r, "identity.html", v)
}

func (h *handler) identityPath(r *http.Request) string { return whoOf(r).base() + "/sso" }

// maxMetadataUpload bounds an uploaded metadata file (the server caps
// bodies at 1 MiB; orgmodel keeps at most 1 MiB of metadata).
const maxMetadataUpload = 1 << 20

// setIdP configures the identity provider from uploaded metadata or its
// URL (R-SSO-1). A changed IdP must pass a new connection test before SSO
// can be enforced (R-DOM-5).
func (h *handler) setIdP(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	cfg, err := h.readMetadata(r)
	if err == nil {
		cfg.AllowIdPInitiated = r.PostFormValue("allow_idp_initiated") == "true"
		cfg.EmailAttribute = strings.TrimSpace(r.PostFormValue("email_attribute"))
		if len(cfg.EmailAttribute) > 256 {
			err = orgmodel.Invalid("email_attribute", "the attribute name is longer than 256 bytes")
		}
	}
	if err == nil {
		var p *orgmodel.IdP
		if p, err = h.svc.SetIdP(r.Context(), me.actor, me.org, cfg); err == nil {
			msg := fmt.Sprintf("The identity provider %s is configured.", p.EntityID)
			if p.TestedAt == nil {
				msg += " Test the connection before enforcing SSO on a domain."
			}
			h.done(w, r, h.identityPath(r), msg)
			return
		}
	}
	h.refused(w, r, err, "idp", h.showIdentity)
}

func (h *handler) readMetadata(r *http.Request) (orgmodel.IdPConfig, error) {
	if err := r.ParseMultipartForm(maxMetadataUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata", "the upload could not be read; the metadata file may be at most 1 MiB")
	}
	_ = r.ParseForm()
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if f, _, err := r.FormFile("metadata_file"); err == nil {
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxMetadataUpload+1))
		if err != nil || len(data) > maxMetadataUpload {
			return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata", "the metadata file could not be read, or is larger than 1 MiB")
		}
		if len(data) > 0 {
			return h.idp(ctx, data, "")
		}
	}
	if u := strings.TrimSpace(r.PostFormValue("metadata_url")); u != "" {
		return h.idp(ctx, nil, u)
	}
	return orgmodel.IdPConfig{}, orgmodel.Invalid("metadata", "upload the identity provider's metadata file, or give its https URL")
}

// setIdPInitiated switches IdP-initiated logins on or off, keeping the
// rest of the configuration (and so its passed test).
func (h *handler) setIdPInitiated(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	p, err := h.svc.GetIdP(r.Context(), me.actor, me.org)
	if err == nil {
		on := r.PostFormValue("allow") == "true"
		_, err = h.svc.SetIdP(r.Context(), me.actor, me.org, orgmodel.IdPConfig{
			EntityID: p.EntityID, SSOURL: p.SSOURL, MetadataXML: p.MetadataXML, MetadataURL: p.MetadataURL,
			AllowIdPInitiated: on, EmailAttribute: p.EmailAttribute,
		})
		if err == nil {
			msg := "IdP-initiated logins are accepted."
			if !on {
				msg = "IdP-initiated logins are refused; logins start here (SP-initiated)."
			}
			h.done(w, r, h.identityPath(r), msg)
			return
		}
	}
	h.refused(w, r, err, "idp-initiated", h.showIdentity)
}

// createSCIMToken issues a SCIM bearer token and shows it once.
func (h *handler) createSCIMToken(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	t, err := h.svc.CreateSCIMToken(r.Context(), me.actor, me.org, strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		h.refused(w, r, err, "scim-token", h.showIdentity)
		return
	}
	v := &view{status: http.StatusCreated}
	h.showIdentityWith(w, r, v, t)
}

func (h *handler) revokeSCIMToken(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	t, err := h.svc.RevokeSCIMToken(r.Context(), me.actor, me.org, chi.URLParam(r, "id"))
	if err != nil {
		h.refused(w, r, err, "scim-tokens", h.showIdentity)
		return
	}
	h.done(w, r, h.identityPath(r), fmt.Sprintf("The SCIM token %q is revoked; it is refused from now on.", t.Name))
}

// --- setup links ---

const setupCookie = "orgd_setup"

// setupEnter exchanges a setup link's token for a cookie, so that the
// token leaves the address bar (and history) at once.
func (h *handler) setupEnter(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	_, l, err := h.svc.AuthenticateSetupLink(r.Context(), token, "console", clientIP(r))
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	maxAge := int(time.Until(l.ExpiresAt) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	// Lax, so that the redirect that follows a link opened from a mail or
	// chat carries it; POSTs from elsewhere are stopped by the cross-origin
	// protection.
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: token, Path: "/console/setup", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/console/setup/sso", http.StatusSeeOther)
}

// setupLink admits requests carrying a live setup link; every request
// authenticates it again, so a revocation or expiry takes effect at once.
func (h *handler) setupLink(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(setupCookie)
		if err != nil {
			h.errorPage(w, r, orgmodel.Unauthenticated("open the setup link you were given again; this page needs it"))
			return
		}
		a, l, err := h.svc.AuthenticateSetupLink(r.Context(), c.Value, "console", clientIP(r))
		if err != nil {
			h.clearSetup(w)
			h.errorPage(w, r, err)
			return
		}
		me := &who{actor: a, org: l.OrgSID, link: l}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, me)))
	})
}

func (h *handler) clearSetup(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: "", Path: "/console/setup", MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

func (h *handler) setupLeave(w http.ResponseWriter, r *http.Request) {
	h.clearSetup(w)
	v := h.newView(w, r, "You left the setup", "")
	v.Setup, v.Org = nil, ""
	v.Data = "This browser no longer holds the setup link. Open the link again to come back while it is valid."
	h.render(w, r, "message.html", v)
}

type setupLinksData struct {
	Links []*orgmodel.SetupLink
	New   *orgmodel.SetupLinkResult
	Now   time.Time
}

// setupLinksPage lists the organization's setup links and issues new ones.
func (h *handler) setupLinksPage(w http.ResponseWriter, r *http.Request) {
	h.showSetupLinks(w, r, nil, nil)
}

func (h *handler) showSetupLinks(w http.ResponseWriter, r *http.Request, v *view, fresh *orgmodel.SetupLinkResult) {
	me := whoOf(r)
	links, err := h.svc.ListSetupLinks(r.Context(), me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "Setup links", "setup-links")
	v.Data = &setupLinksData{Links: links, New: fresh, Now: h.svc.Now()}
	h.render(w, r, "setup_links.html", v)
}

// setupTTLs are the lifetimes the form offers.
var setupTTLs = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "72h": 72 * time.Hour, "168h": 7 * 24 * time.Hour}

func (h *handler) createSetupLink(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	ttl, ok := setupTTLs[r.PostFormValue("ttl")]
	if !ok {
		h.refused(w, r, orgmodel.Invalid("ttl", "choose how long the link stays valid"), "create", func(w http.ResponseWriter, r *http.Request, v *view) {
			h.showSetupLinks(w, r, v, nil)
		})
		return
	}
	l, err := h.svc.CreateSetupLink(r.Context(), me.actor, me.org, strings.TrimSpace(r.PostFormValue("name")), ttl)
	if err != nil {
		h.refused(w, r, err, "create", func(w http.ResponseWriter, r *http.Request, v *view) { h.showSetupLinks(w, r, v, nil) })
		return
	}
	h.showSetupLinks(w, r, &view{status: http.StatusCreated}, l)
}

func (h *handler) revokeSetupLink(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	l, err := h.svc.RevokeSetupLink(r.Context(), me.actor, me.org, chi.URLParam(r, "id"))
	if err != nil {
		h.refused(w, r, err, "links", func(w http.ResponseWriter, r *http.Request, v *view) { h.showSetupLinks(w, r, v, nil) })
		return
	}
	h.done(w, r, "/console/setup-links", fmt.Sprintf("The setup link %q is revoked; it stops working at once.", l.Name))
}
