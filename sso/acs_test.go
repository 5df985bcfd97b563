package sso_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
	"github.com/orgd/orgd/sso/ssotest"
)

func TestACS_SPInitiatedLogin(t *testing.T) {
	e := newEnv(t)
	alice := e.member(e.org, "alice@acme.test")
	c := e.browser()
	id := e.startSP(c, e.org, "/console/accounts?x=1")
	doc := e.idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "Alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())
	res := e.post(c, e.org, ssotest.Encode(t, doc), "ignored-relay")
	b := body(t, res)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, e.reason(b))
	assert.Equal(t, "/console/accounts?x=1", res.Header.Get("Location"), "the tracked relay state, not the posted one")
	tok := sessionCookie(res)
	require.NotEmpty(t, tok)
	for _, ck := range res.Cookies() {
		if ck.Name == orgmodel.SessionCookie {
			assert.True(t, ck.HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
			assert.Equal(t, "/", ck.Path)
		}
	}
	sess, u, err := e.svc.Session(e.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, alice, u.SID)
	assert.Equal(t, orgmodel.ViaSSO, sess.Via)

	// The same request cannot be answered twice, even by a fresh assertion.
	doc = e.idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())
	res = e.post(c, e.org, ssotest.Encode(t, doc), "")
	b = body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, e.reason(b), "R-SSO-1")
}

func TestACS_ResponseSignedOnlyAndBothSigned(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "alice@acme.test")
	for _, r := range []ssotest.Response{
		{SignResponse: true, UnsignedAssertion: true},
		{SignResponse: true},
	} {
		c := e.browser()
		r.InResponseTo = e.startSP(c, e.org, "")
		r.NameID = "alice@acme.test"
		res := e.post(c, e.org, ssotest.Encode(t, e.idp.Build(t, r, e.acs(e.org), e.audience(e.org), e.clock.Now())), "")
		b := body(t, res)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, e.reason(b))
		assert.Equal(t, "/console/", res.Header.Get("Location"))
	}
}

