package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/testsaml"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/ssotest"
)

func TestCLI_SSOSet(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		idp := ssotest.NewIdP(t, "https://idp.test/metadata", "idp.test", time.Now())
		path := filepath.Join(t.TempDir(), "idp.xml")
		require.NoError(t, os.WriteFile(path, idp.Metadata(), 0o600))
		f.env["ORGD_BASE_URL"] = "https://orgd.example"
		o := f.ok("sso", "set", "--org", f.orgA, "--idp-metadata", path, "--allow-idp-initiated")
		base := "https://orgd.example/sso/saml/" + f.orgA
		require.Equal(t, base+"/metadata", o.str("sp_entity_id"))
		require.Equal(t, base+"/acs", o.str("acs_url"))
		require.Equal(t, base+"/metadata", o.str("metadata_url"))
		// Now enforcement can be turned on once a test login passed; not before.
		f.refused(3, "R-DOM-5", "domain", "set", "--org", f.orgA, "--domain", "acme.test", "--sso-enforced")

		code, e := f.fail("sso", "set", "--org", f.orgA, "--idp-metadata", filepath.Join(t.TempDir(), "missing.xml"))
		require.NotZero(t, code)
		require.Contains(t, e.str("error"), "metadata")
		code, e = f.fail("sso", "set", "--org", f.orgA, "--idp-metadata", "http://insecure.test/md")
		require.NotZero(t, code)
		require.Contains(t, e.str("error"), "https")
		code, e = f.fail("sso", "set", "--org", f.orgA)
		require.Equal(t, 2, code)
		require.Contains(t, e.str("error"), "--idp-metadata")
		// A Standard user may not configure it (R-ROLE-3).
		inv := f.ok("user", "invite", "--org", f.orgA, "--email", "std@acme.test")
		std := f.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword).str("user_sid")
		f.refused(3, "R-ROLE-3", "sso", "set", "--org", f.orgA, "--idp-metadata", path, "--as", std)
	})
}

// TestServe_SSOLogin logs in through orgd serve: SP-initiated SAML with a
// real signature, then a password login on /login, on both databases.
func TestServe_SSOLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		s := startServe(t, f.orgdCLI)
		f.env["ORGD_BASE_URL"] = s.url
		idp := ssotest.NewIdP(t, "https://idp.test/metadata", "idp.test", time.Now())
		path := filepath.Join(t.TempDir(), "idp.xml")
		require.NoError(t, os.WriteFile(path, idp.Metadata(), 0o600))
		set := f.ok("sso", "set", "--org", f.orgA, "--idp-metadata", path)
		inv := f.ok("user", "invite", "--org", f.orgA, "--email", "alice@acme.test")
		alice := f.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword).str("user_sid")

		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(s.url + "/sso/saml/" + f.orgA + "/metadata")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		resp, err = c.Get(s.url + "/sso/saml/" + f.orgA + "/login?relay=/console/accounts")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		raw, err := testsaml.ParseRedirectRequest(loc)
		require.NoError(t, err)
		doc := etree.NewDocument()
		require.NoError(t, doc.ReadFromBytes(raw))
		id := doc.Root().SelectAttrValue("ID", "")

		samlResp := ssotest.Encode(t, idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "alice@acme.test"},
			set.str("acs_url"), set.str("sp_entity_id"), time.Now()))
		resp, err = c.PostForm(set.str("acs_url"), url.Values{"SAMLResponse": {samlResp}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, s.stderr.String())
		require.Equal(t, "/console/accounts", resp.Header.Get("Location"))
		var session string
		for _, ck := range resp.Cookies() {
			if ck.Name == orgmodel.SessionCookie {
				session = ck.Value
			}
		}
		require.NotEmpty(t, session)
		require.Contains(t, s.stderr.String(), `"msg":"sso: login"`)
		require.Contains(t, s.stderr.String(), alice)

		// The same response again is refused with a reference.
		resp, err = c.PostForm(set.str("acs_url"), url.Values{"SAMLResponse": {samlResp}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)

		// The password path of /login.
		resp, err = c.PostForm(s.url+"/login/password", url.Values{"email": {"alice@acme.test"}, "password": {testPassword}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/console/"))
	})
}
