package orgmodel

import (
	"context"
	"errors"
)

// Profile is a user's provisioned attributes (SCIM, bulk import).
type Profile struct {
	Email       string
	GivenName   string
	FamilyName  string
	DisplayName string
	ExternalID  string
	Locale      string
	Timezone    string
	Extra       string // JSON object of attributes kept as given
	Active      bool
}

func (p *Profile) check() error {
	for _, f := range []struct{ name, v string }{
		{"name.givenName", p.GivenName}, {"name.familyName", p.FamilyName}, {"displayName", p.DisplayName},
		{"externalId", p.ExternalID}, {"locale", p.Locale}, {"timezone", p.Timezone},
	} {
		if len(f.v) > MaxNameLen {
			return Invalid(f.name, "%s is longer than %d bytes", f.name, MaxNameLen)
		}
	}
	if len(p.Extra) > 64<<10 {
		return Invalid("extension", "extension attributes are larger than 64 KiB")
	}
	return nil
}

func (p *Profile) apply(u *User) {
	u.GivenName, u.FamilyName, u.DisplayName = p.GivenName, p.FamilyName, p.DisplayName
	u.ExternalID, u.Locale, u.Timezone, u.Extra = p.ExternalID, p.Locale, p.Timezone, p.Extra
}

// ProvisionUser creates a managed Standard user from an identity provider
// (R-SCIM-1): the email must be on a verified domain of the organization
// that is not Blocked (R-DOM-3), and the person must not belong to another
// organization (R-USER-2). The user has no password: it logs in through SSO
// or after a reset.
func (s *Service) ProvisionUser(ctx context.Context, a Actor, org OrgSID, p Profile) (*User, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail("userName", p.Email)
	if err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	// What the write stores is known before it starts, so the user, its
	// searchable terms and its audit snapshot are built outside it (on
	// SQLite, off the single writer).
	now := s.Now()
	u := &User{SID: UserSID(NewSID(PrefixUser)), Email: email, OrgSID: org, Role: RoleStandard,
		Status: UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
	if !p.Active {
		u.Status = UserInactive
	}
	p.apply(u)
	after, terms := snapshot(u), UserTerms(u)
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "provision users"); err != nil {
			return err
		}
		if err := s.checkInvitable(ctx, tx, org, email, "R-SCIM-1"); err != nil {
			return withRule(err, "R-SCIM-1")
		}
		if err := tx.CreateUserWithTerms(ctx, u, terms); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, org, "user.provision", string(u.SID), nil, after)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUserProfile replaces a managed user's provisioned attributes. A new
// email must satisfy R-SCIM-1 and R-USER-2; Active=false deactivates and
// ends every session (R-SCIM-2) and is refused for the Owner (R-ROLE-4).
// ifVersion, when > 0, must equal the user's version (KindPrecondition).
func (s *Service) UpdateUserProfile(ctx context.Context, a Actor, org OrgSID, sid UserSID, p Profile, ifVersion int64) (*User, error) {
	if _, err := NormalizeEmail("userName", p.Email); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return s.updateProfile(ctx, a, org, sid, ifVersion, func(*User) (Profile, error) { return p, nil })
}

// UpdateUserProfileWith is UpdateUserProfile with the new attributes built
// from the user as it is inside the write transaction, where no other
// write can change it: a read-modify-write (a SCIM PATCH, a replace that
// keeps the current status) that a concurrent write cannot make stale.
// build must have no side effects; an error it returns is returned as is.
func (s *Service) UpdateUserProfileWith(ctx context.Context, a Actor, org OrgSID, sid UserSID, ifVersion int64, build func(cur *User) (Profile, error)) (*User, error) {
	return s.updateProfile(ctx, a, org, sid, ifVersion, build)
}

func (s *Service) updateProfile(ctx context.Context, a Actor, org OrgSID, sid UserSID, ifVersion int64, build func(cur *User) (Profile, error)) (*User, error) {
	var out *User
	err := s.store.InTx(ctx, func(tx Tx) error {
		_, _, u, err := s.lockedMember(ctx, tx, a, org, sid, permAdmin, "update users")
		if err != nil {
			return err
		}
		if ifVersion > 0 && u.Version != ifVersion {
			return &RuleError{Kind: KindPrecondition, Msg: "the user was changed since the version given"}
		}
		p, err := build(clone(u))
		if err != nil {
			return err
		}
		email, err := NormalizeEmail("userName", p.Email)
		if err != nil {
			return err
		}
		if err := p.check(); err != nil {
			return err
		}
		before := clone(u)
		if EmailKey(email) != EmailKey(u.Email) {
			if err := s.checkInvitable(ctx, tx, org, email, "R-SCIM-1"); err != nil {
				return withRule(err, "R-SCIM-1")
			}
		}
		u.Email = email
		p.apply(u)
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, org, "user.update", string(u.SID), before, u); err != nil {
			return err
		}
		if err := s.setActiveTx(ctx, tx, a, u, p.Active); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// DeprovisionUser removes a managed user on the identity provider's
// request: every session ends at once (R-SCIM-2); the Owner cannot be
// deprovisioned (R-ROLE-4).
func (s *Service) DeprovisionUser(ctx context.Context, a Actor, org OrgSID, sid UserSID) error {
	return s.DeprovisionUserVersion(ctx, a, org, sid, 0)
}

// DeprovisionUserVersion is DeprovisionUser when the user's version is
// ifVersion (> 0; KindPrecondition otherwise), for clients that send
// If-Match.
func (s *Service) DeprovisionUserVersion(ctx context.Context, a Actor, org OrgSID, sid UserSID, ifVersion int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		o, _, u, err := s.lockedMember(ctx, tx, a, org, sid, permAdmin, "deprovision users")
		if err != nil {
			return err
		}
		if ifVersion > 0 && u.Version != ifVersion {
			return &RuleError{Kind: KindPrecondition, Msg: "the user was changed since the version given"}
		}
		return s.removeTx(ctx, tx, a, o, u, "user.deprovision")
	})
}

// FindUserByEmail returns org's user with email, for provisioning clients
// that match before they create.
func (s *Service) FindUserByEmail(ctx context.Context, a Actor, org OrgSID, email string) (*User, error) {
	norm, err := NormalizeEmail("userName", email)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "see users"); err != nil {
			return err
		}
		u, err := tx.GetUserByEmail(ctx, norm)
		if errors.Is(err, ErrNotFound) || (err == nil && u.OrgSID != org) {
			return NotFound("user", "")
		}
		out = u
		return err
	})
	return out, err
}
