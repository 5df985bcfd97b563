package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	piam "github.com/twilio/twilio-go/rest/preview_iam/organization"

	"github.com/orgd/orgd/api"
	"github.com/orgd/orgd/orgmodel"
)

// token asks /v2/token for an access token with client credentials.
func (e *env) token(c *orgmodel.OAuthClientResult) string {
	e.t.Helper()
	res := e.raw("POST", "/v2/token", form(nil), "grant_type=client_credentials&client_id="+string(c.ClientID)+"&client_secret="+c.ClientSecret)
	require.Equal(e.t, 200, res.status, res.text)
	tok, _ := res.body["access_token"].(string)
	require.NotEmpty(e.t, tok)
	return tok
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func TestToken_ClientCredentialsGiveASignedShortLivedJWTForOneOrganization(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	c := e.oauthClient(r.OrgSID)

	res := e.raw("POST", "/v2/token", form(nil), "grant_type=client_credentials&client_id="+string(c.ClientID)+"&client_secret="+c.ClientSecret)
	require.Equal(t, 200, res.status, res.text)
	assert.Equal(t, "Bearer", res.body["token_type"])
	assert.EqualValues(t, 3600, res.body["expires_in"])
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	tok := res.body["access_token"].(string)
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", parsed.Method.Alg())
	assert.NotEmpty(t, parsed.Header["kid"])
	claims := parsed.Claims.(jwt.MapClaims)
	exp, err := claims.GetExpirationTime()
	require.NoError(t, err)
	require.NotNil(t, exp, "twilio-go reads exp to know when to fetch the next token")
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp.Time, time.Minute)
	assert.Equal(t, string(r.OrgSID), claims["org"])
	assert.Equal(t, string(c.ClientID), claims["sub"])

	// HTTP Basic client authentication (RFC 6749 §2.3.1) works too.
	h := form(basic(string(c.ClientID), c.ClientSecret))
	res = e.raw("POST", "/v2/token", h, "grant_type=client_credentials")
	require.Equal(t, 200, res.status, res.text)

	bad := []struct {
		name, body string
		header     map[string]string
		status     int
		oauth      string
	}{
		{"wrong secret", "grant_type=client_credentials&client_id=" + string(c.ClientID) + "&client_secret=" + strings.Repeat("0", 64), form(nil), 401, "invalid_client"},
		{"unknown client", "grant_type=client_credentials&client_id=OQ0123456789abcdef0123456789abcdef&client_secret=" + c.ClientSecret, form(nil), 401, "invalid_client"},
		{"no secret", "grant_type=client_credentials&client_id=" + string(c.ClientID), form(nil), 401, "invalid_client"},
		{"no grant type", "client_id=" + string(c.ClientID) + "&client_secret=" + c.ClientSecret, form(nil), 400, "invalid_request"},
		{"password grant", "grant_type=password&username=a&password=b", form(nil), 400, "unsupported_grant_type"},
		{"JSON body", `{"grant_type":"client_credentials"}`, map[string]string{"Content-Type": "application/json"}, 400, "invalid_request"},
		{"bad form", "grant_type=%zz", form(nil), 400, "invalid_request"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			res := e.raw("POST", "/v2/token", b.header, b.body)
			require.Equal(t, b.status, res.status, res.text)
			assert.Equal(t, b.oauth, res.body["error"])
			assert.NotEmpty(t, res.body["error_description"])
			assert.NotContains(t, res.text, "access_token")
		})
	}
	res = e.raw("GET", "/v2/token", nil, "")
	require.Equal(t, 405, res.status)
}

