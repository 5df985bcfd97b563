package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/orgd/orgd/orgmodel"
)

// samlNS is the SAML 2.0 assertion namespace.
const samlNS = "urn:oasis:names:tc:SAML:2.0:assertion"

// metadataCache keeps parsed IdP metadata per organization, keyed by the
// hash of the stored XML, so that a login does not parse it again.
type metadataCache struct {
	mu sync.Mutex
	m  map[orgmodel.OrgSID]cachedMetadata
}

type cachedMetadata struct {
	sum [32]byte
	md  *IdPMetadata
}

func (c *metadataCache) get(p *orgmodel.IdP) (*IdPMetadata, error) {
	sum := sha256.Sum256([]byte(p.MetadataXML))
	c.mu.Lock()
	e, ok := c.m[p.OrgSID]
	c.mu.Unlock()
	if ok && e.sum == sum {
		return e.md, nil
	}
	md, err := ParseMetadata([]byte(p.MetadataXML))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[p.OrgSID] = cachedMetadata{sum, md}
	c.mu.Unlock()
	return md, nil
}

// serviceProvider builds org's crewjam ServiceProvider for one request:
// its own entity ID and ACS URL (so that an assertion for another
// organization fails the Audience and Recipient checks), the IdP's
// metadata with all its signing certificates, SHA-1 refused unless
// configured, IdP-initiated login only when the organization turned it
// on, and POST the only ACS binding. The replay cache is orgd's own, in
// the database, spent in the transaction that starts the session
// (orgmodel.StartSSOSession).
func (h *handler) serviceProvider(ctx context.Context, org orgmodel.OrgSID, p *orgmodel.IdP) (*saml.ServiceProvider, error) {
	md, err := h.md.get(p)
	if err != nil {
		return nil, err
	}
	ep := Endpoints(h.base.String(), org)
	mdURL, _ := url.Parse(ep.MetadataURL)
	acsURL, _ := url.Parse(ep.ACSURL)
	nameID := saml.EmailAddressNameIDFormat
	if p.EmailAttribute != "" {
		nameID = saml.UnspecifiedNameIDFormat
	}
	return &saml.ServiceProvider{
		EntityID:                         ep.SPEntityID,
		MetadataURL:                      *mdURL,
		AcsURL:                           *acsURL,
		IDPMetadata:                      md.Entity,
		AuthnNameIDFormat:                nameID,
		AllowIDPInitiated:                p.AllowIdPInitiated,
		RejectSHA1Signatures:             !h.cfg.AllowSHA1,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		Clock:                            dsig.NewFakeClockAt(h.svc.Now()),
		MetadataValidDuration:            48 * time.Hour,
	}, nil
}

// metadata serves org's SP metadata: the entity ID is this URL.
func (h *handler) metadata(w http.ResponseWriter, r *http.Request) {
	org, p, ok := h.orgIdP(w, r)
	if !ok {
		return
	}
	sp, err := h.serviceProvider(r.Context(), org, p)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	buf, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(buf)
}

// orgIdP loads the organization of the path and its IdP; an organization
// without one, or that does not exist, is the same 404.
func (h *handler) orgIdP(w http.ResponseWriter, r *http.Request) (orgmodel.OrgSID, *orgmodel.IdP, bool) {
	raw := r.PathValue("org")
	if !orgmodel.ValidSID(orgmodel.PrefixOrg, raw) {
		h.fail(w, r, orgmodel.NotFound("organization", ""), failOpts{})
		return "", nil, false
	}
	org := orgmodel.OrgSID(raw)
	p, err := h.svc.LoadIdP(r.Context(), org)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return "", nil, false
	}
	return org, p, true
}

