package orgmodel

import (
	"context"
	"errors"
)

// access is what an actor may do with one account.
type access struct {
	rel      Relation // the account's relation to the actor's organization
	view     bool
	manage   bool // lifecycle: rename, suspend, close, subaccounts, keys
	orgAdmin bool // Owner or Administrator of the managing organization (or operator)
	self     bool // the actor is the account's own credential
}

// accountAccess loads acct and decides what a may do with it (R-ROLE-3,
// R-HIER-5, R-ACCT-8). Anything a may not see is NotFound.
func (s *Service) accountAccess(ctx context.Context, tx Tx, a Actor, sid AccountSID) (*Account, access, error) {
	var no access
	if err := sid.check("account"); err != nil {
		return nil, no, err
	}
	acct, err := tx.GetAccount(ctx, sid)
	if err != nil {
		return nil, no, notFoundAs(err, "account", string(sid))
	}
	top := acct
	if acct.ParentSID != "" {
		if top, err = tx.GetAccount(ctx, acct.ParentSID); err != nil {
			return nil, no, err
		}
	}
	rel := RelationManaged
	if acct.ParentSID != "" {
		rel = RelationSubaccount
	}
	hidden := NotFound("account", string(sid))
	if a.Scope != "" {
		// No scope reaches accounts (a setup link configures identity only).
		err := a.scopeAdmits(top.OrgSID, false, "reach accounts")
		if KindOf(err) == KindNotFound {
			err = hidden
		}
		return nil, no, err
	}
	switch {
	case a.Operator:
		return acct, access{rel: rel, view: true, manage: true, orgAdmin: true}, nil

	case a.AccountSID != "":
		// An account credential sees itself and, for a parent, its
		// subaccounts; never siblings (R-HIER-5).
		switch {
		case a.AccountSID == acct.SID:
			return acct, access{rel: rel, view: true, self: true}, nil
		case acct.ParentSID != "" && a.AccountSID == acct.ParentSID:
			return acct, access{rel: rel, view: true, manage: true}, nil
		}
		return nil, no, hidden

	case a.isAgent():
		if top.OrgSID == a.OrgSID {
			return acct, access{rel: rel, view: true, manage: true, orgAdmin: true}, nil
		}
		l, err := tx.GetLink(ctx, a.OrgSID, top.SID)
		if err == nil {
			return acct, access{rel: l.Relation, view: true}, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, no, err
		}
		return nil, no, hidden

	case a.UserSID != "":
		u, err := tx.GetUser(ctx, a.UserSID)
		if err != nil || u.Status != UserActive {
			return nil, no, hidden
		}
		isAdmin := u.Role == RoleOwner || u.Role == RoleAdministrator
		if top.OrgSID == u.OrgSID {
			if isAdmin {
				return acct, access{rel: rel, view: true, manage: true, orgAdmin: true}, nil
			}
			if top.OwnerSID == u.SID {
				return acct, access{rel: rel, view: true, manage: true}, nil
			}
			g, err := tx.GetGrant(ctx, top.SID, u.SID)
			if err == nil {
				return acct, access{rel: rel, view: true, manage: g.Role == AccountAdministrator}, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return nil, no, err
			}
			return nil, no, hidden
		}
		l, err := tx.GetLink(ctx, u.OrgSID, top.SID)
		if errors.Is(err, ErrNotFound) {
			return nil, no, hidden
		} else if err != nil {
			return nil, no, err
		}
		if isAdmin {
			return acct, access{rel: l.Relation, view: true}, nil
		}
		if l.Relation == RelationIndependent {
			if _, err := tx.GetGrant(ctx, top.SID, u.SID); err == nil {
				return acct, access{rel: l.Relation, view: true}, nil
			}
		}
		return nil, no, hidden
	}
	return nil, no, hidden
}

// mayManage refuses lifecycle changes the actor may not make: an
// organization never changes an independent (or pending) account (R-ACCT-8),
// and a user needs to own or administer the account (R-ROLE-3).
func (ac access) mayManage(what string) error {
	switch {
	case ac.rel == RelationIndependent || ac.rel == RelationPending:
		return Breaks("R-ACCT-8", KindForbidden, "the account is %s for this organization; its lifecycle (%s) is not the organization's to change, only access grants are", ac.rel, what)
	case !ac.manage:
		return Breaks("R-ROLE-3", KindForbidden, "you may not %s on this account", what)
	}
	return nil
}

// grantableAccount returns acct when org may grant access to it: org
// manages it (or its parent), or it is independent for org (R-ACCT-8).
func (s *Service) grantableAccount(ctx context.Context, tx Tx, org OrgSID, sid AccountSID) (*Account, error) {
	acct, err := tx.GetAccount(ctx, sid)
	if err != nil {
		return nil, notFoundAs(err, "account", string(sid))
	}
	top := acct
	if acct.ParentSID != "" {
		if top, err = tx.GetAccount(ctx, acct.ParentSID); err != nil {
			return nil, err
		}
	}
	if top.OrgSID == org {
		return acct, nil
	}
	l, err := tx.GetLink(ctx, org, top.SID)
	if err == nil && l.Relation == RelationIndependent {
		return acct, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return nil, NotFound("account", string(sid))
}

// ssoEnforced reports whether u must log in through its organization's IdP:
// its email domain is verified by its organization with SSO enforced
// (R-DOM-5). The Owner keeps password access as break-glass, so that a
// broken IdP cannot lock the organization out.
func (s *Service) ssoEnforced(ctx context.Context, tx Tx, u *User) (bool, error) {
	if u.Role == RoleOwner || u.OrgSID == "" {
		return false, nil
	}
	d, err := tx.GetDomain(ctx, u.OrgSID, u.Domain())
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return d.Status == DomainVerified && d.SSOEnforced, nil
}
