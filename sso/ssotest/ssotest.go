// Package ssotest is a SAML identity provider for tests: it signs real
// responses (goxmldsig, RSA-SHA256 or RSA-SHA1) with keys generated in the
// test, so that orgd's tests never carry real secrets.
package ssotest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/stretchr/testify/require"
)

// Namespaces of the SAML documents the test IdP writes.
const (
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDsig      = "http://www.w3.org/2000/09/xmldsig#"
	FormatEmail = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
)

// IdP is an identity provider that signs real responses with an RSA
// key generated in the test.
type IdP struct {
	EntityID string
	SSOURL   string
	key      *rsa.PrivateKey
	certDER  []byte
}

// NewIdP makes an IdP with a fresh 2048-bit key and a self-signed
// certificate valid around at (cn is the certificate's common name, so
// that an attacker's IdP can copy it).
func NewIdP(t testing.TB, entityID, cn string, at time.Time) *IdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    at.Add(-24 * time.Hour),
		NotAfter:     at.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return &IdP{EntityID: entityID, SSOURL: "https://idp.test/sso", key: key, certDER: der}
}

// Metadata is the IdP's metadata; extra are further signing certificates
// (a rotation in progress).
func (p *IdP) Metadata(extra ...*IdP) []byte {
	doc := etree.NewDocument()
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", NSMetadata)
	ed.CreateAttr("xmlns:ds", NSDsig)
	ed.CreateAttr("entityID", p.EntityID)
	d := ed.CreateElement("md:IDPSSODescriptor")
	d.CreateAttr("protocolSupportEnumeration", NSProtocol)
	for _, q := range append([]*IdP{p}, extra...) {
		kd := d.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(q.certDER))
	}
	d.CreateElement("md:NameIDFormat").SetText(FormatEmail)
	for _, b := range []string{"HTTP-Redirect", "HTTP-POST"} {
		s := d.CreateElement("md:SingleSignOnService")
		s.CreateAttr("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:"+b)
		s.CreateAttr("Location", p.SSOURL)
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		panic(err)
	}
	return out
}

// Response describes one response; zero fields take valid defaults.
type Response struct {
	ID, AssertionID      string
	InResponseTo         string
	Destination          string
	Recipient            string
	Audience             string
	ResponseIssuer       string
	AssertionIssuer      string
	NameID, NameIDFormat string
	Issued               time.Time
	NotBefore            time.Time
	NotOnOrAfter         time.Time
	Status               string
	SignResponse         bool
	UnsignedAssertion    bool
	SHA1                 bool
	Attrs                map[string]string
}

var idSeq atomic.Int64

// NextID returns a fresh XML ID with prefix.
func NextID(prefix string) string {
	return fmt.Sprintf("%s%d_%x", prefix, idSeq.Add(1), randBytes(8))
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

const samlTime = "2006-01-02T15:04:05.000Z"

// Build returns the response document (signed as r says).
func (p *IdP) Build(t testing.TB, r Response, acs, audience string, now time.Time) *etree.Document {
	t.Helper()
	if r.ID == "" {
		r.ID = NextID("_r")
	}
	if r.AssertionID == "" {
		r.AssertionID = NextID("_a")
	}
	if r.Destination == "" {
		r.Destination = acs
	}
	if r.Recipient == "" {
		r.Recipient = acs
	}
	if r.Audience == "" {
		r.Audience = audience
	}
	if r.ResponseIssuer == "" {
		r.ResponseIssuer = p.EntityID
	}
	if r.AssertionIssuer == "" {
		r.AssertionIssuer = p.EntityID
	}
	if r.NameIDFormat == "" {
		r.NameIDFormat = FormatEmail
	}
	if r.Issued.IsZero() {
		r.Issued = now
	}
	if r.NotBefore.IsZero() {
		r.NotBefore = r.Issued.Add(-30 * time.Second)
	}
	if r.NotOnOrAfter.IsZero() {
		r.NotOnOrAfter = r.Issued.Add(5 * time.Minute)
	}
	if r.Status == "" {
		r.Status = "urn:oasis:names:tc:SAML:2.0:status:Success"
	}
	ts := func(x time.Time) string { return x.UTC().Format(samlTime) }

	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", NSAssertion)
	a.CreateAttr("ID", r.AssertionID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", ts(r.Issued))
	a.CreateElement("saml:Issuer").SetText(r.AssertionIssuer)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", r.NameIDFormat)
	nid.SetText(r.NameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if r.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", r.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", ts(r.NotOnOrAfter))
	scd.CreateAttr("Recipient", r.Recipient)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(r.NotBefore))
	cond.CreateAttr("NotOnOrAfter", ts(r.NotOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(r.Audience)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", ts(r.Issued))
	as.CreateAttr("SessionIndex", NextID("_s"))
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").
		SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	if len(r.Attrs) > 0 {
		st := a.CreateElement("saml:AttributeStatement")
		for k, v := range r.Attrs {
			at := st.CreateElement("saml:Attribute")
			at.CreateAttr("Name", k)
			at.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	if !r.UnsignedAssertion {
		a = p.Sign(t, a, r.SHA1)
	}

	doc := etree.NewDocument()
	rs := etree.NewElement("samlp:Response")
	rs.CreateAttr("xmlns:samlp", NSProtocol)
	rs.CreateAttr("xmlns:saml", NSAssertion)
	rs.CreateAttr("ID", r.ID)
	rs.CreateAttr("Version", "2.0")
	rs.CreateAttr("IssueInstant", ts(r.Issued))
	rs.CreateAttr("Destination", r.Destination)
	if r.InResponseTo != "" {
		rs.CreateAttr("InResponseTo", r.InResponseTo)
	}
	rs.CreateElement("saml:Issuer").SetText(r.ResponseIssuer)
	rs.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", r.Status)
	rs.AddChild(a)
	if r.SignResponse {
		rs = p.Sign(t, rs, r.SHA1)
	}
	doc.SetRoot(rs)
	return doc
}

// Sign returns el with an enveloped signature placed after its Issuer.
func (p *IdP) Sign(t testing.TB, el *etree.Element, sha1 bool) *etree.Element {
	t.Helper()
	ctx, err := dsig.NewSigningContext(p.key, [][]byte{p.certDER})
	require.NoError(t, err)
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if sha1 {
		require.NoError(t, ctx.SetSignatureMethod(dsig.RSASHA1SignatureMethod))
		ctx.Hash = crypto.SHA1
	}
	signed, err := ctx.SignEnveloped(el)
	require.NoError(t, err)
	// SignEnveloped appends the signature without re-parenting it: take
	// it off and put a clean copy after the Issuer, as the schema orders it.
	last := signed.Child[len(signed.Child)-1].(*etree.Element)
	require.Equal(t, "Signature", last.Tag)
	signed.Child = signed.Child[:len(signed.Child)-1]
	signed.InsertChildAt(1, last.Copy())
	return signed
}

// Encode is the base64 of the document, as the HTTP-POST binding sends it.
func Encode(t testing.TB, doc *etree.Document) string {
	t.Helper()
	b, err := doc.WriteToBytes()
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}