func TestOrganizations_SDKListsAndFetchesManagedAccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	second, err := e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Second", "")
	require.NoError(t, err)
	sub, err := e.svc.CreateSubaccount(e.ctx, e.op, r.AccountSID, "sub")
	require.NoError(t, err)
	c := e.oauthClient(r.OrgSID)
	org := e.orgClient(c.ClientID, c.ClientSecret)

	accts, err := org.PreviewIamOrganization.ListOrganizationAccounts(string(r.OrgSID), nil)
	require.NoError(t, err)
	var sids []string
	for _, a := range accts {
		sids = append(sids, a.AccountSid)
		assert.Equal(t, string(r.UserSID), a.OwnerSid)
		assert.Equal(t, "active", a.Status)
		assert.WithinDuration(t, time.Now(), a.DateCreated, time.Minute, "RFC 3339 dates decode into time.Time")
	}
	assert.ElementsMatch(t, []string{string(r.AccountSID), string(second.SID)}, sids, "managed accounts, not subaccounts")

	got, err := org.PreviewIamOrganization.FetchOrganizationAccount(string(r.OrgSID),
		(&piam.FetchOrganizationAccountParams{}).SetPathAccountSid(string(second.SID)))
	require.NoError(t, err)
	assert.Equal(t, "Second", got.FriendlyName)
	assert.Equal(t, string(second.SID), got.AccountSid)

	for _, sid := range []string{string(sub.SID), "AC0123456789abcdef0123456789abcdef", "not-a-sid"} {
		_, err = org.PreviewIamOrganization.FetchOrganizationAccount(string(r.OrgSID),
			(&piam.FetchOrganizationAccountParams{}).SetPathAccountSid(sid))
		twilioErr(t, err, 404, 25101)
	}

	// Pages of one, followed by the SDK through meta.next_page_url.
	paged, err := org.PreviewIamOrganization.ListOrganizationAccounts(string(r.OrgSID),
		(&piam.ListOrganizationAccountsParams{}).SetPageSize(1))
	require.NoError(t, err)
	require.Len(t, paged, 2)
	page, err := org.PreviewIamOrganization.PageOrganizationAccounts(string(r.OrgSID),
		(&piam.ListOrganizationAccountsParams{}).SetPageSize(1), "", "")
	require.NoError(t, err)
	assert.Equal(t, 1, page.Meta.PageSize)
	assert.Equal(t, "content", page.Meta.Key)
	require.NotNil(t, page.Meta.NextPageUrl)
	assert.True(t, strings.HasPrefix(*page.Meta.NextPageUrl, e.srv.URL+"/Organizations/"+string(r.OrgSID)+"/Accounts?"), *page.Meta.NextPageUrl)
	assert.Contains(t, *page.Meta.NextPageUrl, "PageToken=PA"+page.Content[0].AccountSid)
	assert.Equal(t, e.srv.URL+"/Organizations/"+string(r.OrgSID)+"/Accounts?PageSize=1", page.Meta.FirstPageUrl)
	assert.Nil(t, page.Meta.PreviousPageUrl)
}

func TestRule_ACCT_4_TheOrganizationsAPICreatesNoAccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	tok := e.token(e.oauthClient(r.OrgSID))
	h := bearer(tok)
	h["Content-Type"] = "application/json"
	res := e.raw("POST", "/Organizations/"+string(r.OrgSID)+"/Accounts", h, `{"friendlyName":"New","ownerSid":"`+string(r.UserSID)+`"}`)
	requireTwilioBody(t, res, 403, 20403)
	details := res.body["details"].(map[string]any)
	assert.Equal(t, "R-ACCT-4", details["rule"])
	assert.True(t, strings.HasPrefix(res.body["message"].(string), "R-ACCT-4: "))
	// Not even a malformed request gets further than the rule.
	res = e.raw("POST", "/Organizations/"+string(r.OrgSID)+"/Accounts", h, `{`)
	requireTwilioBody(t, res, 403, 20403)
	accts, err := e.svc.ListManagedAccounts(e.ctx, e.op, r.OrgSID, "", 0)
	require.NoError(t, err)
	assert.Len(t, accts, 1)
}

