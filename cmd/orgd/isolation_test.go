package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
	"github.com/orgd/orgd/sso/ssotest"
)

// The isolation matrix: every route of every surface that orgd serve
// serves (enumerated from its real routers, so that a new route without an
// entry below fails the test), tried with the credentials of another
// organization, another account, a subaccount, a Standard user, a
// deactivated user, expired and revoked tokens, and none. Every attempt
// on another organization's (or account's) object is refused, and it is
// refused exactly as an attempt on an object that does not exist is
// (byte for byte, once request ids are taken out). No answer to an
// attacker holds a victim's data, and the victim's objects are unchanged
// at the end. TestIsolation_CLI does the same for every CLI verb with --as.

// routed is what the surfaces' handlers implement: the router they serve.
type routed interface{ Router() chi.Routes }

// allRoutes walks the router orgd serve serves, descending into every
// surface's own router, and returns each route as "METHOD /pattern".
func allRoutes(t *testing.T, svc *orgmodel.Service) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(r chi.Routes)
	walk = func(r chi.Routes) {
		err := chi.Walk(r, func(method, route string, h http.Handler, _ ...func(http.Handler) http.Handler) error {
			if sub, ok := h.(routed); ok {
				walk(sub.Router()) // the surfaces route on the whole path
				return nil
			}
			seen[method+" "+strings.ReplaceAll(route, "/*/", "/")] = true
			return nil
		})
		require.NoError(t, err)
	}
	walk(serverRouter(svc, nopPinger{}, "http://127.0.0.1:1", discardLog(), newMetrics()))
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// guard is the credential a route takes.
type guard int

const (
	public  guard = iota // no credential, by design (note says why)
	scimTok              // a SCIM token
	basicAC              // HTTP Basic: account SID and auth token, or API key
	bearer               // an Organizations API access token
	session              // a console session
	setupCk              // a setup link's cookie
	token                // a token in the request (a mailed link's)
)

// slot kinds: the victim's objects a request can name, in its path or body.
const (
	sOrg     = "OrganizationSid"
	sAcct    = "AccountSid"
	sKey     = "Sid"
	sRA      = "RoleAssignmentSid"
	sUser    = "user"
	sGroup   = "group"
	sInv     = "invitation"
	sDomain  = "domain"
	sSCIMTok = "scimtoken"
	sSetup   = "setuplink"
	sClient  = "client"
)

type cliActor struct {
	name, sid string
	member    bool
}

// entry is what the matrix knows of one route.
type entry struct {
	guard guard
	// path maps the route's {params} to slots (a param not named here is
	// its own slot kind).
	path map[string]string
	// body is the request body; {slot} in it names a victim object.
	ctype, body string
	note        string // for public routes: why it takes no credential
	// found, for searches, is what an answer that finds nothing looks
	// like: a search naming another organization's object finds nothing.
	foundNothing func(answer) bool
}

// slots returns the slot kinds a request of e names.
func (e entry) slots(route string) []string {
	var out []string
	for _, m := range paramRE.FindAllStringSubmatch(route, -1) {
		s := m[1]
		if k, ok := e.path[s]; ok {
			s = k
		}
		out = append(out, s)
	}
	for _, m := range paramRE.FindAllStringSubmatch(e.body, -1) {
		out = append(out, m[1])
	}
	return out
}

var paramRE = regexp.MustCompile(`\{([A-Za-z]+)\}`)

const formCT = "application/x-www-form-urlencoded"