func TestACS_IdPInitiatedOnlyWhenTurnedOn(t *testing.T) {
	e := newEnv(t)
	alice := e.member(e.org, "alice@acme.test")
	unsolicited := func() string {
		return ssotest.Encode(t, e.idp.Build(t, ssotest.Response{NameID: "alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now()))
	}
	before := e.sessionsStarted()
	res := e.post(e.browser(), e.org, unsolicited(), "/console/")
	b := body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Empty(t, sessionCookie(res))
	assert.Contains(t, e.reason(b), "IdP-initiated login is off")
	assert.Equal(t, before, e.sessionsStarted())

	e.setIdP(e.org, e.idp.Metadata(), true)
	res = e.post(e.browser(), e.org, unsolicited(), "/console/accounts")
	body(t, res)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/console/accounts", res.Header.Get("Location"))
	_, u, err := e.svc.Session(e.ctx, sessionCookie(res))
	require.NoError(t, err)
	assert.Equal(t, alice, u.SID)
	// RelayState is followed only when it is a local path.
	for _, relay := range []string{"https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)", "/x\r\nSet-Cookie: a=b"} {
		res = e.post(e.browser(), e.org, unsolicited(), relay)
		body(t, res)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/console/", res.Header.Get("Location"), relay)
	}
	// An IdP-initiated response that names a request must still match one.
	doc := e.idp.Build(t, ssotest.Response{NameID: "alice@acme.test", InResponseTo: "id-never-sent"}, e.acs(e.org), e.audience(e.org), e.clock.Now())
	res = e.post(e.browser(), e.org, ssotest.Encode(t, doc), "")
	body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestACS_JustInTimeOnAutoEnrollmentOnly(t *testing.T) {
	e := newEnv(t)
	e.setIdP(e.org, e.idp.Metadata(), true)
	post := func() *http.Response {
		return e.post(e.browser(), e.org, ssotest.Encode(t, e.idp.Build(t, ssotest.Response{NameID: "new@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())), "")
	}
	res := post()
	b := body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, e.reason(b), "R-DOM-3")
	e.setSignup(e.org, "acme.test", orgmodel.SignupAutoEnrollment)
	res = post()
	body(t, res)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, u, err := e.svc.Session(e.ctx, sessionCookie(res))
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
	assert.Equal(t, e.org, u.OrgSID)
}

func TestACS_EmailAttributeAndRotatedCertificates(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "alice@acme.test")
	next := ssotest.NewIdP(t, e.idp.EntityID, "idp.test", start)
	md := e.idp.Metadata(next) // both certificates while the IdP rotates
	m, err := sso.ParseMetadata(md)
	require.NoError(t, err)
	require.Len(t, m.Certs, 2)
	_, err = e.svc.SetIdP(e.ctx, e.op, e.org, orgmodel.IdPConfig{EntityID: m.EntityID, SSOURL: m.SSOURL, MetadataXML: string(md), EmailAttribute: "mail"})
	require.NoError(t, err)
	for _, signer := range []*ssotest.IdP{e.idp, next} {
		c := e.browser()
		id := e.startSP(c, e.org, "")
		r := ssotest.Response{InResponseTo: id, NameID: "opaque-id-123", NameIDFormat: string(saml.PersistentNameIDFormat), Attrs: map[string]string{"mail": "alice@acme.test"}}
		res := e.post(c, e.org, ssotest.Encode(t, signer.Build(t, r, e.acs(e.org), e.audience(e.org), e.clock.Now())), "")
		b := body(t, res)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, e.reason(b))
	}
	// Without the attribute, the opaque NameID is not an email.
	c := e.browser()
	id := e.startSP(c, e.org, "")
	res := e.post(c, e.org, ssotest.Encode(t, next.Build(t, ssotest.Response{InResponseTo: id, NameID: "opaque-id-123", NameIDFormat: string(saml.PersistentNameIDFormat)}, e.acs(e.org), e.audience(e.org), e.clock.Now())), "")
	b := body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, e.reason(b), "email attribute")
}

// attack is one case of the negative corpus: make returns the posted
// SAMLResponse (base64) for org given a fresh AuthnRequest id.
type attack struct {
	name string
	make func(t *testing.T, e *env, id string) string
	// why is a fragment of the logged reason, to show each case is refused
	// for its own reason ("" when several layers refuse it).
	why string
}

// victim and attacker: attacker@acme.test has a real IdP account; the
// forgeries try to become victim@acme.test.
const (
	victim   = "victim@acme.test"
	attacker = "attacker@acme.test"
)

func (e *env) signed(t *testing.T, id string, r ssotest.Response) *etree.Document {
	r.InResponseTo = id
	if r.NameID == "" {
		r.NameID = attacker
	}
	return e.idp.Build(t, r, e.acs(e.org), e.audience(e.org), e.clock.Now())
}

func enc(t *testing.T, d *etree.Document) string { return ssotest.Encode(t, d) }

func rawEnc(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// assertionOf returns the Assertion child of the Response root.
func assertionOf(d *etree.Document) *etree.Element { return d.Root().SelectElement("Assertion") }

// evilCopy is a copy of a with the victim's NameID, a new ID and no signature.
func evilCopy(a *etree.Element) *etree.Element {
	ev := a.Copy()
	ev.CreateAttr("ID", ssotest.NextID("_evil"))
	if s := ev.SelectElement("Signature"); s != nil {
		ev.RemoveChild(s)
	}
	ev.FindElement("./Subject/NameID").SetText(victim)
	return ev
}

func corpus() []attack {
	return []attack{
		{"NameID changed after signing", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			assertionOf(d).FindElement("./Subject/NameID").SetText(victim)
			return enc(t, d)
		}, "could not be verified"},
		{"signature removed", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{NameID: victim})
			a := assertionOf(d)
			a.RemoveChild(a.SelectElement("Signature"))
			return enc(t, d)
		}, "signature"},
		{"signed by another key", func(t *testing.T, e *env, id string) string {
			evil := ssotest.NewIdP(t, e.idp.EntityID, "idp.test", start)
			return enc(t, evil.Build(t, ssotest.Response{InResponseTo: id, NameID: victim}, e.acs(e.org), e.audience(e.org), e.clock.Now()))
		}, "certificate"},
		{"XSW1 original response inside the signature", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{SignResponse: true, UnsignedAssertion: true})
			orig := d.Root().Copy()
			root := d.Root()
			root.CreateAttr("ID", ssotest.NextID("_evilresp"))
			assertionOf(d).FindElement("./Subject/NameID").SetText(victim)
			origSig := orig.SelectElement("Signature")
			orig.RemoveChild(origSig)
			root.SelectElement("Signature").AddChild(orig)
			return enc(t, d)
		}, ""},
		{"XSW2 original response beside a detached signature", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{SignResponse: true, UnsignedAssertion: true})
			orig := d.Root().Copy()
			orig.RemoveChild(orig.SelectElement("Signature"))
			root := d.Root()
			root.CreateAttr("ID", ssotest.NextID("_evilresp"))
			assertionOf(d).FindElement("./Subject/NameID").SetText(victim)
			sig := root.SelectElement("Signature")
			root.InsertChildAt(sig.Index(), orig)
			return enc(t, d)
		}, ""},
		{"XSW3 evil assertion before the signed one", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			a := assertionOf(d)
			d.Root().InsertChildAt(a.Index(), evilCopy(a))
			return enc(t, d)
		}, "Assertion elements"},
		{"XSW4 signed assertion inside the evil one", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			a := assertionOf(d)
			ev := evilCopy(a)
			d.Root().RemoveChild(a)
			ev.AddChild(a)
			d.Root().AddChild(ev)
			return enc(t, d)
		}, "Assertion elements"},
		{"XSW5 signature moved to the evil assertion", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			a := assertionOf(d)
			ev := evilCopy(a)
			ev.CreateAttr("ID", a.SelectAttrValue("ID", ""))
			sig := a.SelectElement("Signature")
			a.RemoveChild(sig)
			ev.InsertChildAt(1, sig)
			d.Root().InsertChildAt(a.Index(), ev)
			return enc(t, d)
		}, "Assertion elements"},
		{"XSW6 signed assertion inside the evil assertion's signature", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			a := assertionOf(d)
			ev := evilCopy(a)
			ev.CreateAttr("ID", a.SelectAttrValue("ID", ""))
			sig := a.SelectElement("Signature").Copy()
			ev.InsertChildAt(1, sig)
			d.Root().RemoveChild(a)
			a.RemoveChild(a.SelectElement("Signature"))
			sig.AddChild(a)
			d.Root().AddChild(ev)
			return enc(t, d)
		}, "Assertion elements"},
		{"XSW7 evil assertion in Extensions", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			a := assertionOf(d)
			ext := etree.NewElement("Extensions")
			ext.AddChild(evilCopy(a))
			d.Root().InsertChildAt(a.Index(), ext)
			return enc(t, d)
		}, "Assertion elements"},
		{"XSW8 signed assertion in an Object of the evil signature", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			a := assertionOf(d)
			ev := evilCopy(a)
			ev.CreateAttr("ID", a.SelectAttrValue("ID", ""))
			sig := a.SelectElement("Signature")
			a.RemoveChild(sig)
			obj := sig.CreateElement("ds:Object")
			obj.AddChild(a)
			ev.InsertChildAt(1, sig)
			d.Root().RemoveChild(a)
			d.Root().AddChild(ev)
			return enc(t, d)
		}, "Assertion elements"},
		{"two assertions", func(t *testing.T, e *env, id string) string {
			d := e.signed(t, id, ssotest.Response{})
			d.Root().AddChild(evilCopy(assertionOf(d)))
			return enc(t, d)
		}, "Assertion elements"},
		{"wrong Audience", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{Audience: "https://other-sp.test/metadata"}))
		}, "audience"},
		{"wrong Destination", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{Destination: "https://other-sp.test/acs"}))
		}, "Destination"},
		{"wrong Recipient", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{Recipient: "https://other-sp.test/acs"}))
		}, "Recipient"},
		{"wrong Issuer of the response", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{ResponseIssuer: "https://evil-idp.test/metadata"}))
		}, "Issuer"},
		{"wrong Issuer of the assertion", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{AssertionIssuer: "https://evil-idp.test/metadata"}))
		}, "Issuer"},
		{"expired", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{Issued: e.clock.Now().Add(-10 * time.Minute)}))
		}, "expired"},
		{"not yet valid", func(t *testing.T, e *env, id string) string {
			later := e.clock.Now().Add(10 * time.Minute)
			return enc(t, e.signed(t, id, ssotest.Response{Issued: later, NotBefore: later}))
		}, "future"},
		{"unknown InResponseTo", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, "id-never-sent", ssotest.Response{}))
		}, "R-SSO-1"},
		{"SHA-1 signature", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{SHA1: true}))
		}, "SHA-1"},
		{"DOCTYPE with entity expansion", func(t *testing.T, e *env, id string) string {
			b, err := e.signed(t, id, ssotest.Response{}).WriteToBytes()
			require.NoError(t, err)
			s := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "` + victim + `">]>` + strings.Replace(string(b), attacker, "&e;", 1)
			return rawEnc(s)
		}, "DOCTYPE"},
		{"DOCTYPE billion laughs, unreferenced", func(t *testing.T, e *env, id string) string {
			b, err := e.signed(t, id, ssotest.Response{}).WriteToBytes()
			require.NoError(t, err)
			dtd := `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`
			return rawEnc(dtd + string(b))
		}, "DOCTYPE"},
		{"comment injection in NameID", func(t *testing.T, e *env, id string) string {
			// The IdP signs victim@acme.test.evil.test (an address the
			// attacker controls); a comment after acme.test would make a
			// careless parser read victim@acme.test.
			d := e.signed(t, id, ssotest.Response{NameID: victim + ".evil.test"})
			b, err := d.WriteToBytes()
			require.NoError(t, err)
			return rawEnc(strings.Replace(string(b), victim+".evil.test", victim+"<!---->.evil.test", 1))
		}, ""},
		{"email off the verified domains", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{NameID: "victim@unverified.test"}))
		}, "R-SSO-1"},
		{"user of another organization", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{NameID: "outsider@acme.test"}))
		}, "R-USER-2"},
		{"non-Success status", func(t *testing.T, e *env, id string) string {
			return enc(t, e.signed(t, id, ssotest.Response{Status: "urn:oasis:names:tc:SAML:2.0:status:Responder"}))
		}, "Responder"},
		{"not base64", func(t *testing.T, e *env, id string) string { return "%%%not base64%%%" }, "base64"},
		{"not a Response", func(t *testing.T, e *env, id string) string {
			return rawEnc(`<samlp:LogoutRequest xmlns:samlp="` + ssotest.NSProtocol + `"/>`)
		}, "not a SAML 2.0 Response"},
	}
}

// TestACS_OversizedBody: a SAMLResponse over the ACS's limit is answered
// 413 with a page that says so, and starts no session.
func TestACS_OversizedBody(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, victim)
	c := e.browser()
	id := e.startSP(c, e.org, "")
	before := e.sessionsStarted()
	d := e.signed(t, id, ssotest.Response{})
	d.Root().CreateElement("samlp:Extensions").SetText(strings.Repeat("A", 600<<10))
	res := e.post(c, e.org, enc(t, d), "")
	b := body(t, res)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	assert.Contains(t, b, "larger than 524288 bytes")
	assert.Empty(t, sessionCookie(res), "no session cookie")
	assert.Equal(t, before, e.sessionsStarted(), "no session started")
}

func TestACS_NegativeCorpus(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, attacker)
	e.member(e.org, victim)
	other, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "boss@other.test", Password: pw, EmailVerified: true})
	require.NoError(t, err)
	e.verify(other.OrgSID, "acme.test")
	e.member(other.OrgSID, "outsider@acme.test")

	for _, a := range corpus() {
		t.Run(a.name, func(t *testing.T) {
			c := e.browser()
			id := e.startSP(c, e.org, "")
			before := e.sessionsStarted()
			res := e.post(c, e.org, a.make(t, e, id), "")
			b := body(t, res)
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.Empty(t, sessionCookie(res), "no session cookie")
			assert.Equal(t, before, e.sessionsStarted(), "no session started")
			assert.Regexp(t, refRe, b, "the page gives a reference")
			for _, leak := range []string{"Signature", "Audience", "R-SSO", "crewjam", victim} {
				assert.NotContains(t, b, leak, "the page never gives the reason")
			}
			why := e.reason(b)
			require.NotEmpty(t, why, "the reason is logged under the reference")
			t.Log(why)
			if a.why != "" {
				assert.Contains(t, strings.ToLower(why), strings.ToLower(a.why))
			}
		})
	}
}

func TestACS_Replay(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "alice@acme.test")
	e.setIdP(e.org, e.idp.Metadata(), true)
	doc := ssotest.Encode(t, e.idp.Build(t, ssotest.Response{NameID: "alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now()))
	res := e.post(e.browser(), e.org, doc, "")
	body(t, res)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	before := e.sessionsStarted()
	res = e.post(e.browser(), e.org, doc, "")
	b := body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Empty(t, sessionCookie(res))
	assert.Equal(t, before, e.sessionsStarted())
	assert.Contains(t, e.reason(b), "already used")
}

func TestACS_AssertionForAnotherOrganization(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "alice@acme.test")
	other, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "boss@other.test", Password: pw, EmailVerified: true})
	require.NoError(t, err)
	e.verify(other.OrgSID, "acme.test")
	e.setIdP(other.OrgSID, e.idp.Metadata(), true) // the same IdP serves both
	e.setIdP(e.org, e.idp.Metadata(), true)
	// A valid assertion for acme's SP, posted to the other organization's ACS.
	doc := e.idp.Build(t, ssotest.Response{NameID: "alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())
	res := e.post(e.browser(), other.OrgSID, ssotest.Encode(t, doc), "")
	b := body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, e.reason(b), "Destination")
}

func TestACS_ArtifactAndSimpleSignRefused(t *testing.T) {
	e := newEnv(t)
	for _, form := range []url.Values{
		{"SAMLart": {"AAQAAMFbLinlXaCM+FIxiDwGOLAy2T71gbpO7ZhNzAgEANlB90ECfpNEVLg="}},
		{"SAMLResponse": {rawEnc("<x/>")}, "SigAlg": {"x"}, "Signature": {"y"}},
		{"SAMLResponse": {rawEnc("<x/>"), rawEnc("<y/>")}},
	} {
		res, err := e.browser().PostForm(e.acs(e.org), form)
		require.NoError(t, err)
		b := body(t, res)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.NotEmpty(t, e.reason(b))
	}
	// GET is not an ACS binding here.
	res, err := e.browser().Get(e.acs(e.org))
	require.NoError(t, err)
	body(t, res)
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
}

func TestACS_UnknownOrganizationAndNoIdP(t *testing.T) {
	e := newEnv(t)
	doc := ssotest.Encode(t, e.idp.Build(t, ssotest.Response{NameID: "x@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now()))
	for _, org := range []orgmodel.OrgSID{"OR00000000000000000000000000000000", "nonsense"} {
		res := e.post(e.browser(), org, doc, "")
		body(t, res)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
	}
	res, err := e.browser().Get(e.base + "/sso/saml/OR00000000000000000000000000000000/metadata")
	require.NoError(t, err)
	body(t, res)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// TestXSW_LibraryAloneNeverYieldsTheVictim runs the wrapping attacks
// against crewjam/saml without orgd's own pre-check: each is refused or,
// at worst (XSW7), yields the genuinely signed identity — never the
// victim. orgd's "exactly one Assertion" check refuses them all anyway.
func TestXSW_LibraryAloneNeverYieldsTheVictim(t *testing.T) {
	e := newEnv(t)
	md, err := sso.ParseMetadata(e.idp.Metadata())
	require.NoError(t, err)
	acs, _ := url.Parse(e.acs(e.org))
	meta, _ := url.Parse(e.audience(e.org))
	newSP := func() *saml.ServiceProvider {
		return &saml.ServiceProvider{EntityID: meta.String(), MetadataURL: *meta, AcsURL: *acs, IDPMetadata: md.Entity,
			RejectSHA1Signatures: true, Clock: dsig.NewFakeClockAt(e.clock.Now())}
	}
	// Control: the genuine response is accepted, so a refusal below is the attack's.
	genuine, err := e.signed(t, "id-x", ssotest.Response{}).WriteToBytes()
	require.NoError(t, err)
	got, err := newSP().ParseXMLResponse(genuine, []string{"id-x"}, *acs)
	require.NoError(t, err)
	require.Equal(t, attacker, got.Subject.NameID.Value)
	for _, a := range corpus() {
		if !strings.HasPrefix(a.name, "XSW") && a.name != "two assertions" {
			continue
		}
		t.Run(a.name, func(t *testing.T) {
			sp := newSP()
			raw, err := base64.StdEncoding.DecodeString(a.make(t, e, "id-x"))
			require.NoError(t, err)
			got, err := sp.ParseXMLResponse(raw, []string{"id-x"}, *acs)
			if err == nil {
				assert.Equal(t, attacker, got.Subject.NameID.Value, "never the victim")
			}
		})
	}
}

// TestACS_SPInitiatedRelayIsLocalOnly: a foreign ?relay= given when the
// login starts is dropped, so the login lands on the console's start.
func TestACS_SPInitiatedRelayIsLocalOnly(t *testing.T) {
	e := newEnv(t)
	e.member(e.org, "alice@acme.test")
	for _, relay := range []string{"https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)", "\t//evil.test"} {
		c := e.browser()
		id := e.startSP(c, e.org, relay)
		doc := e.idp.Build(t, ssotest.Response{InResponseTo: id, NameID: "alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now())
		res := e.post(c, e.org, ssotest.Encode(t, doc), relay)
		b := body(t, res)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, e.reason(b))
		assert.Equal(t, "/console/", res.Header.Get("Location"), relay)
	}
}
