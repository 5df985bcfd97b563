package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml/testsaml"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/sso/ssotest"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

var updateScreenshots = flag.Bool("update-screenshots", false,
	"write the console's screenshots to console/testdata/screenshots (for the README) instead of the test's artifact directory")

// browser is one headless Chromium for the whole test binary: starting it
// costs more than any step of a scenario. Each identity of a scenario gets
// a browser context of its own (separate cookies) in it.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	dir    string
	err    error
}

// startBrowser starts the shared browser, or skips t when Chromium is absent.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed: the console's browser tests need Debian's chromium package (apt-get install -y chromium; .ci/run installs it)", chromiumPath)
	}
	browser.once.Do(func() {
		browser.dir, browser.err = os.MkdirTemp("", "orgd-chromium-")
		if browser.err != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.Headless,
			chromedp.NoSandbox, // CI runs as root
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.UserDataDir(browser.dir),
			// Chromium tries hosts this machine cannot reach without these.
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.WindowSize(1280, 900),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		browser.ctx = bctx
		browser.cancel = func() { cancelBrowser(); cancelAlloc(); _ = os.RemoveAll(browser.dir) }
		// The first run on a chromedp context starts what it stands for
		// (here the browser) and ties its life to that context: no timeout.
		browser.err = chromedp.Do(bctx)
	})
	require.NoError(t, browser.err, "starting %s", chromiumPath)
	return browser.ctx
}

// stopBrowser ends the shared browser; TestMain calls it.
func stopBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// tab is one identity's tab, in a browser context of its own.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	who  string
}

func newTab(t *testing.T, base, who string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(startBrowser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "opening a tab for %s", who) // opens it, tied to ctx
	b := &tab{t: t, ctx: ctx, base: base, who: who}
	t.Cleanup(func() {
		if t.Failed() {
			b.save(filepath.Join(t.ArtifactDir(), "failed-"+who+".png"))
		}
	})
	return b
}

// step bounds one browser action, so that a page that never comes fails
// the test instead of hanging it.
func (b *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 30*time.Second)
}

func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...), "%s: %s", b.who, what)
}

// open navigates to a path (or a full URL) and returns the HTTP status.
func (b *tab) open(path string) int64 {
	b.t.Helper()
	if strings.HasPrefix(path, "/") {
		path = b.base + path
	}
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(path))
	require.NoError(b.t, err, "%s: open %s", b.who, path)
	return resp.Status
}

// click clicks sel, which navigates, and returns the status of the page it
// lands on.
func (b *tab) click(sel string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(b.t, err, "%s: click %s", b.who, sel)
	require.NotNil(b.t, resp, "%s: click %s did not navigate", b.who, sel)
	return resp.Status
}

// fill types value into the field sel.
func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel, chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeVisible))
}

// check ticks a checkbox or picks a radio button.
func (b *tab) check(sel string) {
	b.t.Helper()
	b.do("check "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (b *tab) upload(sel, file string) {
	b.t.Helper()
	b.do("upload "+file, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{file}))
}

// text is the visible text of sel (the page's main content by default).
func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(b.t, err, "%s: text of %s", b.who, sel)
	return strings.Join(strings.Fields(s), " ")
}

func (b *tab) main() string { return b.text("main") }

func (b *tab) path() string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(b.t, err)
	u, err := url.Parse(loc)
	require.NoError(b.t, err)
	return u.Path
}

// has reports whether sel matches an element now.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	require.NoError(b.t, err)
	return n > 0
}

func (b *tab) save(file string) {
	ctx, cancel := b.step()
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(file, png, 0o644)
	}
}

// shots saves the console's screenshots: into the test's artifact
// directory, or with -update-screenshots where the README shows them.
type shots struct {
	t   *testing.T
	dir string
}

func newShots(t *testing.T) *shots {
	dir := t.ArtifactDir()
	if *updateScreenshots {
		dir = filepath.Join("..", "..", "console", "testdata", "screenshots")
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	return &shots{t: t, dir: dir}
}

func (s *shots) take(b *tab, name string) {
	s.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(s.t, err)
	require.NoError(s.t, os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644))
}