func TestRoleAssignments_SDKCreatesListsAndDeletes(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	dev := e.member(r, "dev@acme.test", orgmodel.RoleStandard)
	c := e.oauthClient(r.OrgSID)
	org := e.orgClient(c.ClientID, c.ClientSecret).PreviewIamOrganization
	or := string(r.OrgSID)
	create := func(role orgmodel.RoleSID, scope string, identity orgmodel.UserSID) (*piam.PublicApiRoleAssignmentResponse, error) {
		return org.CreateRoleAssignment(or, (&piam.CreateRoleAssignmentParams{}).SetPublicApiCreateRoleAssignmentRequest(
			piam.PublicApiCreateRoleAssignmentRequest{RoleSid: string(role), Scope: scope, Identity: string(identity)}))
	}

	admin, err := create(orgmodel.RoleSIDAdministrator, or, dev)
	require.NoError(t, err)
	assert.True(t, orgmodel.ValidSID("IY", admin.Sid))
	assert.Equal(t, string(orgmodel.RoleSIDAdministrator), admin.RoleSid)
	assert.Equal(t, or, admin.Scope)
	assert.Equal(t, string(dev), admin.Identity)
	u, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, dev)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleAdministrator, u.Role)

	devGrant, err := create(orgmodel.RoleSIDDeveloper, string(r.AccountSID), dev)
	require.NoError(t, err)
	assert.Equal(t, string(orgmodel.RoleSIDDeveloper), devGrant.RoleSid)
	meta, err := org.CreateRoleAssignmentWithMetadata(or, (&piam.CreateRoleAssignmentParams{}).SetPublicApiCreateRoleAssignmentRequest(
		piam.PublicApiCreateRoleAssignmentRequest{RoleSid: string(orgmodel.RoleSIDBilling), Scope: string(r.AccountSID), Identity: string(r.UserSID)}))
	require.NoError(t, err)
	assert.Equal(t, 201, meta.GetStatusCode())

	all, err := org.ListRoleAssignments(or, nil)
	require.NoError(t, err)
	assert.Len(t, all, 4) // Owner, Administrator, two grants
	mine, err := org.ListRoleAssignments(or, (&piam.ListRoleAssignmentsParams{}).SetIdentity(string(dev)))
	require.NoError(t, err)
	assert.Len(t, mine, 2)
	orgScope, err := org.ListRoleAssignments(or, (&piam.ListRoleAssignmentsParams{}).SetScope(or))
	require.NoError(t, err)
	require.Len(t, orgScope, 2)
	acctScope, err := org.ListRoleAssignments(or, (&piam.ListRoleAssignmentsParams{}).SetScope(string(r.AccountSID)).SetIdentity(string(dev)))
	require.NoError(t, err)
	require.Len(t, acctScope, 1)
	assert.Equal(t, devGrant.Sid, acctScope[0].Sid)
	assert.Nil(t, acctScope[0].ResourceType)
	paged, err := org.ListRoleAssignments(or, (&piam.ListRoleAssignmentsParams{}).SetPageSize(1))
	require.NoError(t, err)
	assert.Equal(t, len(all), len(paged), "the SDK follows the pages")
	none, err := org.ListRoleAssignments(or, (&piam.ListRoleAssignmentsParams{}).SetResourceType("phone-number"))
	require.NoError(t, err)
	assert.Empty(t, none)

	// Refusals, with the Organizations API's codes.
	_, err = create(orgmodel.RoleSIDOwner, or, dev)
	te := twilioErr(t, err, 400, 25202)
	assert.Equal(t, "R-ROLE-4", te.Details["rule"])
	_, err = create("IX00000000000000000000000000000199", string(r.AccountSID), dev)
	twilioErr(t, err, 400, 25202)
	_, err = create(orgmodel.RoleSIDDeveloper, "AC0123456789abcdef0123456789abcdef", dev)
	twilioErr(t, err, 400, 25200)
	_, err = create(orgmodel.RoleSIDDeveloper, string(r.AccountSID), "US0123456789abcdef0123456789abcdef")
	twilioErr(t, err, 400, 25201)
	var ownerRA string
	for _, ra := range orgScope {
		if ra.RoleSid == string(orgmodel.RoleSIDOwner) {
			ownerRA = ra.Sid
		}
	}
	require.NotEmpty(t, ownerRA)
	err = org.DeleteRoleAssignment(or, ownerRA)
	te = twilioErr(t, err, 400, 400)
	assert.Equal(t, "R-ROLE-4", te.Details["rule"])

	// Deleting undoes.
	dm, err := org.DeleteRoleAssignmentWithMetadata(or, admin.Sid)
	require.NoError(t, err)
	assert.Equal(t, 204, dm.GetStatusCode())
	u, err = e.svc.GetUser(e.ctx, e.op, r.OrgSID, dev)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
	require.NoError(t, org.DeleteRoleAssignment(or, devGrant.Sid))
	err = org.DeleteRoleAssignment(or, devGrant.Sid)
	twilioErr(t, err, 404, 20404)
	left, err := org.ListRoleAssignments(or, nil)
	require.NoError(t, err)
	assert.Len(t, left, 2)
}

