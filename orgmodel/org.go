package orgmodel

import (
	"context"
	"errors"
)

// GrantAccess gives a managed user access to an account their organization
// manages or holds as independent (R-ROLE-3, R-ACCT-8), with an
// account-scope role; Owner or Administrator of the user's organization.
// A second grant replaces the first.
func (s *Service) GrantAccess(ctx context.Context, a Actor, sid AccountSID, user UserSID, role string) (*Grant, error) {
	r, err := ParseAccountRole("role", role)
	if err != nil {
		return nil, err
	}
	if err := sid.check("account"); err != nil {
		return nil, err
	}
	if err := user.check("user"); err != nil {
		return nil, err
	}
	var out *Grant
	err = s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.GetUser(ctx, user)
		if err != nil {
			return notFoundAs(err, "user", string(user))
		}
		if _, err := s.authorize(ctx, tx, a, u.OrgSID, permAdmin, "grant account access"); err != nil {
			if KindOf(err) == KindNotFound {
				return NotFound("user", string(user))
			}
			return err
		}
		if _, err := tx.LockOrg(ctx, u.OrgSID); err != nil {
			return err
		}
		if _, err := s.grantableAccount(ctx, tx, u.OrgSID, sid); err != nil {
			return err
		}
		before, err := tx.GetGrant(ctx, sid, user)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		g := &Grant{SID: RoleAssignmentSID(NewSID(PrefixRoleAssignment)), AccountSID: sid, UserSID: user,
			OrgSID: u.OrgSID, Role: r, CreatedAt: s.Now()}
		if before != nil {
			g.SID, g.CreatedAt = before.SID, before.CreatedAt
		}
		if err := tx.PutGrant(ctx, g); err != nil {
			return err
		}
		// An explicit grant is the user's own: no group takes it away later.
		if err := tx.SetGroupGrantMark(ctx, sid, user, false); err != nil {
			return err
		}
		out = g
		return s.audit(ctx, tx, a, u.OrgSID, "account.grant", string(sid), before, g)
	})
	return out, err
}

// RevokeAccess removes a user's access to an account (R-ROLE-3).
func (s *Service) RevokeAccess(ctx context.Context, a Actor, sid AccountSID, user UserSID) error {
	if err := sid.check("account"); err != nil {
		return err
	}
	if err := user.check("user"); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GetGrant(ctx, sid, user)
		if err != nil {
			return notFoundAs(err, "grant on account", string(sid))
		}
		if _, err := s.authorize(ctx, tx, a, g.OrgSID, permAdmin, "revoke account access"); err != nil {
			if KindOf(err) == KindNotFound {
				return NotFound("grant on account", string(sid))
			}
			return err
		}
		if err := tx.DeleteGrant(ctx, sid, user); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, g.OrgSID, "account.revoke", string(sid), g, nil)
	})
}

// ListGrants lists the grants org made (R-ROLE-3: Owner or Administrator).
func (s *Service) ListGrants(ctx context.Context, a Actor, org OrgSID, f GrantFilter) ([]*Grant, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*Grant
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list access grants"); err != nil {
			return err
		}
		f.OrgSID = org
		var err error
		out, err = tx.ListGrants(ctx, f)
		return err
	})
	return out, err
}

// OrgInfo is an organization with counts, for `orgd org show`.
type OrgInfo struct {
	Org
	Users    int       `json:"users"`
	Accounts int       `json:"managed_accounts"`
	Domains  []*Domain `json:"domains"`
	BAA      bool      `json:"baa"`
}

// ShowOrg returns an organization to any of its members.
func (s *Service) ShowOrg(ctx context.Context, a Actor, org OrgSID) (*OrgInfo, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out *OrgInfo
	err := s.store.Read(ctx, func(tx Tx) error {
		o, err := tx.GetOrg(ctx, org)
		if err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permMember, "see the organization"); err != nil {
			return err
		}
		info := &OrgInfo{Org: *o, BAA: o.BAAAt != nil}
		if info.Users, err = tx.CountUsers(ctx, UserFilter{OrgSID: org}); err != nil {
			return err
		}
		if info.Accounts, err = tx.CountAccounts(ctx, AccountFilter{OrgSID: org, TopLevel: true, NotClosed: true}); err != nil {
			return err
		}
		if info.Domains, err = tx.ListDomains(ctx, org); err != nil {
			return err
		}
		out = info
		return nil
	})
	return out, err
}

