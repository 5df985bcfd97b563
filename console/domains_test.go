package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestDomains: add a domain and see the exact TXT record to publish,
// verify it (refused until the record is there, R-DOM-1), set its sign-up
// setting (R-DOM-3), and enforce SSO only after a passing connection test
// (R-SSO-1, R-DOM-5).
func TestDomains(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)

	p := b.post("/console/domains", url.Values{"domain": {"https://www.acme.test/"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "add"), "What to do: Enter the bare domain")
	p = b.post("/console/domains", url.Values{"domain": {"gmail.com"}})
	assert.Contains(t, refusal(p.body, "add"), "R-DOM-2")

	got := b.follow("/console/domains", url.Values{"domain": {"Acme.TEST"}})
	views, err := e.svc.ListDomains(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	require.Len(t, views, 1)
	d := views[0]
	assert.Equal(t, "acme.test", d.Name)
	assert.Contains(t, text(got.body), "acme.test is registered. Publish a TXT record at _orgd.acme.test holding "+d.TXTValue+", then press Verify now.")
	assert.Contains(t, got.body, `<code id="txt-name-acme.test">_orgd.acme.test</code>`)
	assert.Contains(t, got.body, `<code id="txt-value-acme.test">`+d.TXTValue+`</code>`)
	assert.Regexp(t, regexp.MustCompile(`^orgd-domain-verification=[0-9a-f]{32}$`), d.TXTValue)
	assert.Contains(t, got.body, `data-copy="txt-value-acme.test"`)
	assert.NotContains(t, got.body, "Sign-up setting", "an unverified domain has no settings yet")

	p = b.post("/console/domains/acme.test/verify", nil)
	assert.Equal(t, http.StatusConflict, p.status)
	msg := refusal(p.body, "verify:acme.test")
	assert.Contains(t, msg, "R-DOM-1 no TXT record _orgd.acme.test holding "+d.TXTValue+" was found")
	assert.Contains(t, msg, "Publish the TXT record shown for the domain")
	p = b.post("/console/domains/acme.test/signup", url.Values{"signup": {"auto-enrollment"}})
	assert.Contains(t, text(p.body), "R-DOM-1 acme.test is not verified")

	e.dns.set(d.TXTName, d.TXTValue)
	got = b.follow("/console/domains/acme.test/verify", nil)
	assert.Contains(t, text(got.body), "acme.test is verified.")
	assert.Contains(t, got.body, `badge dom-verified`)

	got = b.follow("/console/domains/acme.test/signup", url.Values{"signup": {"auto-enrollment"}})
	assert.Contains(t, text(got.body), "Sign-up for acme.test is auto-enrollment.")
	assert.Contains(t, got.body, `value="auto-enrollment" checked`)
	p = b.post("/console/domains/acme.test/signup", url.Values{"signup": {"open"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "signup:acme.test"), "not restricted, auto-enrollment or blocked")

	// Another organization that verified acme.test cannot also auto-enrol it (R-DOM-4).
	other := e.signup("boss@other.test")
	e.verify(other.OrgSID, "acme.test")
	p = e.as(other.UserSID).post("/console/domains/acme.test/signup", url.Values{"signup": {"auto-enrollment"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "signup:acme.test"), "R-DOM-4")

	// SSO enforcement: not without an IdP, not before a passing test.
	p = b.post("/console/domains/acme.test/sso", url.Values{"enforced": {"true"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "sso:acme.test"), "R-SSO-1")
	assert.Contains(t, p.body, `href="/console/sso"`)
	_, err = e.svc.SetIdP(e.ctx, e.op, r.OrgSID, orgmodel.IdPConfig{EntityID: "https://idp.acme.test", SSOURL: "https://idp.acme.test/sso"})
	require.NoError(t, err)
	assert.Contains(t, text(b.get("/console/domains").body), "has not passed a connection test yet")
	p = b.post("/console/domains/acme.test/sso", url.Values{"enforced": {"true"}})
	msg = refusal(p.body, "sso:acme.test")
	assert.Contains(t, msg, "R-DOM-5 the identity provider has not passed a test login")
	assert.Contains(t, msg, "SSO & SCIM → Test connection")
	_, err = e.svc.MarkIdPTested(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	got = b.follow("/console/domains/acme.test/sso", url.Values{"enforced": {"true"}})
	assert.Contains(t, text(got.body), "Everyone on acme.test except the Owner now logs in through single sign-on")
	assert.Contains(t, got.body, "SSO enforced")
	got = b.follow("/console/domains/acme.test/sso", url.Values{"enforced": {"false"}})
	assert.Contains(t, text(got.body), "SSO is no longer enforced on acme.test.")

	got = b.follow("/console/domains/acme.test/remove", url.Values{"confirm": {"yes"}})
	assert.Contains(t, text(got.body), "acme.test is removed")
	p = b.post("/console/domains/acme.test/remove", nil)
	assert.Equal(t, http.StatusNotFound, p.status)
}