func TestRaw_RoleAssignmentBodies(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	h := bearer(e.token(e.oauthClient(r.OrgSID)))
	h["Content-Type"] = "application/json"
	path := "/Organizations/" + string(r.OrgSID) + "/RoleAssignments"
	for name, body := range map[string]string{
		"not JSON":       `role_sid=IX…`,
		"truncated":      `{"role_sid":`,
		"two objects":    `{} {}`,
		"wrong type":     `{"role_sid":5}`,
		"resource level": `{"role_sid":"IX00000000000000000000000000000103","scope":"` + string(r.AccountSID) + `","identity":"` + string(r.UserSID) + `","resource_type":"phone-number","resource_id":"PN1"}`,
	} {
		res := e.raw("POST", path, h, body)
		require.Equal(t, 400, res.status, "%s: %s", name, res.text)
		assert.EqualValues(t, 400, res.body["code"], name)
	}
	form := map[string]string{"Authorization": h["Authorization"], "Content-Type": "application/x-www-form-urlencoded"}
	res := e.raw("POST", path, form, "role_sid=x")
	require.Equal(t, 400, res.status)
	res = e.raw("GET", path+"?PageSize=101", h, "")
	require.Equal(t, 400, res.status)
	res = e.raw("GET", path+"?Scope=everything", h, "")
	require.Equal(t, 400, res.status)
	res = e.raw("DELETE", path+"/IYnope", h, "")
	require.Equal(t, 404, res.status)
}

// TestIsolation_OrganizationTokensNeverReachAnotherOrganization: a token of
// organization B gets, on every path of organization A, the answer for an
// organization that does not exist.
func TestIsolation_OrganizationTokensNeverReachAnotherOrganization(t *testing.T) {
	e := newEnv(t)
	a := e.signup("owner@acme.test")
	b := e.signup("owner@other.test")
	aDev := e.member(a, "dev@acme.test", orgmodel.RoleStandard)
	ra, err := e.svc.AssignRole(e.ctx, e.op, a.OrgSID, orgmodel.RoleSIDDeveloper, string(a.AccountSID), aDev)
	require.NoError(t, err)
	bc := e.oauthClient(b.OrgSID)
	bTok := e.token(bc)
	const ghost = "OR0123456789abcdef0123456789abcdef"

	paths := func(org string) []struct{ method, path, body string } {
		return []struct{ method, path, body string }{
			{"GET", "/Organizations/" + org + "/Accounts", ""},
			{"GET", "/Organizations/" + org + "/Accounts/" + string(a.AccountSID), ""},
			{"POST", "/Organizations/" + org + "/Accounts", `{"friendlyName":"x"}`},
			{"GET", "/Organizations/" + org + "/RoleAssignments", ""},
			{"POST", "/Organizations/" + org + "/RoleAssignments", `{"role_sid":"IX00000000000000000000000000000102","scope":"` + org + `","identity":"` + string(aDev) + `"}`},
			{"DELETE", "/Organizations/" + org + "/RoleAssignments/" + string(ra.SID), ""},
		}
	}
	h := bearer(bTok)
	h["Content-Type"] = "application/json"
	for i, p := range paths(string(a.OrgSID)) {
		res := e.raw(p.method, p.path, h, p.body)
		requireTwilioBody(t, res, 404, 25100)
		ghostRes := e.raw(p.method, paths(ghost)[i].path, h, p.body)
		requireTwilioBody(t, ghostRes, 404, 25100)
		assert.Equal(t,
			strings.ReplaceAll(res.text, string(a.OrgSID), "OR?"),
			strings.ReplaceAll(ghostRes.text, ghost, "OR?"),
			"%s %s: exists elsewhere answers like does not exist", p.method, p.path)
	}
	res := e.raw("GET", "/Organizations/ORnot-a-sid/Accounts", h, "")
	requireTwilioBody(t, res, 404, 25100)

	// B's token still works for B, and sees only B.
	bOrg := e.orgClient(bc.ClientID, bc.ClientSecret).PreviewIamOrganization
	accts, err := bOrg.ListOrganizationAccounts(string(b.OrgSID), nil)
	require.NoError(t, err)
	require.Len(t, accts, 1)
	assert.Equal(t, string(b.AccountSID), accts[0].AccountSid)
	_, err = bOrg.FetchOrganizationAccount(string(b.OrgSID), (&piam.FetchOrganizationAccountParams{}).SetPathAccountSid(string(a.AccountSID)))
	twilioErr(t, err, 404, 25101)
	ras, err := bOrg.ListRoleAssignments(string(b.OrgSID), (&piam.ListRoleAssignmentsParams{}).SetIdentity(string(aDev)))
	require.NoError(t, err)
	assert.Empty(t, ras)
	err = bOrg.DeleteRoleAssignment(string(b.OrgSID), string(ra.SID))
	twilioErr(t, err, 404, 20404)
	_, err = bOrg.CreateRoleAssignment(string(b.OrgSID), (&piam.CreateRoleAssignmentParams{}).SetPublicApiCreateRoleAssignmentRequest(
		piam.PublicApiCreateRoleAssignmentRequest{RoleSid: string(orgmodel.RoleSIDDeveloper), Scope: string(a.AccountSID), Identity: string(b.UserSID)}))
	twilioErr(t, err, 400, 25200)

	// An account credential is no Organizations API credential, and a
	// bearer token is no account credential.
	res = e.raw("GET", "/Organizations/"+string(a.OrgSID)+"/Accounts", basic(string(a.AccountSID), a.AuthToken), "")
	requireTwilioBody(t, res, 401, 20003)
	assert.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer")
	res = e.raw("GET", "/2010-04-01/Accounts.json", bearer(bTok), "")
	requireTwilioBody(t, res, 401, 20003)

	// Nothing of A changed.
	grants, err := e.svc.ListGrants(e.ctx, e.op, a.OrgSID, orgmodel.GrantFilter{})
	require.NoError(t, err)
	assert.Len(t, grants, 1)
	u, err := e.svc.GetUser(e.ctx, e.op, a.OrgSID, aDev)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
}