// mutateOrg runs one change on an organization under its lock, with audit.
func (s *Service) mutateOrg(ctx context.Context, a Actor, org OrgSID, p perm, action, what string, fn func(tx Tx, o *Org) error) (*Org, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out *Org
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.LockOrg(ctx, org)
		if err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, p, what); err != nil {
			return err
		}
		before := clone(o)
		if err := fn(tx, o); err != nil {
			return err
		}
		o.UpdatedAt = s.Now()
		if err := tx.UpdateOrg(ctx, o); err != nil {
			return err
		}
		out = o
		return s.audit(ctx, tx, a, org, action, string(org), before, o)
	})
	return out, err
}

// RenameOrg changes the organization's friendly name (R-ROLE-3: settings).
func (s *Service) RenameOrg(ctx context.Context, a Actor, org OrgSID, name string) (*Org, error) {
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	return s.mutateOrg(ctx, a, org, permAdmin, "org.rename", "change settings", func(_ Tx, o *Org) error {
		o.FriendlyName = name
		return nil
	})
}

// SetAccountLimit sets how many managed accounts org may hold (R-HIER-3):
// operator only, never an organization's admin.
func (s *Service) SetAccountLimit(ctx context.Context, a Actor, org OrgSID, limit int) (*Org, error) {
	if !a.Operator {
		return nil, Breaks("R-HIER-3", KindForbidden, "only an operator changes an organization's account limit")
	}
	if limit < 1 || limit > 1_000_000 {
		return nil, Invalid("accounts", "account limit %d is out of range (1 to 1000000)", limit)
	}
	return s.mutateOrg(ctx, a, org, permAdmin, "org.account_limit", "set the account limit", func(_ Tx, o *Org) error {
		o.AccountLimit = limit
		return nil
	})
}

// EnableBulkImport turns on bulk user import for org (R-USER-6): operator only.
func (s *Service) EnableBulkImport(ctx context.Context, a Actor, org OrgSID, on bool) (*Org, error) {
	if !a.Operator {
		return nil, Breaks("R-USER-6", KindForbidden, "only an operator enables bulk import")
	}
	return s.mutateOrg(ctx, a, org, permAdmin, "org.bulk_import", "enable bulk import", func(_ Tx, o *Org) error {
		o.BulkImportEnabled = on
		return nil
	})
}

// RecordBAA records the organization's executed BAA, its HIPAA designation
// (R-HIPAA-1): accounts created afterwards start with the flag set
// (R-HIPAA-3); existing accounts keep theirs (R-HIPAA-2). The Owner or the
// operator records it.
func (s *Service) RecordBAA(ctx context.Context, a Actor, org OrgSID) (*Org, error) {
	return s.mutateOrg(ctx, a, org, permOwner, "org.baa_record", "record the BAA", func(_ Tx, o *Org) error {
		if o.BAAAt == nil {
			o.BAAAt = ptr(s.Now())
		}
		return nil
	})
}

// ListAudit returns audit events of org, newest first (Owner or
// Administrator); the operator may list every organization's with org "".
func (s *Service) ListAudit(ctx context.Context, a Actor, f AuditFilter) ([]*AuditEvent, error) {
	switch {
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit < 0 || f.Limit > 1000:
		return nil, Invalid("limit", "limit %d is out of range (1 to 1000)", f.Limit)
	}
	var out []*AuditEvent
	err := s.store.Read(ctx, func(tx Tx) error {
		if f.OrgSID == "" {
			if !a.Operator {
				return Invalid("org", "org is required")
			}
		} else {
			if err := f.OrgSID.check("org"); err != nil {
				return err
			}
			// The log outlives a merged organization: the operator may read
			// it; members need the organization to exist.
			if _, err := tx.GetOrg(ctx, f.OrgSID); errors.Is(err, ErrNotFound) && !a.Operator {
				return NotFound("organization", string(f.OrgSID))
			}
			if _, err := s.authorize(ctx, tx, a, f.OrgSID, permAdmin, "read the audit log"); err != nil {
				return err
			}
		}
		var err error
		out, err = tx.ListAudit(ctx, f)
		return err
	})
	return out, err
}
