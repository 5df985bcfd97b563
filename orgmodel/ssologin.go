package orgmodel

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// IdPConfig is a parsed SAML identity provider configuration (the sso
// package parses metadata; orgmodel keeps and governs it).
type IdPConfig struct {
	EntityID          string
	SSOURL            string
	MetadataXML       string
	MetadataURL       string
	AllowIdPInitiated bool
	EmailAttribute    string
}

// SetIdP configures org's one SAML identity provider (R-SSO-1); Owner or
// Administrator. A changed entity, URL or metadata must pass a new test
// login before enforcement can be turned on again; domains that enforce SSO
// keep enforcing (turning enforcement off is a separate, explicit change).
func (s *Service) SetIdP(ctx context.Context, a Actor, org OrgSID, c IdPConfig) (*IdP, error) {
	p, _, err := s.setIdP(ctx, a, org, c, nil)
	return p, err
}

// RefreshIdP stores c, metadata fetched again from org's metadata URL,
// only while the stored metadata is still was, the one the refresh
// started from: when another replica's refresh stored it first, or an
// administrator changed the configuration meanwhile, nothing is written
// and it reports false. So a refresh that every replica runs changes the
// configuration, and audits it, once.
func (s *Service) RefreshIdP(ctx context.Context, org OrgSID, was string, c IdPConfig) (bool, error) {
	_, changed, err := s.setIdP(ctx, SystemActor, org, c, &was)
	return changed, err
}

func (s *Service) setIdP(ctx context.Context, a Actor, org OrgSID, c IdPConfig, was *string) (*IdP, bool, error) {
	if err := org.check("org"); err != nil {
		return nil, false, err
	}
	if strings.TrimSpace(c.EntityID) == "" || len(c.EntityID) > 1024 {
		return nil, false, Invalid("entity_id", "the identity provider's entity ID is missing or longer than 1024 bytes")
	}
	u, err := url.Parse(c.SSOURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false, Invalid("sso_url", "the identity provider's SSO URL %q is not an http(s) URL", c.SSOURL)
	}
	if len(c.MetadataXML) > 1<<20 {
		return nil, false, Invalid("metadata", "the metadata is larger than 1 MiB")
	}
	var out *IdP
	changed := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorizeSetup(ctx, tx, a, org, permAdmin, "configure single sign-on"); err != nil {
			return err
		}
		now := s.Now()
		before, err := tx.GetIdP(ctx, org)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if was != nil && (before == nil || before.MetadataXML != *was || before.MetadataURL != c.MetadataURL) {
			out = before
			return nil
		}
		p := &IdP{OrgSID: org, EntityID: c.EntityID, SSOURL: c.SSOURL, MetadataXML: c.MetadataXML,
			MetadataURL: c.MetadataURL, AllowIdPInitiated: c.AllowIdPInitiated, EmailAttribute: c.EmailAttribute,
			CreatedAt: now, UpdatedAt: now}
		if before != nil {
			p.CreatedAt = before.CreatedAt
			if before.EntityID == p.EntityID && before.SSOURL == p.SSOURL && before.MetadataXML == p.MetadataXML {
				p.TestedAt = before.TestedAt
			}
		}
		if err := tx.PutIdP(ctx, p); err != nil {
			return err
		}
		out, changed = p, true
		return s.audit(ctx, tx, a, org, "sso.idp_set", string(org), before, p)
	})
	return out, changed, err
}

// GetIdP returns org's identity provider (any member).
func (s *Service) GetIdP(ctx context.Context, a Actor, org OrgSID) (*IdP, error) {
	var out *IdP
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorizeSetup(ctx, tx, a, org, permMember, "see single sign-on settings"); err != nil {
			return err
		}
		p, err := tx.GetIdP(ctx, org)
		out = p
		return notFoundAs(err, "identity provider of organization", string(org))
	})
	return out, err
}

// LoadIdP returns org's identity provider for the SAML endpoints, which act
// for no one until an assertion is verified.
func (s *Service) LoadIdP(ctx context.Context, org OrgSID) (*IdP, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out *IdP
	err := s.store.Read(ctx, func(tx Tx) error {
		p, err := tx.GetIdP(ctx, org)
		out = p
		return notFoundAs(err, "identity provider of organization", string(org))
	})
	return out, err
}