// testIdP is a SAML identity provider on loopback for the browser: its
// SSO endpoint takes an AuthnRequest (HTTP-Redirect), signs a real
// response for the person "logged in" there, and shows a page whose
// button posts it to the ACS (HTTP-POST binding, no script).
type testIdP struct {
	*ssotest.IdP
	mu    sync.Mutex
	email string
	acs   string
	aud   string
	srv   *httptest.Server
}

var idpPage = template.Must(template.New("idp").Parse(`<!doctype html><html lang="en"><head><title>Test IdP</title></head>
<body><h1>Test identity provider</h1><p id="who">Signing in {{.Email}}</p>
<form method="post" action="{{.ACS}}"><input type="hidden" name="SAMLResponse" value="{{.Response}}">
<input type="hidden" name="RelayState" value="{{.Relay}}"><button id="idp-continue" type="submit">Continue to orgd</button></form></body></html>`))

func startIdP(t *testing.T) *testIdP {
	p := &testIdP{IdP: ssotest.NewIdP(t, "https://idp.acme.test/metadata", "idp.acme.test", time.Now())}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := testsaml.ParseRedirectRequest(r.URL)
		if err != nil {
			http.Error(w, "not an AuthnRequest: "+err.Error(), http.StatusBadRequest)
			return
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		email, acs, aud := p.email, p.acs, p.aud
		p.mu.Unlock()
		resp := ssotest.Encode(t, p.Build(t, ssotest.Response{InResponseTo: doc.Root().SelectAttrValue("ID", ""), NameID: email},
			acs, aud, time.Now()))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = idpPage.Execute(w, map[string]string{"Email": email, "ACS": acs, "Response": resp, "Relay": r.URL.Query().Get("RelayState")})
	}))
	t.Cleanup(p.srv.Close)
	p.SSOURL = p.srv.URL + "/sso"
	return p
}