func TestToken_RevocationExpiryAndForgeriesAreRefused(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	c := e.oauthClient(r.OrgSID)
	tok := e.token(c)
	path := "/Organizations/" + string(r.OrgSID) + "/Accounts"
	require.Equal(t, 200, e.raw("GET", path, bearer(tok), "").status)

	// Forgeries: another key, no signature, a changed claim, other claims.
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	require.NoError(t, err)
	claims := parsed.Claims.(jwt.MapClaims)
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sign := func(m jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
		cl := jwt.MapClaims{}
		for k, v := range claims {
			cl[k] = v
		}
		if mutate != nil {
			mutate(cl)
		}
		t2 := jwt.NewWithClaims(m, cl)
		t2.Header["kid"] = parsed.Header["kid"]
		s, err := t2.SignedString(key)
		require.NoError(t, err)
		return s
	}
	parts := strings.Split(tok, ".")
	forged := map[string]string{
		"other key":       sign(jwt.SigningMethodEdDSA, otherKey, nil),
		"alg none":        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil),
		"hmac with a kid": sign(jwt.SigningMethodHS256, []byte("secret"), nil),
		"payload swapped": parts[0] + "." + strings.Split(sign(jwt.SigningMethodEdDSA, otherKey, func(m jwt.MapClaims) { m["exp"] = float64(time.Now().Add(48 * time.Hour).Unix()) }), ".")[1] + "." + parts[2],
		"garbage":         "not.a.jwt",
		"empty":           "",
	}
	for name, f := range forged {
		t.Run(name, func(t *testing.T) {
			requireTwilioBody(t, e.raw("GET", path, bearer(f), ""), 401, 20003)
		})
	}
	// A valid signature over the wrong audience or issuer or without exp.
	ring, err := e.svc.SigningKeys(e.ctx)
	require.NoError(t, err)
	own := ring.Current.PrivateKey()
	for name, mutate := range map[string]func(jwt.MapClaims){
		"audience": func(m jwt.MapClaims) { m["aud"] = "someone-else" },
		"issuer":   func(m jwt.MapClaims) { m["iss"] = "evil" },
		"no exp":   func(m jwt.MapClaims) { delete(m, "exp") },
		"expired":  func(m jwt.MapClaims) { m["exp"] = float64(time.Now().Add(-time.Minute).Unix()) },
		"future":   func(m jwt.MapClaims) { m["iat"] = float64(time.Now().Add(time.Hour).Unix()) },
	} {
		res := e.raw("GET", path, bearer(sign(jwt.SigningMethodEdDSA, own, mutate)), "")
		require.Equal(t, 401, res.status, name)
	}
	// Good signature, other organization claimed: not found, like any
	// organization the token is not for.
	x := e.signup("owner@other.test")
	stolen := sign(jwt.SigningMethodEdDSA, own, func(m jwt.MapClaims) { m["org"] = string(x.OrgSID) })
	res := e.raw("GET", path, bearer(stolen), "")
	requireTwilioBody(t, res, 404, 25100)

	// Revoking the client cuts its live tokens off at once.
	require.NoError(t, e.svc.RevokeOAuthClient(e.ctx, e.op, r.OrgSID, c.ClientID))
	res = e.raw("GET", path, bearer(tok), "")
	requireTwilioBody(t, res, 401, 20003)
	res = e.raw("POST", "/v2/token", form(nil), "grant_type=client_credentials&client_id="+string(c.ClientID)+"&client_secret="+c.ClientSecret)
	require.Equal(t, 401, res.status)
}

