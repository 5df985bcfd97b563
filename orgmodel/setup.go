package orgmodel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SetupLink is a time-limited link an Owner or Administrator hands to the
// customer's IT administrator: it opens the single sign-on and SCIM setup
// of one organization, and nothing else, without a console account. Its
// token is stored hashed; revoking it, or its expiry, ends it at once on
// every replica, since every request reads its row.
type SetupLink struct {
	ID         string     `json:"id"`
	OrgSID     OrgSID     `json:"organization_sid"`
	Name       string     `json:"name"`
	TokenHash  string     `json:"-"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"date_created"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Live reports whether the link opens the setup pages at now.
func (l *SetupLink) Live(now time.Time) bool { return l.RevokedAt == nil && now.Before(l.ExpiresAt) }

// Setup link lifetimes and bounds.
const (
	SetupLinkMinTTL     = time.Hour
	SetupLinkMaxTTL     = 7 * 24 * time.Hour
	SetupLinkDefaultTTL = 72 * time.Hour
	// MaxLiveSetupLinks bounds the links of one organization that are
	// neither revoked nor expired.
	MaxLiveSetupLinks = 20
	setupTokenPrefix  = "setup_"
)

// SetupLinkResult is a new setup link; Token and URL are shown once.
type SetupLinkResult struct {
	SetupLink
	Token string `json:"token"`
	URL   string `json:"url"`
}

// CreateSetupLink issues a setup link for org valid for ttl (0 means
// SetupLinkDefaultTTL; at most SetupLinkMaxTTL): Owner or Administrator
// (R-ROLE-3). The link's actor is scoped to ScopeIdentitySetup, so it can
// never do more than configure SSO and SCIM, and a setup link cannot issue
// another.
func (s *Service) CreateSetupLink(ctx context.Context, a Actor, org OrgSID, name string, ttl time.Duration) (*SetupLinkResult, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if ttl == 0 {
		ttl = SetupLinkDefaultTTL
	}
	if ttl < SetupLinkMinTTL || ttl > SetupLinkMaxTTL {
		return nil, Invalid("ttl", "a setup link is valid between %s and %s", SetupLinkMinTTL, SetupLinkMaxTTL)
	}
	if name == "" {
		name = "setup"
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	var out *SetupLinkResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "create setup links"); err != nil {
			return err
		}
		now := s.Now()
		links, err := tx.ListSetupLinks(ctx, org)
		if err != nil {
			return err
		}
		live := 0
		for _, l := range links {
			if l.Live(now) {
				live++
			}
		}
		if live >= MaxLiveSetupLinks {
			return &RuleError{Kind: KindConflict, Field: "name", Msg: fmt.Sprintf("the organization has %d live setup links, the most it may have; revoke one first", live)}
		}
		token := newToken(setupTokenPrefix)
		l := &SetupLink{ID: randomHex(8), OrgSID: org, Name: name, TokenHash: HashToken(token),
			CreatedBy: a.id(), CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if err := tx.CreateSetupLink(ctx, l); err != nil {
			return err
		}
		out = &SetupLinkResult{SetupLink: *l, Token: token, URL: s.link("/console/setup?token=" + token)}
		return s.audit(ctx, tx, a, org, "setup_link.create", l.ID, nil, l)
	})
	return out, err
}

// ListSetupLinks lists org's setup links, live or not (never their tokens);
// Owner or Administrator.
func (s *Service) ListSetupLinks(ctx context.Context, a Actor, org OrgSID) ([]*SetupLink, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*SetupLink
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list setup links"); err != nil {
			return err
		}
		var err error
		out, err = tx.ListSetupLinks(ctx, org)
		return err
	})
	return out, err
}

// RevokeSetupLink ends one of org's setup links at once; Owner or
// Administrator. Revoking a revoked link changes nothing.
func (s *Service) RevokeSetupLink(ctx context.Context, a Actor, org OrgSID, id string) (*SetupLink, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if id == "" || len(id) > 64 {
		return nil, Invalid("id", "the setup link id is missing or too long")
	}
	var out *SetupLink
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "revoke setup links"); err != nil {
			return err
		}
		links, err := tx.ListSetupLinks(ctx, org)
		if err != nil {
			return err
		}
		var l *SetupLink
		for _, c := range links {
			if c.ID == id {
				l = c
			}
		}
		if l == nil {
			return NotFound("setup link", id)
		}
		out = l
		if l.RevokedAt != nil {
			return nil
		}
		before := clone(l)
		l.RevokedAt = ptr(s.Now())
		if err := tx.UpdateSetupLink(ctx, l); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, org, "setup_link.revoke", l.ID, before, l)
	})
	return out, err
}

// AuthenticateSetupLink returns the actor a setup link's token acts as: an
// agent of its organization scoped to ScopeIdentitySetup. Unknown, revoked
// and expired links are refused alike.
func (s *Service) AuthenticateSetupLink(ctx context.Context, token, via, remote string) (Actor, *SetupLink, error) {
	bad := Unauthenticated("the setup link is not valid: it may have expired or been revoked; ask your contact for a new one")
	if !strings.HasPrefix(token, setupTokenPrefix) || len(token) > 200 {
		return Actor{}, nil, bad
	}
	var l *SetupLink
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		l, err = tx.GetSetupLinkByHash(ctx, HashToken(token))
		return err
	}); errors.Is(err, ErrNotFound) {
		return Actor{}, nil, bad
	} else if err != nil {
		return Actor{}, nil, err
	}
	now := s.Now()
	if !l.Live(now) || !TokenMatches(l.TokenHash, token) {
		return Actor{}, nil, bad
	}
	if l.LastUsedAt == nil || now.Sub(*l.LastUsedAt) >= lastUsedGranularity {
		// Best effort: a failed write must not refuse a valid link.
		_ = s.store.InTx(ctx, func(tx Tx) error {
			l.LastUsedAt = &now
			return tx.UpdateSetupLink(ctx, l)
		})
	}
	return Actor{OrgSID: l.OrgSID, Scope: ScopeIdentitySetup, Label: "setup:" + l.ID, Via: via, RemoteAddr: remote}, l, nil
}

// CheckAdmin tells whether a may administer org (Owner or Administrator,
// R-ROLE-3), for adapters that gate whole pages on it; each command checks
// again. An outsider gets NotFound.
func (s *Service) CheckAdmin(ctx context.Context, a Actor, org OrgSID, what string) error {
	if err := org.check("org"); err != nil {
		return err
	}
	return s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		_, err := s.authorize(ctx, tx, a, org, permAdmin, what)
		return err
	})
}

// ImportRequest is a pending import as the account's owner sees it from
// the mailed link (R-ACCT-3).
type ImportRequest struct {
	AccountSID  AccountSID `json:"account_sid"`
	AccountName string     `json:"account_friendly_name"`
	OrgSID      OrgSID     `json:"organization_sid"`
	OrgName     string     `json:"organization_friendly_name"`
	ExpiresAt   time.Time  `json:"expires_at"`
}

// PendingImport returns the import a confirmation link answers, so that
// the owner sees what they are asked before answering. The token is the
// credential; an unknown, answered or expired link is refused alike.
func (s *Service) PendingImport(ctx context.Context, token string) (*ImportRequest, error) {
	bad := Invalid("token", "the confirmation link is not valid: it was answered already, or it expired (after 7 days nothing changes)")
	if token == "" || len(token) > 200 {
		return nil, bad
	}
	var out *ImportRequest
	err := s.store.Read(ctx, func(tx Tx) error {
		l, err := tx.GetLinkByTokenHash(ctx, HashToken(token))
		if err != nil {
			return err
		}
		if l.Relation != RelationPending || (l.ExpiresAt != nil && !s.Now().Before(*l.ExpiresAt)) {
			return ErrNotFound
		}
		acct, err := tx.GetAccount(ctx, l.AccountSID)
		if err != nil {
			return err
		}
		o, err := tx.GetOrg(ctx, l.OrgSID)
		if err != nil {
			return err
		}
		out = &ImportRequest{AccountSID: acct.SID, AccountName: acct.FriendlyName, OrgSID: o.SID, OrgName: o.FriendlyName}
		if l.ExpiresAt != nil {
			out.ExpiresAt = *l.ExpiresAt
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, bad
	}
	return out, err
}