// matrix has an entry for every route orgd serves.
func matrix() map[string]entry {
	m := map[string]entry{}
	add := func(key string, e entry) {
		if _, dup := m[key]; dup {
			panic("two matrix entries for " + key)
		}
		m[key] = e
	}
	pub := func(key, note string) { add(key, entry{guard: public, note: note}) }

	// Operations.
	pub("GET /healthz", "liveness probe")
	pub("GET /readyz", "readiness probe")
	pub("GET /metrics", "Prometheus metrics: counts by route pattern, no object")
	pub("GET /openapi.json", "the API's description")

	// The login side.
	pub("GET /sso/assets/*", "stylesheet")
	add("GET /sso/saml/{org}/metadata", entry{guard: public, path: map[string]string{"org": sOrg},
		note: "SP metadata, which IdPs fetch by design; an organization SID is unguessable"})
	add("GET /sso/saml/{org}/login", entry{guard: public, path: map[string]string{"org": sOrg},
		note: "starts a SAML login at the organization's IdP, which authenticates"})
	add("POST /sso/saml/{org}/acs", entry{guard: token, path: map[string]string{"org": sOrg}, ctype: formCT,
		body: "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=%2Fconsole%2F", note: "the SAMLResponse is the credential"})
	for _, p := range []string{"/login", "/login/password", "/login/2fa", "/forgot", "/reset", "/signup", "/signup/confirm"} {
		pub("GET "+p, "login and sign-up pages")
		pub("POST "+p, "login and sign-up forms: the password, code or mailed token is the credential")
	}
	delete(m, "GET /login/password")
	pub("POST /logout", "ends the caller's own session")

	// The 2010-04-01 Accounts API.
	for _, ext := range []string{".json", ""} {
		pre := "/2010-04-01/Accounts"
		add("POST "+pre+ext, entry{guard: basicAC, ctype: formCT, body: "FriendlyName=isolation"})
		add("GET "+pre+ext, entry{guard: basicAC})
		add("GET "+pre+"/{AccountSid}"+ext, entry{guard: basicAC})
		add("POST "+pre+"/{AccountSid}"+ext, entry{guard: basicAC, ctype: formCT, body: "FriendlyName=pwned&Status=suspended"})
		add("POST "+pre+"/{AccountSid}/Keys"+ext, entry{guard: basicAC, ctype: formCT, body: "FriendlyName=pwned"})
		add("GET "+pre+"/{AccountSid}/Keys"+ext, entry{guard: basicAC})
		add("GET "+pre+"/{AccountSid}/Keys/{Sid}"+ext, entry{guard: basicAC})
		add("POST "+pre+"/{AccountSid}/Keys/{Sid}"+ext, entry{guard: basicAC, ctype: formCT, body: "FriendlyName=pwned"})
		add("DELETE "+pre+"/{AccountSid}/Keys/{Sid}"+ext, entry{guard: basicAC})
	}
	pub("POST /v2/token", "OAuth 2.0 client credentials: the client secret is the credential")

	// The Organizations API.
	org := "/Organizations/{OrganizationSid}"
	add("GET "+org+"/Accounts", entry{guard: bearer})
	add("POST "+org+"/Accounts", entry{guard: bearer, ctype: "application/json", body: `{"friendly_name":"pwned"}`})
	add("GET "+org+"/Accounts/{AccountSid}", entry{guard: bearer})
	add("GET "+org+"/RoleAssignments", entry{guard: bearer})
	add("POST "+org+"/RoleAssignments", entry{guard: bearer, ctype: "application/json",
		body: `{"role_sid":"IX00000000000000000000000000000102","scope":"{OrganizationSid}","identity":"{user}"}`})
	add("DELETE "+org+"/RoleAssignments/{RoleAssignmentSid}", entry{guard: bearer})
	scimUser := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new-{n}@victim.test","active":true}`
	patchOff := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
	ouser := map[string]string{"id": sUser}
	add("GET "+org+"/scim/Users", entry{guard: bearer})
	add("POST "+org+"/scim/Users", entry{guard: bearer, ctype: "application/scim+json", body: scimUser})
	add("GET "+org+"/scim/Users/{id}", entry{guard: bearer, path: ouser})
	add("PUT "+org+"/scim/Users/{id}", entry{guard: bearer, path: ouser, ctype: "application/scim+json", body: scimUser})
	add("PATCH "+org+"/scim/Users/{id}", entry{guard: bearer, path: ouser, ctype: "application/scim+json", body: patchOff})
	add("DELETE "+org+"/scim/Users/{id}", entry{guard: bearer, path: ouser})

	// SCIM 2.0.
	s := "/scim/v2"
	for _, p := range []string{"/", "/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/Users", "/Groups"} {
		add("GET "+s+p, entry{guard: scimTok})
	}
	add("GET "+s+"/ResourceTypes/{name}", entry{guard: scimTok, path: map[string]string{"name": "const:User"}})
	add("GET "+s+"/Schemas/{id}", entry{guard: scimTok, path: map[string]string{"id": "const:urn:ietf:params:scim:schemas:core:2.0:User"}})
	search := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"id eq \"{user}\""}`
	for _, p := range []string{"/.search", "/Users/.search"} {
		add("POST "+s+p, entry{guard: scimTok, ctype: "application/scim+json", body: search, foundNothing: emptyList})
	}
	add("POST "+s+"/Groups/.search", entry{guard: scimTok, ctype: "application/scim+json", foundNothing: emptyList,
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"id eq \"{group}\""}`})
	for _, p := range []string{"/.search", "/Users/.search", "/Groups/.search"} {
		for _, meth := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			add(meth+" "+s+p, entry{guard: scimTok})
		}
	}
	add("POST "+s+"/Bulk", entry{guard: scimTok, ctype: "application/scim+json", foundNothing: bulkRefused,
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"PATCH","path":"/Users/{user}","data":` + patchOff + `}]}`})
	for _, meth := range []string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"} {
		add(meth+" "+s+"/Me", entry{guard: scimTok})
		add(meth+" "+s+"/Me/*", entry{guard: scimTok})
	}
	add("POST "+s+"/Users", entry{guard: scimTok, ctype: "application/scim+json", body: scimUser})
	suser := map[string]string{"id": sUser}
	add("GET "+s+"/Users/{id}", entry{guard: scimTok, path: suser})
	add("PUT "+s+"/Users/{id}", entry{guard: scimTok, path: suser, ctype: "application/scim+json", body: scimUser})
	add("PATCH "+s+"/Users/{id}", entry{guard: scimTok, path: suser, ctype: "application/scim+json", body: patchOff})
	add("DELETE "+s+"/Users/{id}", entry{guard: scimTok, path: suser})
	add("POST "+s+"/Groups", entry{guard: scimTok, ctype: "application/scim+json",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Isolation {n}","members":[{"value":"{user}"}]}`})
	sgroup := map[string]string{"id": sGroup}
	groupBody := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"pwned","members":[]}`
	add("GET "+s+"/Groups/{id}", entry{guard: scimTok, path: sgroup})
	add("PUT "+s+"/Groups/{id}", entry{guard: scimTok, path: sgroup, ctype: "application/scim+json", body: groupBody})
	add("PATCH "+s+"/Groups/{id}", entry{guard: scimTok, path: sgroup, ctype: "application/scim+json",
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"pwned"}]}`})
	add("DELETE "+s+"/Groups/{id}", entry{guard: scimTok, path: sgroup})

	// The console.
	c := func(key string, g guard, body string, path map[string]string) {
		e := entry{guard: g, path: path}
		if strings.HasPrefix(key, "POST ") {
			e.ctype, e.body = formCT, "confirm=yes&"+body
		}
		add(key, e)
	}
	pub("GET /console", "redirects to /console/")
	pub("GET /console/assets/*", "stylesheet and script")
	add("GET /console/confirm-import", entry{guard: token, note: "the mailed token is the credential"})
	add("POST /console/confirm-import", entry{guard: token, ctype: formCT, body: "token=imp_0123456789abcdef&answer=confirm", note: "the mailed token is the credential"})
	add("GET /console/setup", entry{guard: token, note: "the setup link's token is the credential"})
	acct := map[string]string{"sid": sAcct}
	usr := map[string]string{"sid": sUser}
	for _, k := range []string{"GET /console/", "GET /console/accounts"} {
		c(k, session, "", nil)
	}
	c("POST /console/accounts", session, "name=isolation&usage=twilio", nil)
	c("POST /console/accounts/import", session, "sid={AccountSid}", nil)
	c("GET /console/accounts/{sid}", session, "", acct)
	c("POST /console/accounts/{sid}/rename", session, "name=pwned", acct)
	c("POST /console/accounts/{sid}/transfer", session, "to={user}", acct)
	c("POST /console/accounts/{sid}/status", session, "status=suspended", acct)
	c("POST /console/accounts/{sid}/hipaa", session, "enabled=true", acct)
	c("POST /console/accounts/{sid}/subaccounts", session, "name=pwned", acct)
	c("POST /console/accounts/{sid}/grants", session, "user={user}&role=administrator", acct)
	c("POST /console/accounts/{sid}/grants/{user}/revoke", session, "", acct)
	c("GET /console/users", session, "", nil)
	c("POST /console/users/invite", session, "email=new@victim.test&role=administrator&account={AccountSid}&account_role=administrator", nil)
	c("POST /console/users/invitations/{sid}/revoke", session, "", map[string]string{"sid": sInv})
	c("POST /console/users/import", session, "csv=email,role,account%0Anew2@victim.test,administrator,{AccountSid}", nil)
	c("GET /console/users/{sid}", session, "", usr)
	c("POST /console/users/{sid}/role", session, "role=administrator", usr)
	c("POST /console/users/{sid}/owner", session, "", usr)
	c("POST /console/users/{sid}/remove", session, "", usr)
	c("POST /console/users/{sid}/reset-password", session, "", usr)
	c("POST /console/users/{sid}/reset-2fa", session, "", usr)
	c("POST /console/users/{sid}/active", session, "active=false", usr)
	c("GET /console/domains", session, "", nil)
	c("POST /console/domains", session, "domain=added-{n}.test", nil) // several organizations may add one domain
	for _, v := range []string{"verify", "signup", "sso", "remove"} {
		c("POST /console/domains/{domain}/"+v, session, "signup=auto-enrollment&enforced=true", nil)
	}
	for _, pre := range []string{"/console/sso", "/console/setup/sso"} {
		g := session
		if pre == "/console/setup/sso" {
			g = setupCk
		}
		c("GET "+pre, g, "", nil)
		c("POST "+pre+"/idp", g, "metadata_url=https%3A%2F%2Fidp.invalid%2Fmd", nil)
		c("POST "+pre+"/idp-initiated", g, "allow=true", nil)
		c("POST "+pre+"/scim-tokens", g, "name=pwned", nil)
		c("POST "+pre+"/scim-tokens/{id}/revoke", g, "", map[string]string{"id": sSCIMTok})
	}
	c("POST /console/setup/leave", setupCk, "", nil)
	c("GET /console/sso/groups/{sid}", session, "", map[string]string{"sid": sGroup})
	c("POST /console/sso/groups/{sid}/map", session, "role=administrator", map[string]string{"sid": sGroup})
	c("GET /console/org", session, "", nil)
	c("POST /console/org/rename", session, "name=pwned", nil)
	c("POST /console/org/baa", session, "", nil)
	c("POST /console/org/mfa", session, "required=true", nil)
	c("POST /console/org/owner", session, "to={user}", nil)
	c("GET /console/org/merge", session, "", nil)
	c("POST /console/org/merge", session, "candidate={OrganizationSid}", nil)
	c("GET /console/audit", session, "", nil)
	c("GET /console/audit.csv", session, "", nil)
	c("GET /console/setup-links", session, "", nil)
	c("POST /console/setup-links", session, "name=pwned&ttl=1h", nil)
	c("POST /console/setup-links/{id}/revoke", session, "", map[string]string{"id": sSetup})
	return m
}

