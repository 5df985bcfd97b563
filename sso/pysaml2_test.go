package sso_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pysaml2 is the interpreter that has Debian's python3-pysaml2.
const pysaml2 = "/usr/bin/python3"

// requirePySAML2 skips the test, saying how to install them, when the
// independent IdP's tools are missing.
func requirePySAML2(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/xmlsec1"); err != nil {
		t.Skip("independent IdP absent: /usr/bin/xmlsec1 not found (install: apt-get install -y python3-pysaml2 xmlsec1)")
	}
	if out, err := exec.Command(pysaml2, "-c", "import saml2").CombinedOutput(); err != nil {
		t.Skipf("independent IdP absent: %s cannot import saml2 (install: apt-get install -y python3-pysaml2 xmlsec1): %s", pysaml2, out)
	}
}

// TestE2E_PySAML2IdP logs in through an IdP that shares no code with
// crewjam/saml: pysaml2 signs the Response and the Assertion with xmlsec1.
// SP-initiated: orgd's AuthnRequest goes to pysaml2, whose response comes
// back to the ACS.
func TestE2E_PySAML2IdP(t *testing.T) {
	requirePySAML2(t)
	e := newEnvAt(t, time.Now().UTC())
	alice := e.member(e.org, "alice@acme.test")
	dir := t.TempDir()
	writeKeyPair(t, dir)
	py := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(pysaml2, append([]string{"testdata/pysaml2_idp.py"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "pysaml2: %s", stderr.String())
		return out
	}

	// The IdP's metadata configures the organization's IdP.
	e.setIdP(e.org, py("metadata", dir), false)
	// The SP's metadata goes to the IdP.
	c := e.browser()
	res, err := c.Get(e.audience(e.org))
	require.NoError(t, err)
	spMD := filepath.Join(dir, "sp.xml")
	require.NoError(t, os.WriteFile(spMD, []byte(body(t, res)), 0o600))

	res, err = c.Get(e.base + "/sso/saml/" + string(e.org) + "/login?relay=/console/pysaml2")
	require.NoError(t, err)
	body(t, res)
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "pysaml2-idp.test", loc.Host)
	samlResponse := py("respond", dir, spMD, loc.Query().Get("SAMLRequest"), "alice@acme.test")

	res = e.post(c, e.org, string(samlResponse), "")
	b := body(t, res)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, e.reason(b))
	assert.Equal(t, "/console/pysaml2", res.Header.Get("Location"))
	_, u, err := e.svc.Session(e.ctx, sessionCookie(res))
	require.NoError(t, err)
	assert.Equal(t, alice, u.SID)

	// pysaml2's response, replayed, is refused.
	res = e.post(e.browser(), e.org, string(samlResponse), "")
	body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	// pysaml2's default, RSA-SHA1, is refused.
	res, err = c.Get(e.base + "/sso/saml/" + string(e.org) + "/login")
	require.NoError(t, err)
	body(t, res)
	loc, err = url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	res = e.post(c, e.org, string(py("respond-sha1", dir, spMD, loc.Query().Get("SAMLRequest"), "alice@acme.test")), "")
	b = body(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, e.reason(b), "SHA-1")
}

// writeKeyPair writes idp.key and idp.crt (PEM) for pysaml2.
func writeKeyPair(t *testing.T, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pysaml2-idp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "idp.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "idp.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
}
