package sso

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/orgd/orgd/orgmodel"
)

// Limits on identity provider metadata.
const (
	// MaxMetadataBytes caps metadata read from a file or a URL (1 MiB, as
	// orgmodel.SetIdP keeps it).
	MaxMetadataBytes = 1 << 20
	// MetadataFetchTimeout bounds one metadata download.
	MetadataFetchTimeout = 10 * time.Second
	// MetadataRefreshEvery is how often RefreshMetadata should run.
	MetadataRefreshEvery = 6 * time.Hour
)

// IdPMetadata is an identity provider's metadata, checked.
type IdPMetadata struct {
	Entity   *saml.EntityDescriptor
	EntityID string
	// SSOURL is the HTTP-Redirect SingleSignOnService, where AuthnRequests go.
	SSOURL string
	// Certs are every signing certificate: several while the IdP rotates.
	Certs []*x509.Certificate
}

// ParseMetadata checks identity provider metadata: no DOCTYPE, one IdP
// entity, an HTTP-Redirect SingleSignOnService at an http(s) URL, and at
// least one signing certificate (all of them are trusted, for rotation).
func ParseMetadata(data []byte) (*IdPMetadata, error) {
	if len(data) > MaxMetadataBytes {
		return nil, fmt.Errorf("the metadata is larger than %d bytes", MaxMetadataBytes)
	}
	if err := refuseDirectives(data); err != nil {
		return nil, fmt.Errorf("the metadata %w", err)
	}
	ed, err := samlsp.ParseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("the metadata is not SAML 2.0 identity provider metadata: %w", err)
	}
	if ed.EntityID == "" {
		return nil, errors.New("the metadata has no entityID")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, errors.New("the metadata has no IDPSSODescriptor")
	}
	m := &IdPMetadata{Entity: ed, EntityID: ed.EntityID}
	for _, d := range ed.IDPSSODescriptors {
		for _, s := range d.SingleSignOnServices {
			if s.Binding == saml.HTTPRedirectBinding && m.SSOURL == "" {
				m.SSOURL = s.Location
			}
		}
		for _, k := range d.KeyDescriptors {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					return nil, errors.New("a signing certificate in the metadata is not base64")
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("a signing certificate in the metadata does not parse: %w", err)
				}
				m.Certs = append(m.Certs, cert)
			}
		}
	}
	if m.SSOURL == "" {
		return nil, errors.New("the metadata has no SingleSignOnService with the HTTP-Redirect binding")
	}
	if u, err := url.Parse(m.SSOURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the SingleSignOnService location %q is not an http(s) URL", m.SSOURL)
	}
	if len(m.Certs) == 0 {
		return nil, errors.New("the metadata has no signing certificate")
	}
	return m, nil
}

// refuseDirectives refuses any DOCTYPE or other <!…> declaration: SAML
// never needs one, and entity expansion is a denial of service. Every
// "<!" must open a comment or a CDATA section; a byte scan, so that it
// costs next to nothing before the real parse.
func refuseDirectives(data []byte) error {
	rest := data
	for {
		i := bytes.Index(rest, []byte("<!"))
		if i < 0 {
			return nil
		}
		rest = rest[i+2:]
		if !bytes.HasPrefix(rest, []byte("--")) && !bytes.HasPrefix(rest, []byte("[CDATA[")) {
			return errors.New("holds a DOCTYPE or another <!…> declaration")
		}
	}
}

// MetadataClient is the HTTP client FetchMetadata uses by default: a
// timeout, and redirects followed only to https.
var MetadataClient = &http.Client{
	Timeout: MetadataFetchTimeout,
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return errors.New("the metadata URL redirects to a non-https URL")
		}
		if len(via) >= 5 {
			return errors.New("the metadata URL redirects too often")
		}
		return nil
	},
}

// FetchMetadata downloads metadata from an https URL, at most
// MaxMetadataBytes within MetadataFetchTimeout. client nil means MetadataClient.
func FetchMetadata(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("the metadata URL %q is not an https URL", rawURL)
	}
	if client == nil {
		client = MetadataClient
	}
	ctx, cancel := context.WithTimeout(ctx, MetadataFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the metadata: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the metadata: %w", err)
	}
	if len(data) > MaxMetadataBytes {
		return nil, fmt.Errorf("the metadata is larger than %d bytes", MaxMetadataBytes)
	}
	return data, nil
}

// SetResult is what `orgd sso set` prints: what to give the IdP.
type SetResult struct {
	SPEntityID  string `json:"sp_entity_id"`
	ACSURL      string `json:"acs_url"`
	MetadataURL string `json:"metadata_url"`
}