// emptyList is a SCIM list answer that found nothing.
func emptyList(a answer) bool {
	return a.status == 200 && strings.Contains(a.body, `"totalResults":0`) && strings.Contains(a.body, `"Resources":[]`)
}

// bulkRefused is a SCIM /Bulk answer whose every operation was refused.
func bulkRefused(a answer) bool {
	var r struct {
		Operations []struct {
			Status string `json:"status"`
		}
	}
	if a.status != 200 || json.Unmarshal([]byte(a.body), &r) != nil || len(r.Operations) == 0 {
		return false
	}
	for _, op := range r.Operations {
		if !strings.HasPrefix(op.Status, "4") {
			return false
		}
	}
	return true
}

// creds are what one identity presents.
type creds struct {
	session, setup   string // cookies
	scim, jwt        string // bearer tokens
	basicU, basicP   string
	mayAct           map[guard]bool // credentials that are valid (in the identity's own scope)
	mayReadOwnOrgOpt bool           // a member of the victim organization (its pages may show the org)
	knows            []string       // victim markers the identity may see (a subaccount its parent's SID)
}

type identity struct {
	name string
	c    creds
}

// victim is organization A's objects, and what names a missing one.
type victim struct {
	// cliAs are the users the CLI matrix acts as (--as); member marks
	// those of the victim organization.
	cliAs []cliActor
	// attackerOrg is organization B, named where a verb takes two.
	attackerOrg string
	self        identity // the victim's own credentials: what it reads, it is allowed
	objs        map[string]string
	markers     []string // strings no answer to an attacker may hold
}

