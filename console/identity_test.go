package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestIdentity_IdPAndSCIM: the SP endpoints to copy, the IdP from uploaded
// metadata, the test connection link, the IdP-initiated switch (which keeps
// a passed test), and SCIM tokens shown once, listed and revoked.
func TestIdentity_IdPAndSCIM(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)
	page := b.get("/console/sso")
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, `<code id="sp-acs">`+e.srv.URL+"/sso/saml/"+string(r.OrgSID)+`/acs</code>`)
	assert.Contains(t, page.body, `<code id="sp-entity">`+e.srv.URL+"/sso/saml/"+string(r.OrgSID)+`/metadata</code>`)
	assert.Contains(t, page.body, `<code id="scim-url">`+e.srv.URL+`/scim/v2</code>`)
	assert.Contains(t, text(page.body), "No identity provider is configured yet.")
	assert.NotContains(t, page.body, "login?test=1")

	p := b.upload("/console/sso/idp", nil, "metadata_file", "idp.xml", "<html>not metadata</html>")
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "idp"), "not SAML 2.0 identity provider metadata")
	p = b.upload("/console/sso/idp", map[string]string{"metadata_url": "http://idp.acme.test/md"}, "", "", "")
	assert.Contains(t, refusal(p.body, "idp"), "not an https URL")
	p = b.upload("/console/sso/idp", nil, "", "", "")
	assert.Contains(t, refusal(p.body, "idp"), "upload the identity provider's metadata file")

	p = b.upload("/console/sso/idp", map[string]string{"email_attribute": "mail"}, "metadata_file", "idp.xml", idpMetadata)
	require.Equal(t, http.StatusSeeOther, p.status, text(p.body))
	got := b.get(p.location)
	assert.Contains(t, text(got.body), "The identity provider https://idp.acme.test/metadata is configured. Test the connection before enforcing SSO on a domain.")
	assert.Contains(t, got.body, `href="/sso/saml/`+string(r.OrgSID)+`/login?test=1"`)
	assert.Contains(t, text(got.body), "IdP-initiated logins refused")
	idp, err := e.svc.GetIdP(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, "mail", idp.EmailAttribute)
	assert.Equal(t, "https://idp.acme.test/sso", idp.SSOURL)

	_, err = e.svc.MarkIdPTested(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	got = b.follow("/console/sso/idp-initiated", url.Values{"allow": {"true"}})
	assert.Contains(t, text(got.body), "IdP-initiated logins are accepted.")
	idp, err = e.svc.GetIdP(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.True(t, idp.AllowIdPInitiated)
	assert.NotNil(t, idp.TestedAt, "switching IdP-initiated logins lost the passed test")
	assert.Equal(t, "mail", idp.EmailAttribute)

	// SCIM tokens.
	p = b.post("/console/sso/scim-tokens", url.Values{"name": {"okta"}})
	require.Equal(t, http.StatusCreated, p.status, text(p.body))
	tok := regexp.MustCompile(`id="new-scim" class="secret">(scim_[0-9a-f]+)<`).FindStringSubmatch(p.body)
	require.Len(t, tok, 2)
	a, err := e.svc.AuthenticateSCIM(e.ctx, tok[1], "")
	require.NoError(t, err)
	assert.Equal(t, r.OrgSID, a.OrgSID)
	list := b.get("/console/sso")
	assert.NotContains(t, list.body, tok[1], "a SCIM token is shown more than once")
	assert.Regexp(t, `okta [0-9a-f]{16} \S+ \S+ UTC \S+ \S+ UTC active`, text(list.body), "last used is listed")
	id := regexp.MustCompile(`/console/sso/scim-tokens/([0-9a-f]{16})/revoke`).FindStringSubmatch(list.body)[1]
	got = b.follow("/console/sso/scim-tokens/"+id+"/revoke", nil)
	assert.Contains(t, text(got.body), `The SCIM token "okta" is revoked`)
	_, err = e.svc.AuthenticateSCIM(e.ctx, tok[1], "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	p = b.post("/console/sso/scim-tokens/ffffffffffffffff/revoke", nil)
	assert.Equal(t, http.StatusNotFound, p.status)
}

// TestSetupLinks: an administrator issues a link (shown once); its holder
// opens only the SSO and SCIM setup, without a console account; revoking
// it closes the pages at once.
func TestSetupLinks(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)
	p := b.post("/console/setup-links", url.Values{"name": {"Okta rollout"}, "ttl": {"forever"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "create"), "choose how long")
	p = b.post("/console/setup-links", url.Values{"name": {"Okta rollout"}, "ttl": {"24h"}})
	require.Equal(t, http.StatusCreated, p.status, text(p.body))
	link := regexp.MustCompile(`id="new-link" class="secret">([^<]+)<`).FindStringSubmatch(p.body)
	require.Len(t, link, 2)
	assert.True(t, strings.HasPrefix(link[1], e.srv.URL+"/console/setup?token=setup_"), link[1])
	list := b.get("/console/setup-links")
	assert.NotContains(t, list.body, "setup_", "a setup link is shown more than once")
	assert.Regexp(t, `Okta rollout \S+ \S+ UTC `+string(r.UserSID)+` \S+ \S+ UTC — live`, text(list.body))

	it := e.anonymous()
	enter := it.get(strings.TrimPrefix(link[1], e.srv.URL))
	require.Equal(t, http.StatusSeeOther, enter.status, text(enter.body))
	assert.Equal(t, "/console/setup/sso", enter.location)
	var cookie *http.Cookie
	for _, c := range it.c.Jar.Cookies(mustURL(t, e.srv.URL+"/console/setup/sso")) {
		if c.Name == "orgd_setup" {
			cookie = c
		}
	}
	require.NotNil(t, cookie, "the link's token is not kept as a cookie")
	setup := it.get("/console/setup/sso")
	require.Equal(t, http.StatusOK, setup.status, text(setup.body))
	assert.Contains(t, text(setup.body), "Setup link “Okta rollout” for "+string(r.OrgSID))
	assert.Contains(t, setup.body, `action="/console/setup/sso/idp"`)
	assert.NotContains(t, setup.body, `href="/console/users"`, "the setup page links to other console pages")
	assert.NotContains(t, setup.body, "login?test=1")

	// It configures the IdP and a SCIM token, audited under the link.
	p = it.upload("/console/setup/sso/idp", nil, "metadata_file", "idp.xml", idpMetadata)
	require.Equal(t, http.StatusSeeOther, p.status, text(p.body))
	assert.Equal(t, "/console/setup/sso", p.location)
	setup = it.get(p.location)
	assert.Contains(t, text(setup.body), "The identity provider https://idp.acme.test/metadata is configured.")
	assert.Contains(t, text(setup.body), "The connection test is run by an Owner or Administrator")
	assert.NotContains(t, setup.body, "login?test=1")
	p = it.post("/console/setup/sso/scim-tokens", url.Values{"name": {"okta"}})
	require.Equal(t, http.StatusCreated, p.status, text(p.body))
	assert.Regexp(t, `scim_[0-9a-f]{64}`, p.body)
	got := it.follow("/console/setup/sso/idp-initiated", url.Values{"allow": {"true"}})
	assert.Contains(t, text(got.body), "IdP-initiated logins are accepted.")
	evs := e.audit(r.OrgSID, "sso.idp_set")
	require.NotEmpty(t, evs)
	assert.True(t, strings.HasPrefix(evs[0].Actor, "setup:"), evs[0].Actor)
	assert.Equal(t, "console", evs[0].Via)

	// Nothing else opens to it: the rest of the console needs a session.
	for _, path := range []string{"/console/", "/console/users", "/console/audit", "/console/domains", "/console/sso", "/console/setup-links"} {
		p := it.get(path)
		assert.Equal(t, http.StatusSeeOther, p.status, path)
		assert.True(t, strings.HasPrefix(p.location, "/login?"), path)
	}
	p = it.post("/console/users/invite", url.Values{"email": {"x@acme.test"}})
	assert.Equal(t, http.StatusSeeOther, p.status)

	// Revoked: the next request is refused, and the cookie is cleared.
	id := regexp.MustCompile(`/console/setup-links/([0-9a-f]{16})/revoke`).FindStringSubmatch(b.get("/console/setup-links").body)[1]
	got = b.follow("/console/setup-links/"+id+"/revoke", nil)
	assert.Contains(t, text(got.body), `The setup link "Okta rollout" is revoked`)
	p = it.get("/console/setup/sso")
	assert.Equal(t, http.StatusUnauthorized, p.status)
	assert.Contains(t, text(p.body), "the setup link is not valid")
	p = it.get("/console/setup/sso")
	assert.Equal(t, http.StatusUnauthorized, p.status)
	assert.Contains(t, text(p.body), "open the setup link you were given again")
	assert.Equal(t, http.StatusUnauthorized, it.get(strings.TrimPrefix(link[1], e.srv.URL)).status)
	assert.Equal(t, http.StatusUnauthorized, e.anonymous().get("/console/setup?token=setup_nope").status)

	// Leaving forgets the link in this browser.
	l2, err := e.svc.CreateSetupLink(e.ctx, orgmodel.Actor{UserSID: r.UserSID}, r.OrgSID, "two", time.Hour)
	require.NoError(t, err)
	it2 := e.anonymous()
	it2.get(strings.TrimPrefix(l2.URL, e.srv.URL))
	require.Equal(t, http.StatusOK, it2.get("/console/setup/sso").status)
	p = it2.post("/console/setup/leave", nil)
	assert.Equal(t, http.StatusOK, p.status)
	assert.Equal(t, http.StatusUnauthorized, it2.get("/console/setup/sso").status)
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
