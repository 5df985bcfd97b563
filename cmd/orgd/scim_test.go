package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scimCall sends one SCIM request over the wire and decodes the answer.
func scimCall(t *testing.T, method, u, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var doc map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &doc), "%s %s: %s", method, u, raw)
	}
	return resp.StatusCode, resp.Header, doc
}

// TestServe_SCIM drives `orgd serve`'s SCIM 2.0 endpoint over real HTTP
// with a token from `orgd scim-token create`: provisioning through the
// rules, the CLI seeing what SCIM did, and a revoked token refused at once.
// The Organizations API's /Organizations/{OR}/scim/Users serves the same
// users with an OAuth client's bearer token.
func TestServe_SCIM(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		dns := startDNS(t)
		c := newCLI(t, dsn)
		s := startServe(t, c)
		org := c.ok("signup", "--email", "owner@scim-acme.test", "--password", testPassword, "--name", "SCIM Acme").str("organization_sid")
		d := c.ok("domain", "add", "--org", org, "--domain", "scim-acme.test")
		dns.add(d.str("txt_name"), d.str("txt_value"))
		c.ok("domain", "verify", "--org", org, "--domain", "scim-acme.test", "--dns-server", dns.addr)
		tok := c.ok("scim-token", "create", "--org", org, "--name", "okta").str("token")
		base := s.url + "/scim/v2"

		// Okta's create.
		code, hdr, u := scimCall(t, "POST", base+"/Users", tok, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "test.user@scim-acme.test",
			"name": map[string]any{"givenName": "Test", "familyName": "User"}, "active": true,
			"emails": []any{map[string]any{"primary": true, "value": "test.user@scim-acme.test", "type": "work"}},
		})
		require.Equal(t, 201, code, "%v", u)
		require.Equal(t, "application/scim+json", hdr.Get("Content-Type"))
		id := u["id"].(string)
		require.Equal(t, base+"/Users/"+id, hdr.Get("Location"))
		require.Regexp(t, `^US[0-9a-f]{32}$`, id)

		// A rule refuses through SCIM with its id first.
		code, _, e := scimCall(t, "POST", base+"/Users", tok, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "x@unverified-acme.test"})
		require.Equal(t, 403, code)
		require.Regexp(t, `^R-SCIM-1: `, e["detail"])

		// Okta's look-up (upper case) and Entra's value-path filter.
		for _, f := range []string{`userName eq "TEST.USER@SCIM-ACME.TEST"`, `emails[type eq "work"].value eq "test.user@scim-acme.test"`} {
			code, _, list := scimCall(t, "GET", base+"/Users?filter="+url.QueryEscape(f), tok, nil)
			require.Equal(t, 200, code)
			require.EqualValues(t, 1, list["totalResults"], f)
		}

		// A group, read without its members as Entra does.
		code, _, g := scimCall(t, "POST", base+"/Groups", tok, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Engineering",
			"members": []any{map[string]any{"value": id}}})
		require.Equal(t, 201, code, "%v", g)
		code, _, list := scimCall(t, "GET", base+"/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "engineering"`), tok, nil)
		require.Equal(t, 200, code)
		require.EqualValues(t, 1, list["totalResults"])
		require.NotContains(t, list["Resources"].([]any)[0], "members")

		// Deactivation through SCIM, seen by the CLI.
		code, _, u = scimCall(t, "PATCH", base+"/Users/"+id, tok, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}})
		require.Equal(t, 200, code)
		require.Equal(t, false, u["active"])
		users := c.ok("user", "list", "--org", org).list("users")
		require.Equal(t, "inactive", find(users, "sid", id).str("status"))
		events := c.ok("audit", "list", "--org", org, "--actor", "scim:"+c.ok("scim-token", "list", "--org", org).list("tokens")[0].str("id")).list("events")
		require.NotEmpty(t, events, "SCIM's changes are audited under its token")

		// The Organizations API serves the same users with an OAuth bearer token.
		oc := c.ok("oauth-client", "create", "--org", org)
		jwt := clientToken(t, s.url, oc.str("client_id"), oc.str("client_secret"))
		orgUsers := s.url + "/Organizations/" + org + "/scim/Users"
		code, _, list = scimCall(t, "GET", orgUsers+"?filter="+url.QueryEscape(`userName eq "test.user@scim-acme.test"`), jwt, nil)
		require.Equal(t, 200, code, "%v", list)
		require.EqualValues(t, 1, list["totalResults"])
		require.Equal(t, orgUsers+"/"+id, list["Resources"].([]any)[0].(map[string]any)["meta"].(map[string]any)["location"])
		code, _, e = scimCall(t, "GET", orgUsers, "", nil)
		require.Equal(t, 401, code)
		require.Equal(t, "401", e["status"])
		other := c.ok("signup", "--email", "owner@other-scim.test", "--password", testPassword).str("organization_sid")
		code, _, _ = scimCall(t, "GET", s.url+"/Organizations/"+other+"/scim/Users", jwt, nil)
		require.Equal(t, 404, code, "another organization's users are not found")
		// A SCIM token is not a credential of the Organizations API, nor the reverse.
		code, _, _ = scimCall(t, "GET", base+"/Users", jwt, nil)
		require.Equal(t, 401, code)

		// Revoked: refused at once.
		code, _, _ = scimCall(t, "GET", base+"/ServiceProviderConfig", tok, nil)
		require.Equal(t, 200, code)
		c.ok("scim-token", "revoke", "--org", org, "--token", tok)
		code, hdr, e = scimCall(t, "GET", base+"/Users", tok, nil)
		require.Equal(t, 401, code)
		require.Equal(t, "401", e["status"])
		require.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")

		_, metrics := get(t, s.url+"/metrics")
		require.Contains(t, metrics, `route="/scim/v2/*"`)
		require.NotContains(t, s.stderr.String(), tok, "no token reaches the log")
	})
}