func (v *victim) value(slot string, exists bool) string {
	if c, ok := strings.CutPrefix(slot, "const:"); ok {
		return c
	}
	if exists {
		if o, ok := v.objs[slot]; ok {
			return o
		}
		panic("no victim object for slot " + slot)
	}
	if prefix, ok := missingPrefix[slot]; ok {
		return orgmodel.NewSID(prefix)
	}
	switch slot {
	case sDomain:
		return "nobody-" + randHex(4) + ".test"
	case sSCIMTok, sSetup:
		return randHex(8)
	}
	panic("no missing object for slot " + slot)
}

// missingPrefix is the SID prefix of each slot whose objects have SIDs.
var missingPrefix = map[string]string{
	sOrg: orgmodel.PrefixOrg, sAcct: orgmodel.PrefixAccount, sKey: orgmodel.PrefixAPIKey,
	sRA: orgmodel.PrefixRoleAssignment, sUser: orgmodel.PrefixUser, sGroup: orgmodel.PrefixGroup,
	sInv: orgmodel.PrefixInvitation, sClient: orgmodel.PrefixOAuthClient,
}

// isoEnv is orgd serve's router on a loopback server over a service whose
// clock the test moves.
type isoEnv struct {
	t     *testing.T
	svc   *orgmodel.Service
	clock *clock
	url   string
	op    orgmodel.Actor
	dns   *dnsServer
}

func (e *isoEnv) ok(err error) {
	e.t.Helper()
	require.NoError(e.t, err)
}

func (e *isoEnv) signup(email, name string) *orgmodel.SignUpResult {
	r, err := e.svc.SignUp(e.t.Context(), e.op, orgmodel.SignUpInput{Email: email, Password: testPassword, Name: name, EmailVerified: true})
	e.ok(err)
	return r
}

func (e *isoEnv) verify(org orgmodel.OrgSID, domain string) {
	d, err := e.svc.AddDomain(e.t.Context(), e.op, org, domain)
	e.ok(err)
	e.dns.add(d.TXTName, d.TXTValue)
	_, err = e.svc.VerifyDomain(e.t.Context(), e.op, org, domain)
	e.ok(err)
}

func (e *isoEnv) member(org orgmodel.OrgSID, email string, role orgmodel.Role) orgmodel.UserSID {
	inv, err := e.svc.InviteUser(e.t.Context(), e.op, orgmodel.InviteInput{OrgSID: org, Email: email, Role: string(role)})
	e.ok(err)
	r, err := e.svc.AcceptInvitation(e.t.Context(), orgmodel.Actor{Via: "test"}, inv.Token, testPassword)
	e.ok(err)
	return r.UserSID
}