// MarkIdPTested records that a test login through org's IdP passed, which
// SSO enforcement requires (R-DOM-5).
func (s *Service) MarkIdPTested(ctx context.Context, a Actor, org OrgSID) (*IdP, error) {
	var out *IdP
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "test single sign-on"); err != nil {
			return err
		}
		p, err := tx.GetIdP(ctx, org)
		if err != nil {
			return notFoundAs(err, "identity provider of organization", string(org))
		}
		now := s.Now()
		p.TestedAt, p.UpdatedAt = &now, now
		if err := tx.PutIdP(ctx, p); err != nil {
			return err
		}
		out = p
		return s.audit(ctx, tx, a, org, "sso.idp_tested", string(org), nil, p)
	})
	return out, err
}

// SSOLogin resolves a verified assertion's email to the user it logs in
// (R-SSO-1): the email must be on one of org's verified domains, and the
// user must be an active managed user of org — or, on an Auto-enrollment
// domain, is created just in time as Standard (R-DOM-3). A user of another
// organization is never logged in here. The caller starts the session.
func (s *Service) SSOLogin(ctx context.Context, a Actor, org OrgSID, email string) (*User, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	norm, err := NormalizeEmail("email", email)
	if err != nil {
		return nil, Breaks("R-SSO-1", KindForbidden, "the assertion's email is not an email address")
	}
	// The common case, an existing user, needs no write: decide it in a
	// read transaction and take the write lock only to create a user.
	var out *User
	var jit bool
	err = s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		u, d, err := s.ssoUser(ctx, tx, org, norm)
		out, jit = u, u == nil && d != nil
		return err
	})
	if err != nil || !jit {
		return out, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		// Decided again under the lock: the person may have been created,
		// moved or the domain changed since the read.
		u, _, err := s.ssoUser(ctx, tx, org, norm)
		if err != nil || u != nil {
			out = u
			return err
		}
		now := s.Now()
		u = &User{SID: UserSID(NewSID(PrefixUser)), Email: norm, OrgSID: org, Role: RoleStandard,
			Status: UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		a.UserSID = u.SID
		out = u
		return s.audit(ctx, tx, a, org, "user.jit_provision", string(u.SID), nil, u)
	})
	return out, err
}

// ssoUser applies R-SSO-1, R-DOM-3, R-USER-2 and R-SCIM-2 to an
// assertion's email read in tx: it returns the user to log in, or, when
// the person may be created just in time (Auto-enrollment), no user and
// the domain; otherwise the refusal.
func (s *Service) ssoUser(ctx context.Context, tx Tx, org OrgSID, norm string) (*User, *Domain, error) {
	d, err := tx.GetDomain(ctx, org, EmailDomain(norm))
	if errors.Is(err, ErrNotFound) || (err == nil && d.Status != DomainVerified) {
		return nil, nil, Breaks("R-SSO-1", KindForbidden, "%s is not on a verified domain of the organization", norm)
	} else if err != nil {
		return nil, nil, err
	}
	if d.Signup == SignupBlocked {
		return nil, nil, Breaks("R-DOM-3", KindForbidden, "%s is Blocked for this organization", d.Name)
	}
	u, err := tx.GetUserByEmail(ctx, norm)
	switch {
	case err == nil && u.OrgSID != org:
		return nil, nil, Breaks("R-USER-2", KindForbidden, "the user belongs to another organization")
	case err == nil && u.Status != UserActive:
		return nil, nil, Breaks("R-SCIM-2", KindForbidden, "the user is deactivated")
	case err == nil:
		return u, nil, nil
	case !errors.Is(err, ErrNotFound):
		return nil, nil, err
	case d.Signup != SignupAutoEnrollment:
		return nil, nil, Breaks("R-DOM-3", KindForbidden, "%s has no user in the organization and its domain is not Auto-enrollment; ask for an invitation", norm)
	}
	return nil, d, nil
}