// Endpoints returns org's SP endpoints under baseURL.
func Endpoints(baseURL string, org orgmodel.OrgSID) SetResult {
	base := strings.TrimRight(baseURL, "/") + "/sso/saml/" + string(org)
	return SetResult{SPEntityID: base + "/metadata", ACSURL: base + "/acs", MetadataURL: base + "/metadata"}
}

// SetOptions configures an organization's identity provider.
type SetOptions struct {
	// Source is a metadata file path or an https URL.
	Source            string
	AllowIdPInitiated bool
	// EmailAttribute names the attribute that carries the email; "" means
	// the NameID (emailAddress format).
	EmailAttribute string
	// Client fetches URLs; nil means MetadataClient.
	Client *http.Client
}

// Configure reads the IdP metadata from a file or an https URL, checks
// it and configures it as org's identity provider (orgmodel.SetIdP,
// R-SSO-1). It backs `orgd sso set`.
func Configure(ctx context.Context, svc *orgmodel.Service, a orgmodel.Actor, org orgmodel.OrgSID, baseURL string, opt SetOptions) (*SetResult, error) {
	var data []byte
	var mdURL string
	var err error
	switch {
	case strings.Contains(opt.Source, "://"):
		mdURL = opt.Source
		data, err = FetchMetadata(ctx, opt.Client, opt.Source)
	case opt.Source == "":
		err = errors.New("the IdP metadata (a file or an https URL) is required")
	default:
		data, err = readFileCapped(opt.Source)
	}
	if err != nil {
		return nil, orgmodel.Invalid("idp_metadata", "%s", err.Error())
	}
	m, err := ParseMetadata(data)
	if err != nil {
		return nil, orgmodel.Invalid("idp_metadata", "%s", err.Error())
	}
	if len(opt.EmailAttribute) > 256 {
		return nil, orgmodel.Invalid("email_attribute", "the attribute name is longer than 256 bytes")
	}
	_, err = svc.SetIdP(ctx, a, org, orgmodel.IdPConfig{
		EntityID: m.EntityID, SSOURL: m.SSOURL, MetadataXML: string(data), MetadataURL: mdURL,
		AllowIdPInitiated: opt.AllowIdPInitiated, EmailAttribute: opt.EmailAttribute,
	})
	if err != nil {
		return nil, err
	}
	r := Endpoints(baseURL, org)
	return &r, nil
}

func readFileCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the metadata file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the metadata file: %w", err)
	}
	if len(data) > MaxMetadataBytes {
		return nil, fmt.Errorf("the metadata is larger than %d bytes", MaxMetadataBytes)
	}
	return data, nil
}

// RefreshMetadata downloads again the metadata of every identity provider
// configured from a URL, and stores it when it changed and still checks
// out (new signing certificates take effect; a failed download keeps the
// metadata in use). Run it every MetadataRefreshEvery on one replica or
// all: a change is stored, and audited, once (Service.RefreshIdP stores
// it only over the metadata it replaces). It returns how many it changed.
func RefreshMetadata(ctx context.Context, svc *orgmodel.Service, client *http.Client, log *slog.Logger) (int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	changed := 0
	var after orgmodel.OrgSID
	for {
		batch, err := svc.IdPsToRefresh(ctx, after, 100)
		if err != nil {
			return changed, err
		}
		if len(batch) == 0 {
			return changed, nil
		}
		for _, p := range batch {
			after = p.OrgSID
			data, err := FetchMetadata(ctx, client, p.MetadataURL)
			if err == nil && string(data) == p.MetadataXML {
				continue
			}
			var m *IdPMetadata
			if err == nil {
				m, err = ParseMetadata(data)
			}
			if err != nil {
				log.Warn("sso: metadata refresh failed; keeping the metadata in use", "org", p.OrgSID, "err", err)
				continue
			}
			stored, err := svc.RefreshIdP(ctx, p.OrgSID, p.MetadataXML, orgmodel.IdPConfig{
				EntityID: m.EntityID, SSOURL: m.SSOURL, MetadataXML: string(data), MetadataURL: p.MetadataURL,
				AllowIdPInitiated: p.AllowIdPInitiated, EmailAttribute: p.EmailAttribute,
			})
			if err != nil {
				log.Warn("sso: metadata refresh refused", "org", p.OrgSID, "err", err)
				continue
			}
			if !stored {
				continue // another replica stored it first, or the configuration changed meanwhile
			}
			changed++
			log.Info("sso: metadata refreshed", "org", p.OrgSID, "entity_id", m.EntityID, "signing_certs", len(m.Certs))
		}
	}
}