func (e *isoEnv) session(u orgmodel.UserSID) string {
	tok, _, err := e.svc.StartSession(e.t.Context(), orgmodel.Actor{UserSID: u, Via: "test"}, u, "password")
	e.ok(err)
	return tok
}

func (e *isoEnv) jwt(c *orgmodel.OAuthClientResult) string {
	return clientToken(e.t, e.url, string(c.ClientID), c.ClientSecret)
}

// world builds the victim organization A, the attacking organization B
// and every identity of the matrix.
func newIsolationWorld(t *testing.T, dsn string) (*isoEnv, *victim, []identity) {
	ck := &clock{}
	dns := startDNS(t)
	svc := testService(t, dsn, dns.addr, ck.Now)
	srv := httptest.NewServer(serverRouter(svc, nopPinger{}, "http://127.0.0.1:1", discardLog(), newMetrics()))
	t.Cleanup(srv.Close)
	e := &isoEnv{t: t, svc: svc, clock: ck, url: srv.URL, op: orgmodel.OperatorActor("cli"), dns: dns}
	ctx := t.Context()

	// Organization A, the victim.
	a := e.signup("owner@victim.test", "Victim Org Secret")
	e.verify(a.OrgSID, "victim.test")
	_, err := e.svc.EnableBulkImport(ctx, e.op, a.OrgSID, true)
	e.ok(err)
	_, err = e.svc.RenameAccount(ctx, e.op, a.AccountSID, "Victim Account Secret")
	e.ok(err)
	idp := ssotest.NewIdP(t, "https://idp.victim.test/metadata", "idp.victim.test", time.Now())
	md, err := sso.ParseMetadata(idp.Metadata())
	e.ok(err)
	_, err = e.svc.SetIdP(ctx, e.op, a.OrgSID, orgmodel.IdPConfig{EntityID: md.EntityID, SSOURL: md.SSOURL,
		MetadataXML: string(idp.Metadata()), AllowIdPInitiated: true})
	e.ok(err)
	sub, err := e.svc.CreateSubaccount(ctx, e.op, a.AccountSID, "Victim Subaccount")
	e.ok(err)
	key, err := e.svc.CreateAPIKey(ctx, e.op, a.AccountSID, "victim key")
	e.ok(err)
	oldKey, err := e.svc.CreateAPIKey(ctx, e.op, a.AccountSID, "deleted key")
	e.ok(err)
	e.ok(e.svc.DeleteAPIKey(ctx, e.op, a.AccountSID, oldKey.SID))
	a2, err := e.svc.CreateAccount(ctx, e.op, a.OrgSID, "Other Account", "twilio")
	e.ok(err)
	target := e.member(a.OrgSID, "target-secret@victim.test", orgmodel.RoleStandard)
	std := e.member(a.OrgSID, "standard@victim.test", orgmodel.RoleStandard)
	admin := e.member(a.OrgSID, "admin@victim.test", orgmodel.RoleAdministrator)
	grant, err := e.svc.GrantAccess(ctx, e.op, a.AccountSID, target, "developer")
	e.ok(err)
	grp, err := e.svc.CreateGroup(ctx, e.op, a.OrgSID, orgmodel.GroupInput{DisplayName: "Victim Group Secret", Members: []orgmodel.UserSID{target}})
	e.ok(err)
	inv, err := e.svc.InviteUser(ctx, e.op, orgmodel.InviteInput{OrgSID: a.OrgSID, Email: "invited-secret@victim.test"})
	e.ok(err)
	scimTokA, err := e.svc.CreateSCIMToken(ctx, e.op, a.OrgSID, "victim scim")
	e.ok(err)
	revokedSCIM, err := e.svc.CreateSCIMToken(ctx, e.op, a.OrgSID, "revoked")
	e.ok(err)
	_, err = e.svc.RevokeSCIMToken(ctx, e.op, a.OrgSID, revokedSCIM.ID)
	e.ok(err)
	link, err := e.svc.CreateSetupLink(ctx, e.op, a.OrgSID, "victim link", 7*24*time.Hour)
	e.ok(err)
	revokedLink, err := e.svc.CreateSetupLink(ctx, e.op, a.OrgSID, "revoked link", 7*24*time.Hour)
	e.ok(err)
	_, err = e.svc.RevokeSetupLink(ctx, e.op, a.OrgSID, revokedLink.ID)
	e.ok(err)
	revokedClient, err := e.svc.CreateOAuthClient(ctx, e.op, a.OrgSID, "revoked")
	e.ok(err)
	revokedJWT := e.jwt(revokedClient)
	e.ok(e.svc.RevokeOAuthClient(ctx, e.op, a.OrgSID, revokedClient.ClientID))
	loggedOut := e.session(a.UserSID)
	e.ok(e.svc.EndSession(ctx, orgmodel.Actor{UserSID: a.UserSID, Via: "test"}, loggedOut))
	oldToken := a.AuthToken
	rotated, err := e.svc.RotateAuthToken(ctx, e.op, a.AccountSID)
	e.ok(err)
	deactivated := e.session(admin)
	_, err = e.svc.SetUserActive(ctx, e.op, a.OrgSID, admin, false)
	e.ok(err)

	// Credentials that expire: a session (12 h idle), an access token
	// (1 h) and a setup link (1 h), then the clock moves on 13 hours.
	expiredSession := e.session(a.UserSID)
	expiredJWT := e.jwt(e.mustClient(a.OrgSID))
	expiringLink, err := e.svc.CreateSetupLink(ctx, e.op, a.OrgSID, "expiring link", time.Hour)
	e.ok(err)
	ck.add(13 * time.Hour)

	// Organization B, the attacker, with every kind of credential.
	b := e.signup("owner@attacker.test", "Attacker Org")
	bSCIM, err := e.svc.CreateSCIMToken(ctx, e.op, b.OrgSID, "attacker scim")
	e.ok(err)
	bLink, err := e.svc.CreateSetupLink(ctx, e.op, b.OrgSID, "attacker link", 24*time.Hour)
	e.ok(err)

	victimClient := e.mustClient(a.OrgSID)
	v := &victim{self: identity{"the victim itself", creds{session: e.session(a.UserSID), setup: link.Token, scim: scimTokA.Token,
		jwt: e.jwt(victimClient), basicU: string(a.AccountSID), basicP: rotated.AuthToken}},
		attackerOrg: string(b.OrgSID),
		cliAs: []cliActor{{"another organization's Owner", string(b.UserSID), false}, {"a Standard user", string(std), true},
			{"a deactivated Administrator", string(admin), true}, {"a user that does not exist", orgmodel.NewSID(orgmodel.PrefixUser), false}},
		objs: map[string]string{sClient: string(victimClient.ClientID),
			sOrg: string(a.OrgSID), sAcct: string(a.AccountSID), sKey: string(key.SID), sRA: string(grant.SID),
			sUser: string(target), sGroup: string(grp.SID), sInv: string(inv.SID), sDomain: "victim.test",
			sSCIMTok: scimTokA.ID, sSetup: link.ID,
		}}
	v.markers = []string{string(a.AccountSID), "Victim Account Secret", string(key.SID), string(grant.SID), string(target),
		"target-secret@victim.test", string(grp.SID), "Victim Group Secret", string(inv.SID), "invited-secret@victim.test",
		scimTokA.ID, link.ID, string(a.OrgSID), "Victim Org Secret"}

	all := map[guard]bool{session: true, setupCk: true, scimTok: true, bearer: true, basicAC: true}
	ids := []identity{
		{"another organization", creds{session: e.session(b.UserSID), setup: bLink.Token, scim: bSCIM.Token,
			jwt: e.jwt(e.mustClient(b.OrgSID)), basicU: string(b.AccountSID), basicP: b.AuthToken, mayAct: all}},
		{"another account", creds{basicU: string(a2.SID), basicP: a2.AuthToken, mayAct: map[guard]bool{basicAC: true}}},
		{"a subaccount", creds{basicU: string(sub.SID), basicP: sub.AuthToken, mayAct: map[guard]bool{basicAC: true},
			knows: []string{string(a.AccountSID)}}}, // owner_account_sid, as Twilio shows it
		{"a Standard user", creds{session: e.session(std), mayAct: map[guard]bool{session: true}, mayReadOwnOrgOpt: true}},
		{"a deactivated user", creds{session: deactivated}},
		{"expired credentials", creds{session: expiredSession, jwt: expiredJWT, setup: expiringLink.Token}},
		{"revoked credentials", creds{session: loggedOut, setup: revokedLink.Token, scim: revokedSCIM.Token, jwt: revokedJWT,
			basicU: string(a.AccountSID), basicP: oldToken}},
		{"a deleted API key", creds{basicU: string(oldKey.SID), basicP: oldKey.Secret}},
		{"no credentials", creds{}},
	}
	return e, v, ids
}

