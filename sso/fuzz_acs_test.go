package sso_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/sso/ssotest"
)

// The ACS fuzz targets post to a real service provider (orgd's ACS over
// HTTP, on a SQLite file) for an organization with IdP-initiated logins
// on and two users, attacker@ and victim@acme.test. The IdP only ever
// signs for the attacker; whatever the fuzzer makes of the rest, the ACS
// answers 303 with a session or a 403 page (never a 5xx), and a session
// it starts is always the attacker's: no tampering makes a signed
// assertion log in someone else.

func newACSFuzzEnv(f *testing.F) *env {
	e := newEnv(f)
	e.setIdP(e.org, e.idp.Metadata(), true)
	e.member(e.org, attacker)
	e.member(e.org, victim)
	return e
}

// acsOutcome posts samlResponse and checks what any answer must be; it
// returns the email of the user whose session was started, or "".
func (e *env) acsOutcome(t *testing.T, samlResponse string) string {
	t.Helper()
	res := e.post(e.browser(), e.org, samlResponse, "")
	b := body(t, res)
	switch res.StatusCode {
	case http.StatusSeeOther:
		tok := sessionCookie(res)
		require.NotEmpty(t, tok, "303 without a session")
		_, u, err := e.svc.Session(e.ctx, tok)
		require.NoError(t, err)
		return u.Email
	case http.StatusForbidden, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		require.Empty(t, sessionCookie(res), "a refusal set a session")
		for _, leak := range []string{"goroutine", "panic", "runtime.", "xml:", "x509:"} {
			require.NotContains(t, b, leak)
		}
		return ""
	default:
		t.Fatalf("ACS answered %d: %s", res.StatusCode, b)
		return ""
	}
}

// FuzzACSResponse posts any document (built from validly signed ones) as
// the SAMLResponse.
func FuzzACSResponse(f *testing.F) {
	e := newACSFuzzEnv(f)
	good := func(r ssotest.Response) []byte {
		r.NameID = attacker
		b, err := e.idp.Build(f, r, e.acs(e.org), e.audience(e.org), e.clock.Now()).WriteToBytes()
		require.NoError(f, err)
		return b
	}
	for _, r := range []ssotest.Response{{}, {SignResponse: true}, {SignResponse: true, UnsignedAssertion: true}, {Attrs: map[string]string{"mail": victim}}} {
		d := good(r)
		f.Add(d)
		f.Add([]byte(strings.Replace(string(d), attacker, victim, 1)))
		f.Add([]byte(strings.Replace(string(d), "<saml:Assertion", "<!-- x --><saml:Assertion", 1)))
		f.Add([]byte(strings.Replace(string(d), "</samlp:Response>", "<saml:Assertion ID=\"_evil\"><saml:Subject><saml:NameID>"+victim+"</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>", 1)))
		f.Add(d[:len(d)/2])
	}
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e;</samlp:Response>`))
	f.Add([]byte("not xml at all"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		e := e.with(t)
		if who := e.acsOutcome(t, base64.StdEncoding.EncodeToString(doc)); who != "" {
			require.Equal(t, attacker, who, "a tampered response logged in %s", who)
		}
		// The same bytes sent not base64-encoded, as a broken IdP might.
		if who := e.acsOutcome(t, string(doc)); who != "" {
			require.Equal(t, attacker, who)
		}
	})
}

// FuzzACSFields has the IdP sign responses whose fields the fuzzer
// chooses: a session is started only when every checked field is right,
// and only for the NameID that was signed.
func FuzzACSFields(f *testing.F) {
	e := newACSFuzzEnv(f)
	f.Add(attacker, "", "", "", "", int16(0), uint8(0))
	f.Add(victim, "", "", "", "", int16(0), uint8(1))
	f.Add("ATTACKER@acme.test", "", "", "", "", int16(-60), uint8(2))
	f.Add(attacker, "https://other.test/metadata", "", "", "", int16(0), uint8(0))
	f.Add(attacker, "", "https://evil.test/acs", "", "", int16(0), uint8(0))
	f.Add(attacker, "", "", "https://evil.test/acs", "", int16(0), uint8(0))
	f.Add(attacker, "", "", "", "https://evil-idp.test/", int16(0), uint8(0))
	f.Add(attacker, "", "", "", "", int16(400), uint8(0))
	f.Add(attacker, "", "", "", "", int16(-400), uint8(3))
	f.Add("someone@gmail.com", "", "", "", "", int16(0), uint8(0))
	f.Add("", "", "", "", "", int16(0), uint8(0))
	f.Add(attacker+"\x00"+victim, "", "", "", "", int16(0), uint8(0))
	f.Fuzz(func(t *testing.T, nameID, audience, destination, recipient, issuer string, skew int16, flags uint8) {
		e := e.with(t)
		r := ssotest.Response{NameID: nameID, Audience: audience, Destination: destination, Recipient: recipient,
			ResponseIssuer: issuer, AssertionIssuer: issuer, SignResponse: flags&1 != 0,
			Issued: e.clock.Now().Add(time.Duration(skew) * time.Second)}
		if flags&2 != 0 {
			r.InResponseTo = "id-never-sent"
		}
		if !validXMLText(nameID + audience + destination + recipient + issuer) {
			return // etree would write a document no IdP can send
		}
		who := e.acsOutcome(t, ssotest.Encode(t, e.idp.Build(t, r, e.acs(e.org), e.audience(e.org), e.clock.Now())))
		if who == "" {
			return
		}
		require.True(t, strings.EqualFold(who, strings.TrimSpace(nameID)), "NameID %q logged in %s", nameID, who)
		for _, f := range []struct{ got, want string }{{audience, e.audience(e.org)}, {destination, e.acs(e.org)}, {recipient, e.acs(e.org)}, {issuer, e.idp.EntityID}} {
			require.True(t, f.got == "" || f.got == f.want, "accepted %q where %q is required", f.got, f.want)
		}
		require.Zero(t, flags&2, "accepted an InResponseTo this server never sent")
		require.LessOrEqual(t, skew, int16(270), "accepted a response issued %ds ahead", skew)
	})
}

// validXMLText reports whether s holds only characters XML 1.0 allows.
func validXMLText(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// with returns e reporting to t.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}
