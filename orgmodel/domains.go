package orgmodel

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DomainView is a domain with the TXT record that proves it (R-DOM-1).
type DomainView struct {
	Domain
	TXTName  string `json:"txt_name"`
	TXTValue string `json:"txt_value"`
}

func viewDomain(d *Domain) *DomainView {
	return &DomainView{Domain: *d, TXTName: d.TXTName(), TXTValue: d.TXTValue()}
}

// AddDomain registers an email domain for org and returns the TXT record
// to publish (R-DOM-1). The name must be bare (R-DOM-2) and not a common
// mail domain; the same domain may be registered by other organizations
// (R-DOM-4). Owner or Administrator (R-ROLE-3).
func (s *Service) AddDomain(ctx context.Context, a Actor, org OrgSID, domain string) (*DomainView, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	name, err := CheckRegistrableDomain("domain", domain)
	if err != nil {
		return nil, err
	}
	var out *DomainView
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "register domains"); err != nil {
			return err
		}
		if _, err := tx.GetDomain(ctx, org, name); err == nil {
			return &RuleError{Kind: KindConflict, Field: "domain", Msg: fmt.Sprintf("%s is already registered by this organization", name)}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		have, err := tx.ListDomains(ctx, org)
		if err != nil {
			return err
		}
		if len(have) >= MaxDomainsPerOrg {
			return &RuleError{Kind: KindConflict, Field: "domain", Msg: fmt.Sprintf("the organization has %d domains, the most it may register", len(have))}
		}
		now := s.Now()
		d := &Domain{
			SID: DomainSID(NewSID(PrefixDomain)), OrgSID: org, Name: name, Token: randomHex(16),
			Status: DomainUnverified, Signup: SignupRestricted, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.CreateDomain(ctx, d); err != nil {
			return err
		}
		out = viewDomain(d)
		return s.audit(ctx, tx, a, org, "domain.add", string(d.SID), nil, d)
	})
	return out, err
}

// ListDomains lists org's domains (any member).
func (s *Service) ListDomains(ctx context.Context, a Actor, org OrgSID) ([]*DomainView, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*DomainView
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permMember, "see domains"); err != nil {
			return err
		}
		ds, err := tx.ListDomains(ctx, org)
		for _, d := range ds {
			out = append(out, viewDomain(d))
		}
		return err
	})
	return out, err
}

// domainOf finds org's registration of name, for an actor allowed p.
func (s *Service) domainOf(ctx context.Context, tx Tx, a Actor, org OrgSID, name string, p perm, what string) (*Domain, error) {
	if _, err := tx.GetOrg(ctx, org); err != nil {
		return nil, notFoundAs(err, "organization", string(org))
	}
	if _, err := s.authorize(ctx, tx, a, org, p, what); err != nil {
		return nil, err
	}
	d, err := tx.GetDomain(ctx, org, name)
	return d, notFoundAs(err, "domain", name)
}

// lookupProof asks DNS for d's TXT record. found is false when the record
// is absent or holds other values; err is set only when DNS did not answer
// (a timeout or server failure says nothing about the record).
func (s *Service) lookupProof(ctx context.Context, d *Domain) (found bool, err error) {
	if s.resolver == nil {
		return false, errors.New("no DNS resolver configured")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	txts, err := s.resolver.LookupTXT(ctx, d.TXTName())
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	want := []byte(d.TXTValue())
	for _, t := range txts {
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(t)), want) == 1 {
			return true, nil
		}
	}
	return false, nil
}

// VerifyDomain looks up the domain's TXT record now and, when it holds the
// token, marks the domain verified (R-DOM-1). Owner or Administrator.
func (s *Service) VerifyDomain(ctx context.Context, a Actor, org OrgSID, domain string) (*DomainView, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	name, err := NormalizeDomain("domain", domain)
	if err != nil {
		return nil, err
	}
	var d *Domain
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		d, err = s.domainOf(ctx, tx, a, org, name, permAdmin, "verify domains")
		return err
	}); err != nil {
		return nil, err
	}
	// DNS is asked outside any transaction: it may take seconds.
	found, lerr := s.lookupProof(ctx, d)
	if lerr != nil {
		return nil, Breaks("R-DOM-1", KindConflict, "could not look up %s: the DNS server did not answer (%s); try again", d.TXTName(), dnsReason(lerr))
	}
	if !found {
		return nil, Breaks("R-DOM-1", KindConflict, "no TXT record %s holding %s was found; publish it and verify again", d.TXTName(), d.TXTValue())
	}
	var out *DomainView
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := s.domainOf(ctx, tx, a, org, name, permAdmin, "verify domains")
		if err != nil {
			return err
		}
		if cur.Token != d.Token {
			return Breaks("R-DOM-1", KindConflict, "the domain was registered again while it was being checked; verify again")
		}
		if IsCommonMailDomain(cur.Name) { // the list may have grown since it was added
			return Breaks("R-DOM-2", KindForbidden, "%s is a common mail domain; it can never be verified", cur.Name)
		}
		before := clone(cur)
		now := s.Now()
		if cur.Status != DomainVerified {
			cur.VerifiedAt = &now
		}
		cur.Status, cur.CheckedAt, cur.MissingSince, cur.UpdatedAt = DomainVerified, &now, nil, now
		if err := tx.UpdateDomain(ctx, cur); err != nil {
			return err
		}
		out = viewDomain(cur)
		return s.audit(ctx, tx, a, org, "domain.verify", string(cur.SID), before, cur)
	})
	return out, err
}

func dnsReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsTimeout:
			return "timeout"
		case de.IsTemporary:
			return "temporary failure"
		}
		return "lookup failed"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "lookup failed"
}

// DomainSettings changes a verified domain's sign-up setting (R-DOM-3)
// and SSO enforcement (R-DOM-5); nil fields stay as they are.
type DomainSettings struct {
	Signup      *SignupSetting
	SSOEnforced *bool
}

// ConfigureDomain applies settings to a verified domain of org (R-DOM-1,
// R-DOM-3). At most one organization may set Auto-enrollment or enforce SSO
// for a domain (R-DOM-4); SSO enforcement needs a configured, tested
// identity provider (R-SSO-1, R-DOM-5). Owner or Administrator.
func (s *Service) ConfigureDomain(ctx context.Context, a Actor, org OrgSID, domain string, set DomainSettings) (*DomainView, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	name, err := NormalizeDomain("domain", domain)
	if err != nil {
		return nil, err
	}
	var out *DomainView
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		d, err := s.domainOf(ctx, tx, a, org, name, permAdmin, "change domain settings")
		if err != nil {
			return err
		}
		if d.Status != DomainVerified {
			return Breaks("R-DOM-1", KindConflict, "%s is not verified; verify it before changing its settings", name)
		}
		before := clone(d)
		if set.Signup != nil {
			d.Signup = *set.Signup
		}
		if set.SSOEnforced != nil {
			d.SSOEnforced = *set.SSOEnforced
		}
		if d.SSOEnforced && !before.SSOEnforced {
			idp, err := tx.GetIdP(ctx, org)
			if errors.Is(err, ErrNotFound) {
				return Breaks("R-SSO-1", KindConflict, "the organization has no SAML identity provider; configure one before enforcing SSO on %s", name)
			} else if err != nil {
				return err
			}
			if idp.TestedAt == nil {
				return Breaks("R-DOM-5", KindConflict, "the identity provider has not passed a test login; test the connection before enforcing SSO on %s", name)
			}
		}
		if d.Signup == SignupAutoEnrollment || d.SSOEnforced {
			claims, err := tx.ListDomainClaims(ctx, name)
			if err != nil {
				return err
			}
			for _, c := range claims {
				if c.OrgSID != org && (c.Signup == SignupAutoEnrollment || c.SSOEnforced) {
					return Breaks("R-DOM-4", KindConflict, "another organization already sets Auto-enrollment or enforces SSO for %s; only one organization may, so that sign-ups and logins resolve to one organization", name)
				}
			}
		}
		d.UpdatedAt = s.Now()
		if err := tx.UpdateDomain(ctx, d); err != nil {
			return err
		}
		out = viewDomain(d)
		return s.audit(ctx, tx, a, org, "domain.configure", string(d.SID), before, d)
	})
	return out, err
}

// RemoveDomain unregisters a domain of org; what it enforced stops with it.
func (s *Service) RemoveDomain(ctx context.Context, a Actor, org OrgSID, domain string) error {
	if err := org.check("org"); err != nil {
		return err
	}
	name, err := NormalizeDomain("domain", domain)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		d, err := s.domainOf(ctx, tx, a, org, name, permAdmin, "remove domains")
		if err != nil {
			return err
		}
		if err := tx.DeleteDomain(ctx, d.SID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, org, "domain.remove", string(d.SID), d, nil)
	})
}

// RecheckDomains re-checks up to limit verified domains whose last check is
// older than DomainRecheck. A record missing for DomainGrace makes the
// domain unverified: its sign-up setting and SSO enforcement stop applying
// (R-DOM-1). Each replica claims its own batch. It returns how many it checked.
func (s *Service) RecheckDomains(ctx context.Context, limit int) (int, error) {
	now := s.Now()
	var batch []*Domain
	if err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		batch, err = tx.ClaimDomainChecks(ctx, now.Add(-DomainRecheck), now, limit)
		return err
	}); err != nil {
		return 0, err
	}
	for _, d := range batch {
		found, lerr := s.lookupProof(ctx, d)
		if lerr != nil {
			continue // DNS did not answer: no conclusion, try at the next round
		}
		if err := s.store.InTx(ctx, func(tx Tx) error {
			cur, err := tx.GetDomain(ctx, d.OrgSID, d.Name)
			if errors.Is(err, ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			if cur.Status != DomainVerified || cur.Token != d.Token {
				return nil
			}
			return s.recordCheck(ctx, tx, cur, found, s.Now())
		}); err != nil {
			return 0, err
		}
	}
	return len(batch), nil
}

func (s *Service) recordCheck(ctx context.Context, tx Tx, d *Domain, found bool, now time.Time) error {
	before := clone(d)
	d.CheckedAt, d.UpdatedAt = &now, now
	var action string
	switch {
	case found && d.MissingSince != nil:
		d.MissingSince, action = nil, "domain.record_restored"
	case found:
	case d.MissingSince == nil:
		d.MissingSince, action = &now, "domain.record_missing"
	case now.Sub(*d.MissingSince) >= DomainGrace:
		d.Status, d.VerifiedAt, d.SSOEnforced, d.MissingSince = DomainUnverified, nil, false, nil
		d.Signup = SignupRestricted
		action = "domain.unverify"
	}
	if err := tx.UpdateDomain(ctx, d); err != nil {
		return err
	}
	if action == "" {
		return nil
	}
	return s.audit(ctx, tx, SystemActor, d.OrgSID, action, string(d.SID), before, d)
}