func (e *isoEnv) mustClient(org orgmodel.OrgSID) *orgmodel.OAuthClientResult {
	c, err := e.svc.CreateOAuthClient(e.t.Context(), e.op, org, "")
	e.ok(err)
	return c
}

// state is what an attacker must not change: the victim's objects as the
// operator reads them.
func (e *isoEnv) state(v *victim) string {
	ctx, org := e.t.Context(), orgmodel.OrgSID(v.objs[sOrg])
	var parts []any
	add := func(x any, err error) {
		e.t.Helper()
		require.NoError(e.t, err)
		parts = append(parts, x)
	}
	info, err := e.svc.ShowOrg(ctx, e.op, org)
	if info != nil {
		info.Accounts = 0 // a Standard user may create accounts
	}
	add(info, err)
	accts, err := e.svc.ListAccounts(ctx, e.op, org)
	var mine []*orgmodel.AccountView
	for _, a := range accts {
		if strings.Contains(strings.Join(v.markers, " "), string(a.SID)) || a.FriendlyName == "Victim Subaccount" || a.FriendlyName == "Other Account" {
			mine = append(mine, a)
		}
	}
	add(mine, err)
	add(e.svc.ListAPIKeys(ctx, e.op, orgmodel.AccountSID(v.objs[sAcct])))
	add(e.svc.ListUsers(ctx, e.op, org, orgmodel.UserFilter{}))
	add(e.svc.ListGrants(ctx, e.op, org, orgmodel.GrantFilter{}))
	add(e.svc.ListInvitations(ctx, e.op, org))
	add(e.svc.ListDomains(ctx, e.op, org))
	add(e.svc.GetGroup(ctx, e.op, org, orgmodel.GroupSID(v.objs[sGroup]), true))
	idp, err := e.svc.GetIdP(ctx, e.op, org)
	if orgmodel.KindOf(err) == orgmodel.KindNotFound {
		err = nil
	}
	add(idp, err)
	add(e.svc.GetLoginSettings(ctx, e.op, org))
	toks, err := e.svc.ListSCIMTokens(ctx, e.op, org)
	for _, t := range toks {
		t.LastUsedAt = nil // the victim's own use is not the attacker's
	}
	add(toks, err)
	links, err := e.svc.ListSetupLinks(ctx, e.op, org)
	for _, l := range links {
		l.LastUsedAt = nil
	}
	add(links, err)
	b, err := json.Marshal(parts)
	require.NoError(e.t, err)
	return string(b)
}

