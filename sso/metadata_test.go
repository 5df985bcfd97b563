package sso_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
	"github.com/orgd/orgd/sso/ssotest"
)

func TestParseMetadata(t *testing.T) {
	p := ssotest.NewIdP(t, "https://idp.test/metadata", "idp.test", start)
	m, err := sso.ParseMetadata(p.Metadata())
	require.NoError(t, err)
	assert.Equal(t, "https://idp.test/metadata", m.EntityID)
	assert.Equal(t, "https://idp.test/sso", m.SSOURL)
	assert.Len(t, m.Certs, 1)

	good := string(p.Metadata())
	for name, bad := range map[string]string{
		"DOCTYPE":           `<!DOCTYPE x [<!ENTITY a "b">]>` + good,
		"not XML":           "hello",
		"no certificate":    strings.Replace(good, "<md:KeyDescriptor", "<md:Nothing", 1),
		"no redirect":       strings.ReplaceAll(good, "HTTP-Redirect", "HTTP-Artifact"),
		"javascript URL":    strings.ReplaceAll(good, "https://idp.test/sso", "javascript:alert(1)"),
		"bad certificate":   strings.Replace(good, "<ds:X509Certificate>", "<ds:X509Certificate>AAAA", 1),
		"not IdP metadata":  strings.ReplaceAll(good, "IDPSSODescriptor", "SPSSODescriptor"),
		"larger than 1 MiB": good + "<!--" + strings.Repeat("x", sso.MaxMetadataBytes) + "-->",
	} {
		_, err := sso.ParseMetadata([]byte(bad))
		assert.Error(t, err, name)
	}
}

func TestFetchMetadata_HTTPSOnlyCappedAndTimed(t *testing.T) {
	p := ssotest.NewIdP(t, "https://idp.test/metadata", "idp.test", start)
	md := p.Metadata()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/md":
			_, _ = w.Write(md)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", sso.MaxMetadataBytes+1)))
		case "/redirect":
			http.Redirect(w, r, "http://plain.test/md", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	client := srv.Client()
	client.Timeout = sso.MetadataFetchTimeout
	client.CheckRedirect = sso.MetadataClient.CheckRedirect

	got, err := sso.FetchMetadata(t.Context(), client, srv.URL+"/md")
	require.NoError(t, err)
	assert.Equal(t, md, got)
	for _, u := range []string{srv.URL + "/big", srv.URL + "/missing", srv.URL + "/redirect", strings.Replace(srv.URL, "https", "http", 1) + "/md", "file:///etc/passwd"} {
		_, err := sso.FetchMetadata(t.Context(), client, u)
		assert.Error(t, err, u)
	}
}

func TestConfigureAndRefresh(t *testing.T) {
	e := newEnv(t)
	owner := orgmodel.Actor{UserSID: e.owner, Via: "cli"}
	// From a file.
	path := filepath.Join(t.TempDir(), "idp.xml")
	require.NoError(t, os.WriteFile(path, e.idp.Metadata(), 0o600))
	res, err := sso.Configure(e.ctx, e.svc, owner, e.org, e.base, sso.SetOptions{Source: path, AllowIdPInitiated: true})
	require.NoError(t, err)
	assert.Equal(t, e.base+"/sso/saml/"+string(e.org)+"/metadata", res.SPEntityID)
	assert.Equal(t, e.base+"/sso/saml/"+string(e.org)+"/acs", res.ACSURL)
	assert.Equal(t, res.SPEntityID, res.MetadataURL)
	p, err := e.svc.LoadIdP(e.ctx, e.org)
	require.NoError(t, err)
	assert.True(t, p.AllowIdPInitiated)

	// The SP metadata names this entity and ACS, HTTP-POST only.
	_, b := e.get(e.browser(), "/sso/saml/"+string(e.org)+"/metadata")
	assert.Contains(t, b, `entityID="`+res.SPEntityID+`"`)
	assert.Contains(t, b, `Location="`+res.ACSURL+`"`)
	assert.NotContains(t, b, "HTTP-Artifact")

	// From a URL, refreshed when the IdP rotates its key.
	var mu sync.Mutex
	served := e.idp.Metadata()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(served)
	}))
	defer srv.Close()
	_, err = sso.Configure(e.ctx, e.svc, owner, e.org, e.base, sso.SetOptions{Source: srv.URL + "/md", Client: srv.Client()})
	require.NoError(t, err)
	n, err := sso.RefreshMetadata(e.ctx, e.svc, srv.Client(), nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "unchanged")
	next := ssotest.NewIdP(t, e.idp.EntityID, "idp.test", start)
	mu.Lock()
	served = e.idp.Metadata(next)
	mu.Unlock()
	old, err := e.svc.LoadIdP(e.ctx, e.org)
	require.NoError(t, err)
	idpSets := func() int {
		evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: e.org, Action: "sso.idp_set", Limit: 1000})
		require.NoError(t, err)
		return len(evs)
	}
	setsBefore := idpSets()
	n, err = sso.RefreshMetadata(e.ctx, e.svc, srv.Client(), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	p, err = e.svc.LoadIdP(e.ctx, e.org)
	require.NoError(t, err)
	assert.Equal(t, setsBefore+1, idpSets(), "the change is audited")
	// Another replica's refresh that started from the old metadata stores
	// nothing: the change is made, and audited, once.
	stored, err := e.svc.RefreshIdP(e.ctx, e.org, old.MetadataXML, orgmodel.IdPConfig{EntityID: p.EntityID, SSOURL: p.SSOURL,
		MetadataXML: p.MetadataXML, MetadataURL: p.MetadataURL, AllowIdPInitiated: p.AllowIdPInitiated})
	require.NoError(t, err)
	assert.False(t, stored)
	assert.Equal(t, setsBefore+1, idpSets())
	n, err = sso.RefreshMetadata(e.ctx, e.svc, srv.Client(), nil)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing new at the URL")
	m, err := sso.ParseMetadata([]byte(p.MetadataXML))
	require.NoError(t, err)
	assert.Len(t, m.Certs, 2)
	// Broken metadata at the URL keeps what is in use.
	mu.Lock()
	served = []byte("<broken")
	mu.Unlock()
	n, err = sso.RefreshMetadata(e.ctx, e.svc, srv.Client(), nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	p2, err := e.svc.LoadIdP(e.ctx, e.org)
	require.NoError(t, err)
	assert.Equal(t, p.MetadataXML, p2.MetadataXML)

	// Refused: bad input, and a Standard user.
	_, err = sso.Configure(e.ctx, e.svc, owner, e.org, e.base, sso.SetOptions{Source: "http://insecure.test/md"})
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	bob := e.member(e.org, "bob@acme.test")
	_, err = sso.Configure(e.ctx, e.svc, orgmodel.Actor{UserSID: bob}, e.org, e.base, sso.SetOptions{Source: path})
	assert.Equal(t, "R-ROLE-3", orgmodel.RuleOf(err))
}

func FuzzParseMetadata(f *testing.F) {
	p := ssotest.NewIdP(f, "https://idp.test/metadata", "idp.test", start)
	f.Add(p.Metadata())
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := sso.ParseMetadata(data)
		if err == nil && (m.EntityID == "" || m.SSOURL == "" || len(m.Certs) == 0) {
			t.Fatalf("accepted metadata without entity, SSO URL or certificate")
		}
	})
}