// as makes the IdP log in email from now on.
func (p *testIdP) as(email string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.email = email
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// mailLink returns the link of the newest outbox mail to addr whose path starts with path.
func mailLink(t *testing.T, c *orgdCLI, addr, path string) string {
	t.Helper()
	msgs := c.ok("mail", "list", "--to", addr, "--limit", "1").list("messages")
	require.NotEmpty(t, msgs, "no mail to %s", addr)
	for _, l := range linkRE.FindAllString(msgs[0].str("body"), -1) {
		if u, err := url.Parse(l); err == nil && strings.HasPrefix(u.Path, path) {
			return l
		}
	}
	t.Fatalf("the mail to %s has no %s link: %q", addr, path, msgs[0].str("body"))
	return ""
}

// TestConsole_Browser walks the console as an administrator does, in a
// real browser against a real `orgd serve` (SQLite, a DNS server on
// loopback, the outbox, a SAML IdP that signs real responses): sign up,
// log in, create an account, add and verify a domain, set its sign-up
// setting, configure SSO and log in through the IdP, map a group pushed
// through SCIM to a role, invite a user who accepts from the mail, reset a
// password, bulk import, merge after a failing then passing preflight, set
// the HIPAA flag, read the audit log.
func TestConsole_Browser(t *testing.T) {
	startBrowser(t) // skips without Chromium
	c := newCLI(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	dns := startDNS(t)
	c.env["ORGD_DNS_SERVER"] = dns.addr
	s := startServe(t, c)
	c.env["ORGD_BASE_URL"] = s.url
	idp := startIdP(t)
	shot := newShots(t)

	// A candidate for the merge: its Owner signed up before acme.test was
	// anyone's, and it verified a domain of its own (which blocks a merge).
	cand := c.ok("signup", "--email", "cand@acme.test", "--password", testPassword, "--name", "Cand")
	candOrg := cand.str("organization_sid")
	d := c.ok("domain", "add", "--org", candOrg, "--domain", "cand.test")
	dns.add(d.str("txt_name"), d.str("txt_value"))
	c.ok("domain", "verify", "--org", candOrg, "--domain", "cand.test")

	owner := newTab(t, s.url, "owner")

	// Sign up, confirm from the mail, log in.
	owner.open("/signup")
	owner.fill("#email", "owner@acme.test")
	owner.fill("#name", "Acme")
	require.Equal(t, int64(http.StatusOK), owner.click(`button[type=submit]`))
	require.Contains(t, owner.main(), "Check your mail")
	owner.open(mailLink(t, c, "owner@acme.test", "/signup/confirm"))
	owner.fill("#password", testPassword)
	owner.click(`button[type=submit]`)
	require.Contains(t, owner.main(), "Your user is ready; log in.")
	owner.open("/console/accounts")
	require.Equal(t, "/login", owner.path(), "the console asks for a login")
	owner.fill("#email", "owner@acme.test")
	owner.click(`button[value=continue]`)
	owner.fill("#password", testPassword)
	owner.click(`button[type=submit]`)
	require.Equal(t, "/console/accounts", owner.path(), "the login came back to the page asked for")

	// Create an account; its auth token is shown once.
	owner.fill("#acct-name", "Production")
	owner.check(`input[name=usage][value=flex]`)
	require.Equal(t, int64(http.StatusCreated), owner.click(`form[action="/console/accounts"] button`))
	require.Contains(t, owner.main(), "Production is created: a Trial account, active.")
	token := owner.text("#new-token")
	require.Regexp(t, `^[0-9a-f]{32}$`, token)
	owner.click(`a.button`)
	require.Contains(t, owner.text("dl.facts"), "Trial · flex")
	prodPath := owner.path()
	owner.open("/console/")
	shot.take(owner, "overview")
	primeOrg := regexp.MustCompile(`OR[0-9a-f]{32}`).FindString(owner.main())
	require.NotEmpty(t, primeOrg)
	c.ok("org", "enable-bulk-import", "--org", primeOrg)

	// HIPAA before the BAA: refused next to the form, with the rule and the way out.
	owner.open(prodPath)
	owner.click(`#hipaa button`)
	refused := owner.text("#err-hipaa")
	require.Contains(t, refused, "R-HIPAA-1")
	require.Contains(t, refused, "Record the organization's executed BAA first")
	shot.take(owner, "refusal")

	// Add acme.test; verifying fails until the TXT record is published.
	owner.open("/console/domains")
	owner.fill("#domain", "acme.test")
	owner.click(`form[action="/console/domains"] button`)
	txtName, txtValue := owner.text("#txt-name-acme\\.test"), owner.text("#txt-value-acme\\.test")
	require.Equal(t, "_orgd.acme.test", txtName)
	require.Regexp(t, `^orgd-domain-verification=[0-9a-f]{32}$`, txtValue)
	require.Equal(t, int64(http.StatusConflict), owner.click(`form[action="/console/domains/acme.test/verify"] button`))
	require.Contains(t, owner.text(`#err-verify\:acme\.test`), "R-DOM-1 no TXT record _orgd.acme.test holding "+txtValue+" was found")
	dns.add(txtName, txtValue)
	require.Equal(t, int64(http.StatusOK), owner.click(`form[action="/console/domains/acme.test/verify"] button`))
	require.Contains(t, owner.main(), "acme.test is verified.")
	owner.check(`input[name=signup][value=restricted]`)
	owner.click(`form[action="/console/domains/acme.test/signup"] button`)
	require.Contains(t, owner.main(), "Sign-up for acme.test is restricted.")

	// Invite alice; she accepts from the mail and logs in with a password.
	owner.open("/console/users")
	owner.fill("#invite-email", "alice@acme.test")
	owner.do("pick the role", chromedp.SetValue(chromedp.CSS("#invite-role"), "administrator"))
	owner.click(`form[action="/console/users/invite"] button`)
	require.Contains(t, owner.main(), "Invitation mailed to alice@acme.test as administrator")
	alice := newTab(t, s.url, "alice")
	alice.open(mailLink(t, c, "alice@acme.test", "/signup"))
	alice.fill("#password", testPassword)
	alice.click(`button[type=submit]`)
	require.Contains(t, alice.main(), "Welcome! Your user is ready; log in.")
	alice.fill("#email", "alice@acme.test")
	alice.click(`button[value=continue]`)
	alice.fill("#password", testPassword)
	alice.click(`button[type=submit]`)
	require.Equal(t, "/console/", alice.path())
	require.Contains(t, alice.text("header"), "alice@acme.test · Administrator")

	// SSO: upload the IdP's metadata, test the connection, enforce it.
	mdFile := filepath.Join(t.TempDir(), "idp-metadata.xml")
	require.NoError(t, os.WriteFile(mdFile, idp.Metadata(), 0o600))
	owner.open("/console/sso")
	acs := owner.text("#sp-acs")
	idp.mu.Lock()
	idp.acs, idp.aud = acs, owner.text("#sp-entity")
	idp.mu.Unlock()
	require.Equal(t, s.url+"/sso/saml/"+primeOrg+"/acs", acs)
	owner.upload("#md-file", mdFile)
	owner.click(`form[action="/console/sso/idp"] button`)
	require.Contains(t, owner.main(), "The identity provider https://idp.acme.test/metadata is configured.")
	owner.open("/console/domains")
	require.Equal(t, int64(http.StatusConflict), owner.click(`form[action="/console/domains/acme.test/sso"] button`))
	require.Contains(t, owner.text(`#err-sso\:acme\.test`), "R-DOM-5")
	owner.open("/console/sso")
	idp.as("owner@acme.test")
	owner.click(`a[href$="/login?test=1"]`)
	require.Contains(t, owner.text("#who"), "Signing in owner@acme.test")
	owner.click("#idp-continue")
	require.Contains(t, owner.main(), "Connection test passed")
	owner.open("/console/sso")
	require.Regexp(t, `(?i)connection test passed \d{4}-`, owner.main())

	// A group the IdP pushes through SCIM, mapped in the console to the
	// Administrator role and billing on Production: its member has them.
	scimToken := c.ok("scim-token", "create", "--org", primeOrg, "--name", "okta").str("token")
	code, _, dana := scimCall(t, "POST", s.url+"/scim/v2/Users", scimToken, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "dana@acme.test", "active": true})
	require.Equal(t, http.StatusCreated, code, "%v", dana)
	code, _, grp := scimCall(t, "POST", s.url+"/scim/v2/Groups", scimToken, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Platform admins",
		"members": []any{map[string]any{"value": dana["id"]}}})
	require.Equal(t, http.StatusCreated, code, "%v", grp)
	roleOf := func(email string) string {
		for _, u := range c.ok("user", "list", "--org", primeOrg).list("users") {
			if u.str("email") == email {
				return u.str("role")
			}
		}
		t.Fatalf("no user %s", email)
		return ""
	}
	require.Equal(t, "standard", roleOf("dana@acme.test"))
	owner.open("/console/sso")
	require.Contains(t, owner.text("table.groups"), "Platform admins 1 nothing")
	owner.click(`table.groups a[href$="#map"]`)
	prodSID := strings.TrimPrefix(prodPath, "/console/accounts/")
	owner.check(`input[name=role][value=administrator]`)
	owner.check(`input[name=account][value="` + prodSID + `"]`)
	owner.do("pick the account role", chromedp.SetValue(chromedp.CSS("#role-"+prodSID), "billing"))
	owner.click(`#map button[type=submit]`)
	require.Contains(t, owner.main(), `Members of "Platform admins" now get the Administrator role, billing on Production`)
	require.Contains(t, owner.text("#members + .table-wrap table"), "dana@acme.test administrator active")
	require.Equal(t, "administrator", roleOf("dana@acme.test"), "mapping the group did not make its member an Administrator")
	shot.take(owner, "group-mapping")
	owner.open("/console/sso")
	require.Contains(t, owner.text("table.groups"), "Platform admins 1 the Administrator role, billing on Production")
	shot.take(owner, "sso")
	owner.open("/console/domains")
	owner.click(`form[action="/console/domains/acme.test/sso"] button`)
	require.Contains(t, owner.main(), "Everyone on acme.test except the Owner now logs in through single sign-on")
	shot.take(owner, "domains")

	// Alice's password session ends; she logs in through the IdP.
	alice.open("/console/")
	require.Equal(t, "/login", alice.path())
	idp.as("alice@acme.test")
	alice.fill("#email", "alice@acme.test")
	alice.click(`button[value=continue]`)
	require.Contains(t, alice.text("#who"), "Signing in alice@acme.test")
	alice.click("#idp-continue")
	require.Equal(t, "/console/", alice.path(), "the SAML login lands in the console")
	require.Contains(t, alice.text("header"), "alice@acme.test · Administrator")

	// Reset alice's password: SSO enforcement refuses it (R-SSO-2) until
	// it is lifted; then her sessions end and the mailed link sets a new one.
	owner.open("/console/users")
	ctx, cancel := owner.step()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('a[href^="/console/users/US"]')].find(a => a.textContent.trim() === "alice@acme.test").getAttribute("href")`))
	cancel()
	require.NoError(t, err)
	owner.open(href)
	require.Equal(t, "alice@acme.test", owner.text("h1"))
	alicePath := owner.path()
	require.Equal(t, int64(http.StatusConflict), owner.click(`form[action$="/reset-password"] button`))
	require.Contains(t, owner.text("#err-reset-password"), "R-SSO-2")
	owner.open("/console/domains")
	owner.click(`form[action="/console/domains/acme.test/sso"] button`)
	require.Contains(t, owner.main(), "SSO is no longer enforced on acme.test.")
	owner.open(alicePath)
	owner.click(`form[action$="/reset-password"] button`)
	require.Regexp(t, `Password reset: \d sessions? ended`, owner.main())
	alice.open("/console/")
	require.Equal(t, "/login", alice.path(), "the reset did not end alice's session")
	alice.open(mailLink(t, c, "alice@acme.test", "/reset"))
	alice.fill("#password", "An0ther-Passw0rd!")
	alice.click(`button[type=submit]`)
	require.Contains(t, alice.main(), "Your password is set; log in with it.")
	alice.click(`button[value=continue]`)
	alice.fill("#password", "An0ther-Passw0rd!")
	alice.click(`button[type=submit]`)
	require.Equal(t, "/console/", alice.path())

	// Bulk import: a result per row; the bad row does not undo the good ones.
	csvFile := filepath.Join(t.TempDir(), "users.csv")
	require.NoError(t, os.WriteFile(csvFile, []byte("email,role\nmia@acme.test,standard\nnoah@gmail.com,standard\npaul@acme.test,administrator\n"), 0o600))
	owner.open("/console/users")
	owner.upload("#import-file", csvFile)
	owner.click(`form[action="/console/users/import"] button`)
	result := owner.text("#import-result + p")
	require.Equal(t, "2 invited, 1 refused. One refused row does not undo the others.", result)
	require.Contains(t, owner.text("section.result table"), "noah@gmail.com refused R-USER-7 gmail.com is a common mail domain")
	shot.take(owner, "bulk-import")

	// Merge: the preflight blocks on the candidate's own domain (R-MERGE-4)…
	owner.open("/console/org")
	owner.fill("#candidate", candOrg)
	require.Equal(t, int64(http.StatusConflict), owner.click(`form[action="/console/org/merge"][method=get] button`))
	checks := owner.text("table.checks")
	require.Contains(t, checks, "R-MERGE-3 passes")
	require.Contains(t, checks, "R-MERGE-4 blocks the candidate still has verified domains [cand.test]")
	require.False(t, owner.has(`form[method=post][action="/console/org/merge"]`), "a blocked preflight offers the merge")
	owner.do("scroll to the merge", chromedp.ScrollIntoView(chromedp.CSS("#merge")))
	shot.take(owner, "merge-blocked")
	// …its Owner removes it in their console, and the preflight passes.
	candTab := newTab(t, s.url, "candidate")
	candTab.open("/login")
	candTab.fill("#email", "cand@acme.test")
	candTab.click(`button[value=continue]`)
	candTab.fill("#password", testPassword)
	candTab.click(`button[type=submit]`)
	candTab.open("/console/domains")
	candTab.do("open the danger zone", chromedp.Click(chromedp.CSS(`#cand\.test details summary`), chromedp.NodeVisible))
	candTab.check(`form[action="/console/domains/cand.test/remove"] input[name=confirm]`)
	candTab.click(`form[action="/console/domains/cand.test/remove"] button`)
	require.Contains(t, candTab.main(), "cand.test is removed")
	owner.open("/console/org/merge?candidate=" + candOrg)
	require.Contains(t, owner.text("table.checks"), "R-MERGE-4 passes the candidate has no verified domains")
	shot.take(owner, "merge-preflight")
	owner.check(`form[method=post][action="/console/org/merge"] input[name=confirm]`)
	owner.click(`form[method=post][action="/console/org/merge"] button`)
	require.Contains(t, owner.main(), candOrg+" is merged into this organization: 1 account and 1 user moved")

	// HIPAA: record the BAA, then designate the account.
	owner.open("/console/org")
	owner.check(`#baa input[name=confirm]`)
	owner.click(`#baa button`)
	require.Contains(t, owner.main(), "The BAA is recorded.")
	owner.open(prodPath)
	owner.click(`#hipaa button`)
	require.Contains(t, owner.main(), "Production is designated for HIPAA")
	require.Contains(t, owner.text("dl.facts"), "HIPAA designated")
	owner.open("/console/accounts")
	require.Contains(t, owner.text("table"), "Production")
	require.Contains(t, owner.text("table"), cand.str("account_sid"), "the merged candidate's account is listed")
	shot.take(owner, "accounts")

	// A setup link opens the SSO & SCIM setup only, to someone without a user.
	owner.open("/console/setup-links")
	owner.fill("#link-name", "Okta rollout")
	owner.click(`form[action="/console/setup-links"] button`)
	setupURL := owner.text("#new-link")
	require.True(t, strings.HasPrefix(setupURL, s.url+"/console/setup?token=setup_"), setupURL)
	it := newTab(t, s.url, "it-admin")
	it.open(setupURL)
	require.Equal(t, "/console/setup/sso", it.path())
	require.Contains(t, it.text("header"), "Setup link “Okta rollout”")
	require.False(t, it.has(`nav.side`), "a setup link shows the console's navigation")
	shot.take(it, "setup-link")
	require.Equal(t, int64(http.StatusOK), it.open("/console/users"))
	require.Equal(t, "/login", it.path(), "a setup link opened the users page")

	// The audit log has it all, filterable.
	owner.open("/console/audit")
	log := owner.text("table.audit")
	for _, action := range []string{"org.merge", "account.hipaa", "org.baa_record", "user.password_reset", "domain.verify",
		"domain.configure", "sso.idp_set", "sso.idp_tested", "user.invite", "account.create", "setup_link.create", "group.map"} {
		require.Contains(t, log, action)
	}
	owner.fill("#f-action", "user.")
	owner.click(`form.filters button`)
	filtered := owner.text("table.audit")
	require.Contains(t, filtered, "user.invite")
	require.NotContains(t, filtered, "domain.verify")
	owner.open("/console/audit")
	shot.take(owner, "audit")

	// Nothing on the way was refused for a reason the console did not show.
	require.NotContains(t, s.stderr.String(), `"level":"ERROR"`, "the server logged an error")
	var pageErrs []string
	for _, line := range logLines(t, s.stderr.String()) {
		if line["msg"] == "console: unexpected error" {
			pageErrs = append(pageErrs, fmt.Sprint(line["err"]))
		}
	}
	require.Empty(t, pageErrs)
}