type answer struct {
	status   int
	location string
	body     string
}

// send makes one request as id.
func (e *isoEnv) send(id identity, g guard, method, path, ctype, body string) answer {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, strings.NewReader(body))
	require.NoError(e.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c := id.c
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: orgmodel.SessionCookie, Value: c.session})
	}
	if c.setup != "" {
		req.AddCookie(&http.Cookie{Name: "orgd_setup", Value: c.setup})
	}
	// The credential the route takes when the identity has it, otherwise
	// any other it has.
	bearerOf := map[guard]string{scimTok: c.scim, bearer: c.jwt}
	switch {
	case bearerOf[g] != "":
		req.Header.Set("Authorization", "Bearer "+bearerOf[g])
	case c.basicU != "" && (g == basicAC || c.scim == "" && c.jwt == ""):
		req.SetBasicAuth(c.basicU, c.basicP)
	case c.scim != "":
		req.Header.Set("Authorization", "Bearer "+c.scim)
	case c.jwt != "":
		req.Header.Set("Authorization", "Bearer "+c.jwt)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return answer{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b)}
}

var (
	sidRE = regexp.MustCompile(`\b(OR|US|AC|DN|NF|IY|GR|OQ|SK)[0-9a-f]{32}\b`)
	hexRE = regexp.MustCompile(`\b[0-9a-f]{16}\b`)
)

// normalize takes out what differs between two requests for reasons
// other than the object: the SIDs and names the request itself carried,
// request ids and error references.
func normalize(s string, sent ...string) string {
	for _, x := range sent {
		if x != "" {
			s = strings.ReplaceAll(s, x, "<sent>")
			s = strings.ReplaceAll(s, url.QueryEscape(x), "<sent>")
			s = strings.ReplaceAll(s, url.PathEscape(x), "<sent>")
		}
	}
	s = sidRE.ReplaceAllString(s, "<sid>")
	return hexRE.ReplaceAllString(s, "<ref>")
}

// refused reports whether a is a refusal: 401, 403, 404, 405, 409 or
// 400 (a foreign object named in a body), or a redirect to log in.
func refused(a answer) bool {
	switch a.status {
	case 400, 401, 403, 404, 405, 409, 422, 501:
		return true
	case 302, 303:
		return strings.HasPrefix(a.location, "/login") || strings.HasPrefix(a.location, "/console/setup")
	}
	return false
}

