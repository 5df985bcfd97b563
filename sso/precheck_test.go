package sso

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// FuzzPrecheck: the pre-checks never panic, and whatever they let through
// is a SAML Response holding exactly one Assertion and no declaration.
func FuzzPrecheck(f *testing.F) {
	const ok = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" InResponseTo="id-1"><saml:Assertion ID="_a"/></samlp:Response>`
	f.Add([]byte(ok))
	f.Add([]byte(`<!DOCTYPE r [<!ENTITY e "x">]>` + ok))
	f.Add([]byte(strings.Replace(ok, "<saml:Assertion", `<saml:Assertion ID="_b"/><saml:Assertion`, 1)))
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><![CDATA[<!DOCTYPE>]]><!-- <! --></samlp:Response>`))
	f.Add([]byte(`<x/>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if _, err := precheck(doc); err != nil {
			return
		}
		if strings.Contains(string(doc), "<!DOCTYPE") || strings.Contains(string(doc), "<!ENTITY") {
			t.Fatal("a declaration got through")
		}
		d := etree.NewDocument()
		if err := d.ReadFromBytes(doc); err != nil {
			t.Fatalf("accepted a document that does not parse: %v", err)
		}
		if n := len(d.FindElements("//Assertion")); n != 1 {
			t.Fatalf("accepted %d Assertion elements", n)
		}
	})
}