// startLogin is the SP-initiated start: an AuthnRequest through the
// HTTP-Redirect binding, its ID recorded to be answered once. ?relay= is
// a local path to land on; ?test=1, for an administrator of the
// organization logged in here, tests the connection instead of logging in.
func (h *handler) startLogin(w http.ResponseWriter, r *http.Request) {
	org, p, ok := h.orgIdP(w, r)
	if !ok {
		return
	}
	relay := localPath(r.URL.Query().Get("relay"))
	var testBy orgmodel.UserSID
	if r.URL.Query().Get("test") != "" {
		_, u, err := h.currentSession(r)
		if err != nil {
			h.fail(w, r, err, failOpts{})
			return
		}
		testBy = u.SID
	}
	sp, err := h.serviceProvider(r.Context(), org, p)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	if _, err := h.svc.TrackSAMLRequest(r.Context(), org, req.ID, relay, testBy); err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	// The RelayState the IdP echoes is not trusted: the tracked request
	// keeps the real one. It carries only the request ID.
	u, err := req.Redirect(req.ID, sp)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// acsRefusal is a refused assertion: 403 with a reference, the reason in
// the log only.
type acsRefusal struct{ reason string }

func (e *acsRefusal) Error() string { return e.reason }

func refuse(format string, args ...any) error { return &acsRefusal{fmt.Sprintf(format, args...)} }

// acs is the Assertion Consumer Service (HTTP-POST binding only). Every
// refusal is 403 with a reference id and no session; the reason goes to
// the log.
func (h *handler) acs(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	org, u, req, as, err := h.verify(w, r)
	if err != nil {
		h.fail(w, r, err, failOpts{saml: true, org: org})
		return
	}
	ctx := r.Context()
	if req != nil && req.TestBy != "" {
		if err := h.svc.ConsumeAssertion(ctx, org, as.ID, replayUntil(as)); err != nil {
			h.fail(w, r, err, failOpts{saml: true, org: org})
			return
		}
		if _, err := h.svc.MarkIdPTested(ctx, orgmodel.Actor{UserSID: req.TestBy, Via: "sso", RemoteAddr: clientIP(r)}, org); err != nil {
			h.fail(w, r, err, failOpts{saml: true, org: org})
			return
		}
		h.log.Info("sso: connection test passed", "org", org, "email", u.Email, "by", req.TestBy)
		h.render(w, r, http.StatusOK, "message.html", page{Title: "Connection test passed",
			Message: fmt.Sprintf("The identity provider logged in %s and its assertion checked out. SSO can now be enforced on the organization's verified domains.", u.Email),
			Link:    "/console/", LinkText: "Back to the console"})
		return
	}
	a := orgmodel.Actor{Via: "sso", RemoteAddr: clientIP(r)}
	tok, _, err := h.svc.StartSSOSession(ctx, a, org, u.SID, as.ID, replayUntil(as))
	if err != nil {
		h.fail(w, r, err, failOpts{saml: true, org: org})
		return
	}
	h.setSession(w, tok)
	dest := "/console/"
	if req != nil && req.RelayState != "" {
		dest = req.RelayState
	} else if req == nil {
		if rs := localPath(r.PostForm.Get("RelayState")); rs != "" {
			dest = rs
		}
	}
	h.log.Info("sso: login", "org", org, "user", u.SID, "idp_initiated", req == nil)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// verify checks a POSTed SAMLResponse for org and returns the user it
// logs in (created just in time where R-DOM-3 allows it) and the request
// it answers (nil when IdP-initiated).
func (h *handler) verify(w http.ResponseWriter, r *http.Request) (orgmodel.OrgSID, *orgmodel.User, *orgmodel.SAMLRequest, *saml.Assertion, error) {
	ctx := r.Context()
	raw := r.PathValue("org")
	if !orgmodel.ValidSID(orgmodel.PrefixOrg, raw) {
		return "", nil, nil, nil, refuse("the path names no organization")
	}
	org := orgmodel.OrgSID(raw)
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return org, nil, nil, nil, refuse("the form does not parse or is larger than %d bytes: %v", h.cfg.MaxBodyBytes, err)
	}
	if r.PostForm.Has("SAMLart") {
		return org, nil, nil, nil, refuse("an artifact (SAMLart) was posted; only the HTTP-POST binding is accepted")
	}
	if r.PostForm.Has("Signature") || r.PostForm.Has("SigAlg") {
		return org, nil, nil, nil, refuse("an HTTP-POST-SimpleSign message was posted; only the HTTP-POST binding is accepted")
	}
	enc := r.PostForm["SAMLResponse"]
	if len(enc) != 1 {
		return org, nil, nil, nil, refuse("the form has %d SAMLResponse fields, not 1", len(enc))
	}
	doc, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(enc[0]), ""))
	if err != nil {
		return org, nil, nil, nil, refuse("SAMLResponse is not base64")
	}
	inResponseTo, err := precheck(doc)
	if err != nil {
		return org, nil, nil, nil, err
	}
	p, err := h.svc.LoadIdP(ctx, org)
	if err != nil {
		return org, nil, nil, nil, refuse("the organization has no identity provider: %v", err)
	}
	var req *orgmodel.SAMLRequest
	var ids []string
	if inResponseTo != "" {
		if req, err = h.svc.OpenSAMLRequest(ctx, org, inResponseTo); err != nil {
			return org, nil, nil, nil, err
		}
		ids = []string{req.ID}
	} else if !p.AllowIdPInitiated {
		return org, nil, nil, nil, refuse("an unsolicited response, and IdP-initiated login is off for this organization")
	}
	sp, err := h.serviceProvider(ctx, org, p)
	if err != nil {
		return org, nil, nil, nil, err
	}
	assertion, err := sp.ParseXMLResponse(doc, ids, sp.AcsURL)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) {
			return org, nil, nil, nil, refuse("crewjam/saml refused the response: %v", ire.PrivateErr)
		}
		return org, nil, nil, nil, refuse("crewjam/saml refused the response: %v", err)
	}
	if req != nil {
		if err := h.svc.UseSAMLRequest(ctx, org, req.ID); err != nil {
			return org, nil, nil, nil, err
		}
	}
	email, err := assertedEmail(assertion, p.EmailAttribute)
	if err != nil {
		return org, nil, nil, nil, err
	}
	a := orgmodel.Actor{Via: "sso", RemoteAddr: clientIP(r)}
	if req != nil && req.TestBy != "" {
		// A test connection logs nobody in; the email must still be one
		// the organization may log in (R-SSO-1).
		if err := h.svc.CheckSSOEmail(ctx, org, email); err != nil {
			return org, nil, nil, nil, err
		}
		return org, &orgmodel.User{Email: email}, req, assertion, nil
	}
	u, err := h.svc.SSOLogin(ctx, a, org, email)
	if err != nil {
		return org, nil, nil, nil, err
	}
	return org, u, req, assertion, nil
}