func TestIsolation_Matrix(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e, v, ids := newIsolationWorld(t, dsn)
		routes := allRoutes(t, e.svc)
		m := matrix()
		for _, r := range routes {
			if _, ok := m[r]; !ok {
				t.Errorf("route %s has no entry in the isolation matrix (isolation_test.go): add one", r)
			}
		}
		for k := range m {
			if !contains(routes, k) {
				t.Errorf("the isolation matrix has an entry for %s, which orgd no longer serves", k)
			}
		}
		if t.Failed() {
			return
		}
		before := e.state(v)
		var tried, compared, publicTried, controls int
		n := 0
		for _, r := range routes {
			en := m[r]
			method, pattern, _ := strings.Cut(r, " ")
			for _, id := range ids {
				n++
				build := func(exists bool) (string, string, []string) { return v.fill(en, pattern, exists, n) }
				path, body, sent := build(true)
				got := e.send(id, en.guard, method, path, en.ctype, body)
				tried++
				what := fmt.Sprintf("%s as %s", r, id.name)
				if got.status >= 500 && !(got.status == 501 && strings.Contains(pattern, "/Me")) { // /Me is 501 by design
					t.Fatalf("%s: %d %s", what, got.status, got.body)
				}
				for _, mk := range v.markers {
					if !contains(sent, mk) && !contains(id.c.knows, mk) && strings.Contains(got.body+got.location, mk) {
						// A member of the victim organization may see its name on its own pages.
						if !(id.c.mayReadOwnOrgOpt && (mk == "Victim Org Secret" || mk == v.objs[sOrg])) {
							t.Errorf("%s: the answer holds the victim's %q: %.400s", what, mk, got.body)
						}
					}
				}
				if en.guard == public {
					publicTried++
					continue
				}
				slots := en.slots(pattern)
				named := false
				for _, s := range slots {
					named = named || !strings.HasPrefix(s, "const:") && s != "n"
				}
				mustRefuse := named || !id.c.mayAct[en.guard]
				if en.guard == token {
					mustRefuse = true
				}
				if mustRefuse && !refused(got) && (en.foundNothing == nil || !en.foundNothing(got)) {
					t.Errorf("%s: not refused: %d %s %.300s", what, got.status, got.location, got.body)
				}
				if !named {
					continue
				}
				if method == "GET" && id.name == ids[0].name {
					// The control: the victim reads the same object, so
					// that the refusals above are for the identity, not
					// for a wrong path.
					own := e.send(v.self, en.guard, method, path, en.ctype, body)
					controls++
					if own.status != 200 {
						t.Errorf("%s as the victim itself: %d %s", r, own.status, own.body)
					}
				}
				path2, body2, sent2 := build(false)
				missing := e.send(id, en.guard, method, path2, en.ctype, body2)
				compared++
				both := append(sent, sent2...)
				a := fmt.Sprintf("%d %s\n%s", got.status, normalize(got.location, both...), normalize(got.body, both...))
				b := fmt.Sprintf("%d %s\n%s", missing.status, normalize(missing.location, both...), normalize(missing.body, both...))
				if a != b {
					t.Errorf("%s: the victim's object and a missing one are answered differently:\nexists:  %.600s\nmissing: %.600s", what, a, b)
				}
			}
		}
		require.Equal(t, before, e.state(v), "an attacker changed the victim's objects")
		t.Logf("isolation matrix: %d routes × %d identities = %d requests (%d on public routes), %d compared with a missing object, %d controls as the victim",
			len(routes), len(ids), tried, publicTried, compared, controls)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fill returns the path and body of a request on route pattern en names,
// with the victim's objects (exists) or missing ones, and what it named.
func (v *victim) fill(en entry, pattern string, exists bool, n int) (path, body string, sent []string) {
	sub := func(s string, inPath bool) string {
		return paramRE.ReplaceAllStringFunc(s, func(p string) string {
			name := p[1 : len(p)-1]
			if name == "n" {
				return fmt.Sprint(n)
			}
			slot := name
			if k, ok := en.path[name]; ok && inPath {
				slot = k
			}
			val := v.value(slot, exists)
			sent = append(sent, val)
			return val
		})
	}
	path = strings.ReplaceAll(sub(pattern, true), "*", "x")
	return path, sub(en.body, false), sent
}

// TestIsolation_MatrixControls sends every request of the matrix that
// changes a victim's object as the victim itself, each in a fresh world:
// the object is found and the credential accepted (no 401, 404, 5xx or
// login redirect), so that the refusals the matrix sees come from the
// identity, not from a wrong path or body. A rule may still refuse the
// change itself (the Owner cannot be removed, an enforced domain needs a
// tested IdP). SQLite only: the matrix itself runs on both databases.
func TestIsolation_MatrixControls(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: one fresh organization per route")
	}
	base := t.TempDir()
	e, _, _ := newIsolationWorld(t, "sqlite:"+filepath.Join(base, "routes.db"))
	m := matrix()
	controls := 0
	for i, r := range allRoutes(t, e.svc) {
		en := m[r]
		method, pattern, _ := strings.Cut(r, " ")
		if method == "GET" || en.guard == public || en.guard == token {
			continue // reads are controlled in the matrix; tokens are their own credential
		}
		named := false
		for _, s := range en.slots(pattern) {
			named = named || !strings.HasPrefix(s, "const:") && s != "n"
		}
		if !named {
			continue
		}
		e, v, _ := newIsolationWorld(t, "sqlite:"+filepath.Join(base, fmt.Sprintf("c%d.db", i)))
		path, body, _ := v.fill(en, pattern, true, i)
		got := e.send(v.self, en.guard, method, path, en.ctype, body)
		controls++
		if got.status == 401 || got.status == 404 || got.status >= 500 || strings.HasPrefix(got.location, "/login") {
			t.Errorf("%s as the victim itself: %d %s %.300s", r, got.status, got.location, got.body)
		}
	}
	t.Logf("isolation matrix: %d changing requests controlled as the victim", controls)
}