func TestToken_KeyRotationLogsNobodyOutAndRetiringALeakedKeyDoes(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	c := e.oauthClient(r.OrgSID)
	path := "/Organizations/" + string(r.OrgSID) + "/Accounts"
	old := e.token(c)

	// Another replica (or the CLI) rotates: this one learns the new key the
	// first time it sees a token signed with it, and the old token lives on.
	_, err := e.svc.RotateSigningKey(e.ctx, e.op, false)
	require.NoError(t, err)
	other := api.NewAuthenticator(e.svc, api.AuthOptions{})
	fresh, err := other.IssueToken(e.ctx, string(c.ClientID), c.ClientSecret, "")
	require.NoError(t, err)
	require.Equal(t, 200, e.raw("GET", path, bearer(fresh.AccessToken), "").status)
	require.Equal(t, 200, e.raw("GET", path, bearer(old), "").status)

	// Retiring every earlier key ends their tokens (here at once, since
	// this process reloads; elsewhere within orgmodel.SigningKeyRefresh).
	_, err = e.svc.RotateSigningKey(e.ctx, e.op, true)
	require.NoError(t, err)
	require.NoError(t, e.auth.ReloadSigningKeys(e.ctx))
	requireTwilioBody(t, e.raw("GET", path, bearer(old), ""), 401, 20003)
	requireTwilioBody(t, e.raw("GET", path, bearer(fresh.AccessToken), ""), 401, 20003)
	require.Equal(t, 200, e.raw("GET", path, bearer(e.token(c)), "").status)
}

// TestOrgActor_IsWhatTheSCIMMountAuthenticatesWith mounts a stand-in for
// the SCIM package's /Organizations/{OR}/scim handler the way cmd/orgd
// will, and checks what api.Authenticator.OrgActor gives it.
func TestOrgActor_IsWhatTheSCIMMountAuthenticatesWith(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	x := e.signup("owner@other.test")
	c := e.oauthClient(r.OrgSID)
	scim := chi.NewRouter()
	scim.Get("/Users", func(w http.ResponseWriter, req *http.Request) {
		org := orgmodel.OrgSID(chi.URLParam(req, "OrganizationSid"))
		a, err := e.auth.OrgActor(req, org)
		switch orgmodel.KindOf(err) {
		case orgmodel.KindUnauthenticated:
			w.WriteHeader(401)
		case orgmodel.KindNotFound:
			w.WriteHeader(404)
		default:
			require.NoError(t, err)
			_, _ = w.Write([]byte(string(a.OrgSID) + " " + a.Label + " " + a.RemoteAddr))
		}
	})
	srv := api.NewHandler(api.Config{Service: e.svc, Auth: e.auth, OrgSCIMUsers: scim})
	e.srv.Config.Handler = srv

	tok := e.token(c)
	res := e.raw("GET", "/Organizations/"+string(r.OrgSID)+"/scim/Users", bearer(tok), "")
	require.Equal(t, 200, res.status, res.text)
	assert.Equal(t, string(r.OrgSID)+" oauth:"+string(c.ClientID)+" 127.0.0.1", res.text)
	assert.Equal(t, 404, e.raw("GET", "/Organizations/"+string(x.OrgSID)+"/scim/Users", bearer(tok), "").status)
	assert.Equal(t, 401, e.raw("GET", "/Organizations/"+string(r.OrgSID)+"/scim/Users", nil, "").status)
	assert.Equal(t, 401, e.raw("GET", "/Organizations/"+string(r.OrgSID)+"/scim/Users", bearer("x.y.z"), "").status)
}