// precheck refuses what crewjam/saml does not, before it parses anything:
// a DOCTYPE (or any <!…> declaration), and a document that holds other
// than exactly one Assertion element anywhere (a second one, wrapped or
// not, is an attack; encrypted assertions are not accepted, since the SP
// publishes no encryption key). It returns the Response's InResponseTo,
// unverified, to find the tracked request.
func precheck(doc []byte) (string, error) {
	if err := refuseDirectives(doc); err != nil {
		return "", refuse("the response %v", err)
	}
	d := etree.NewDocument()
	d.ReadSettings.Permissive = false
	if err := d.ReadFromBytes(doc); err != nil {
		return "", refuse("the response is not XML: %v", err)
	}
	root := d.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:protocol" {
		return "", refuse("the document is not a SAML 2.0 Response")
	}
	n := 0
	var walk func(e *etree.Element) error
	walk = func(e *etree.Element) error {
		switch e.Tag {
		case "Assertion":
			n++
		case "EncryptedAssertion", "EncryptedID", "EncryptedAttribute":
			return refuse("the response holds an encrypted %s; the SP publishes no encryption key", e.Tag)
		}
		for _, c := range e.ChildElements() {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return "", err
	}
	if n != 1 {
		return "", refuse("the response holds %d Assertion elements, not exactly 1", n)
	}
	return root.SelectAttrValue("InResponseTo", ""), nil
}

// assertedEmail is the email a verified assertion logs in: the NameID in
// the emailAddress (or unspecified) format, or the one value of the
// configured attribute.
func assertedEmail(a *saml.Assertion, attr string) (string, error) {
	if attr == "" {
		if a.Subject == nil || a.Subject.NameID == nil {
			return "", refuse("the assertion has no NameID")
		}
		switch saml.NameIDFormat(a.Subject.NameID.Format) {
		case saml.EmailAddressNameIDFormat, saml.UnspecifiedNameIDFormat, "":
		default:
			return "", refuse("the NameID format %q is not emailAddress; configure an email attribute", a.Subject.NameID.Format)
		}
		return strings.TrimSpace(a.Subject.NameID.Value), nil
	}
	var vals []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == attr || at.FriendlyName == attr {
				for _, v := range at.Values {
					vals = append(vals, strings.TrimSpace(v.Value))
				}
			}
		}
	}
	if len(vals) != 1 {
		return "", refuse("the assertion carries %d values of the email attribute %q, not 1", len(vals), attr)
	}
	return vals[0], nil
}

// localPath returns p when it is a local absolute path (no scheme, host,
// "//", backslash or control character), else "".
func localPath(p string) string {
	if p == "" || len(p) > 2048 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return ""
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return p
}

// replayUntil is how long an assertion's ID must be remembered: past
// every deadline crewjam/saml would still accept it at (its IssueInstant
// plus the issue delay, its NotOnOrAfter times), each with the clock skew.
func replayUntil(a *saml.Assertion) time.Time {
	until := a.IssueInstant.Add(saml.MaxIssueDelay)
	if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(until) {
		until = a.Conditions.NotOnOrAfter
	}
	if a.Subject != nil {
		for _, c := range a.Subject.SubjectConfirmations {
			if d := c.SubjectConfirmationData; d != nil && d.NotOnOrAfter.After(until) {
				until = d.NotOnOrAfter
			}
		}
	}
	return until.Add(saml.MaxClockSkew)
}
