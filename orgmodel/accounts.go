package orgmodel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AccountResult is an account with its auth token, shown once at creation.
type AccountResult struct {
	AccountView
	AuthToken string `json:"auth_token,omitempty"`
}

// BillingAccount is the account that pays for a: itself, or its parent for
// a subaccount (R-HIER-5). It is never the organization: billing is not
// consolidated at organization level (R-HIER-6).
func (a *Account) BillingAccount() AccountSID {
	if a.ParentSID != "" {
		return a.ParentSID
	}
	return a.SID
}

// createVias are the surfaces accounts in an organization may be created
// from: the console and the operator's CLI, never the Organizations API
// (R-ACCT-4).
var createVias = map[string]bool{"": true, "cli": true, "console": true}

// CreateAccount creates a managed trial account named name (R-ACCT-2):
// any managed user may; the creator owns it; it joins the organization as
// managed (R-ACCT-7), within the organization's limit (R-HIER-3), with fresh
// defaults (R-HIER-7) and the HIPAA flag set when a BAA is recorded
// (R-HIPAA-3). The Organizations API may not create accounts (R-ACCT-4).
func (s *Service) CreateAccount(ctx context.Context, a Actor, org OrgSID, name, usage string) (*AccountResult, error) {
	if !createVias[a.Via] {
		return nil, Breaks("R-ACCT-4", KindForbidden, "accounts within an organization are created only from the admin console (subaccounts are created under their parent account)")
	}
	if err := org.check("org"); err != nil {
		return nil, err
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	u, err := ParseUsage(usage)
	if err != nil {
		return nil, err
	}
	var res *AccountResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.LockOrg(ctx, org)
		if err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		actor, err := s.authorize(ctx, tx, a, org, permMember, "create accounts")
		if err != nil {
			return err
		}
		owner := o.OwnerSID
		if actor != nil {
			owner = actor.SID
		}
		acct, token, err := s.newManagedAccount(ctx, tx, a, o, owner, name, u)
		if err != nil {
			return err
		}
		res = &AccountResult{AccountView{*acct, RelationManaged}, token}
		return nil
	})
	return res, err
}

// managedCount counts what R-HIER-3 limits: the organization's top-level
// accounts that are not closed, and the imports pending into it.
func managedCount(ctx context.Context, tx Tx, org OrgSID) (int, error) {
	n, err := tx.CountAccounts(ctx, AccountFilter{OrgSID: org, TopLevel: true, NotClosed: true})
	if err != nil {
		return 0, err
	}
	links, err := tx.ListLinks(ctx, org, "")
	if err != nil {
		return 0, err
	}
	for _, l := range links {
		if l.Relation == RelationPending {
			n++
		}
	}
	return n, nil
}

func checkAccountLimit(o *Org, have, adding int) error {
	if have+adding > o.AccountLimit {
		return Breaks("R-HIER-3", KindConflict, "the organization holds %d managed accounts (pending imports included) and its limit is %d; an operator can raise the limit", have, o.AccountLimit)
	}
	return nil
}

// newManagedAccount writes a fresh managed trial account of o owned by owner.
func (s *Service) newManagedAccount(ctx context.Context, tx Tx, a Actor, o *Org, owner UserSID, name string, usage Usage) (*Account, string, error) {
	n, err := managedCount(ctx, tx, o.SID)
	if err != nil {
		return nil, "", err
	}
	if err := checkAccountLimit(o, n, 1); err != nil {
		return nil, "", err
	}
	now := s.Now()
	token := randomHex(16)
	acct := &Account{
		SID: AccountSID(NewSID(PrefixAccount)), FriendlyName: name, OrgSID: o.SID, OwnerSID: owner,
		Usage: usage, Type: AccountTrial, Status: AccountActive, HIPAA: o.BAAAt != nil,
		AuthTokenHash: HashToken(token), CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateAccount(ctx, acct); err != nil {
		return nil, "", err
	}
	if err := s.audit(ctx, tx, a, o.SID, "account.create", string(acct.SID), nil, acct); err != nil {
		return nil, "", err
	}
	return acct, token, nil
}

// GetAccount returns an account as the actor's organization sees it.
func (s *Service) GetAccount(ctx context.Context, a Actor, sid AccountSID) (*AccountView, error) {
	var out *AccountView
	err := s.store.Read(ctx, func(tx Tx) error {
		acct, ac, err := s.accountAccess(ctx, tx, a, sid)
		if err != nil {
			return err
		}
		out = &AccountView{*acct, ac.rel}
		return nil
	})
	return out, err
}

// ListAccounts lists what org holds: managed accounts and their
// subaccounts, pending imports and independent accounts (R-ACCT-1). A
// Standard user sees only the accounts it owns or was granted (R-ROLE-3).
func (s *Service) ListAccounts(ctx context.Context, a Actor, org OrgSID) ([]*AccountView, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*AccountView
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		actor, err := s.authorize(ctx, tx, a, org, permMember, "list accounts")
		if err != nil {
			return err
		}
		all, err := tx.ListAccounts(ctx, AccountFilter{OrgSID: org})
		if err != nil {
			return err
		}
		linked, err := tx.ListLinkedAccounts(ctx, org)
		if err != nil {
			return err
		}
		reach := func(AccountSID) bool { return true }
		if actor != nil && actor.Role == RoleStandard {
			grants, err := tx.ListGrants(ctx, GrantFilter{UserSID: actor.SID})
			if err != nil {
				return err
			}
			ok := map[AccountSID]bool{}
			for _, g := range grants {
				ok[g.AccountSID] = true
			}
			for _, acct := range all {
				if acct.OwnerSID == actor.SID {
					ok[acct.SID] = true
				}
			}
			reach = func(sid AccountSID) bool { return ok[sid] }
		}
		out = make([]*AccountView, 0, len(all)+len(linked))
		for _, acct := range all {
			rel, top := RelationManaged, acct.SID
			if acct.ParentSID != "" {
				rel, top = RelationSubaccount, acct.ParentSID
			}
			if reach(top) {
				out = append(out, &AccountView{*acct, rel})
			}
		}
		for _, v := range linked {
			if reach(v.SID) && (actor == nil || actor.Role != RoleStandard || v.Relation == RelationIndependent) {
				out = append(out, v)
			}
		}
		return nil
	})
	return out, err
}

// mutateAccount runs one lifecycle change on an account the actor may
// manage, locking its managing organization and auditing the change.
func (s *Service) mutateAccount(ctx context.Context, a Actor, sid AccountSID, action, what string, needOrgAdmin bool,
	fn func(tx Tx, acct *Account, ac access) error) (*AccountView, error) {
	var out *AccountView
	err := s.store.InTx(ctx, func(tx Tx) error {
		acct, ac, err := s.accountAccess(ctx, tx, a, sid)
		if err != nil {
			return err
		}
		if err := ac.mayManage(what); err != nil {
			return err
		}
		if needOrgAdmin && !ac.orgAdmin {
			return Breaks("R-ROLE-3", KindForbidden, "only the Owner or an Administrator may %s", what)
		}
		if _, err := tx.LockOrg(ctx, acct.OrgSID); err != nil {
			return err
		}
		if acct, err = tx.GetAccount(ctx, sid); err != nil { // re-read under the lock
			return err
		}
		before := clone(acct)
		if err := fn(tx, acct, ac); err != nil {
			return err
		}
		acct.UpdatedAt = s.Now()
		if err := tx.UpdateAccount(ctx, acct); err != nil {
			return err
		}
		out = &AccountView{*acct, ac.rel}
		return s.audit(ctx, tx, a, acct.OrgSID, action, string(acct.SID), before, acct)
	})
	return out, err
}

// RenameAccount changes an account's friendly name (R-ACCT-8 for
// independent accounts). An account's own credential may rename it.
func (s *Service) RenameAccount(ctx context.Context, a Actor, sid AccountSID, name string) (*AccountView, error) {
	name, err := CheckName("friendly_name", name)
	if err != nil {
		return nil, err
	}
	var out *AccountView
	err = s.store.InTx(ctx, func(tx Tx) error {
		acct, ac, err := s.accountAccess(ctx, tx, a, sid)
		if err != nil {
			return err
		}
		if !ac.self {
			if err := ac.mayManage("rename"); err != nil {
				return err
			}
		}
		before := clone(acct)
		acct.FriendlyName, acct.UpdatedAt = name, s.Now()
		if err := tx.UpdateAccount(ctx, acct); err != nil {
			return err
		}
		out = &AccountView{*acct, ac.rel}
		return s.audit(ctx, tx, a, acct.OrgSID, "account.rename", string(acct.SID), before, acct)
	})
	return out, err
}

// SetAccountStatus suspends, reactivates or closes an account (R-ACCT-9):
// closed is final, a parent's suspension or closure acts on its
// subaccounts, and a subaccount cannot be active under an inactive parent.
// Independent accounts are refused (R-ACCT-8).
func (s *Service) SetAccountStatus(ctx context.Context, a Actor, sid AccountSID, status AccountStatus) (*AccountView, error) {
	switch status {
	case AccountActive, AccountSuspended, AccountClosed:
	default:
		return nil, Invalid("status", "status %q is not active, suspended or closed", status)
	}
	verb := map[AccountStatus]string{AccountActive: "reactivate", AccountSuspended: "suspend", AccountClosed: "close"}[status]
	return s.mutateAccount(ctx, a, sid, "account."+verb, verb, false, func(tx Tx, acct *Account, ac access) error {
		if acct.Status == AccountClosed {
			return Breaks("R-ACCT-9", KindConflict, "account %s is closed; closed is final", acct.SID)
		}
		if acct.Status == status {
			return nil
		}
		if acct.ParentSID != "" && status == AccountActive {
			parent, err := tx.GetAccount(ctx, acct.ParentSID)
			if err != nil {
				return err
			}
			if parent.Status != AccountActive {
				return Breaks("R-ACCT-9", KindConflict, "the parent account %s is %s; reactivate it first", parent.SID, parent.Status)
			}
		}
		acct.Status, acct.SuspendedWithParent = status, false
		if acct.ParentSID == "" {
			return s.cascadeStatus(ctx, tx, a, acct, status)
		}
		return nil
	})
}

// cascadeStatus applies a parent's new status to its subaccounts (R-ACCT-9).
func (s *Service) cascadeStatus(ctx context.Context, tx Tx, a Actor, parent *Account, status AccountStatus) error {
	subs, err := tx.ListAccounts(ctx, AccountFilter{ParentSID: parent.SID, NotClosed: true})
	if err != nil {
		return err
	}
	now := s.Now()
	for _, sub := range subs {
		before := clone(sub)
		switch {
		case status == AccountClosed:
			sub.Status, sub.SuspendedWithParent = AccountClosed, false
		case status == AccountSuspended && sub.Status == AccountActive:
			sub.Status, sub.SuspendedWithParent = AccountSuspended, true
		case status == AccountActive && sub.SuspendedWithParent:
			sub.Status, sub.SuspendedWithParent = AccountActive, false
		default:
			continue
		}
		sub.UpdatedAt = now
		if err := tx.UpdateAccount(ctx, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, sub.OrgSID, "account.status_with_parent", string(sub.SID), before, sub); err != nil {
			return err
		}
	}
	return nil
}

// SetHIPAA sets or clears an account's HIPAA flag: Owner or Administrator
// only (R-HIPAA-2), after a BAA is recorded (R-HIPAA-1), never on an
// independent account (R-ACCT-8).
func (s *Service) SetHIPAA(ctx context.Context, a Actor, sid AccountSID, on bool) (*AccountView, error) {
	return s.mutateAccount(ctx, a, sid, "account.hipaa", "set the HIPAA flag", true, func(tx Tx, acct *Account, _ access) error {
		if on {
			o, err := tx.GetOrg(ctx, acct.OrgSID)
			if err != nil {
				return err
			}
			if o.BAAAt == nil {
				return Breaks("R-HIPAA-1", KindConflict, "the organization has no executed BAA recorded; record it before designating accounts for HIPAA")
			}
		}
		if acct.Status == AccountClosed {
			return Breaks("R-ACCT-9", KindConflict, "account %s is closed; closed is final", acct.SID)
		}
		acct.HIPAA = on
		return nil
	})
}

// UpgradeAccount turns a trial account into a full one (operator only),
// which raises R-HIER-4's subaccount limit.
func (s *Service) UpgradeAccount(ctx context.Context, a Actor, sid AccountSID) (*AccountView, error) {
	if !a.Operator {
		return nil, Breaks("R-HIER-4", KindForbidden, "only an operator upgrades accounts")
	}
	return s.mutateAccount(ctx, a, sid, "account.upgrade", "upgrade", false, func(tx Tx, acct *Account, _ access) error {
		if acct.ParentSID != "" {
			return Invalid("account", "%s is a subaccount; upgrade its parent %s", acct.SID, acct.ParentSID)
		}
		if acct.Status == AccountClosed {
			return Breaks("R-ACCT-9", KindConflict, "account %s is closed; closed is final", acct.SID)
		}
		acct.Type = AccountFull
		subs, err := tx.ListAccounts(ctx, AccountFilter{ParentSID: acct.SID})
		if err != nil {
			return err
		}
		for _, sub := range subs {
			sub.Type, sub.UpdatedAt = AccountFull, s.Now()
			if err := tx.UpdateAccount(ctx, sub); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetSubaccountLimit sets R-HIER-4's limit for one parent account
// (operator only); 0 restores the default.
func (s *Service) SetSubaccountLimit(ctx context.Context, a Actor, sid AccountSID, limit int) (*AccountView, error) {
	if !a.Operator {
		return nil, Breaks("R-HIER-4", KindForbidden, "only an operator changes subaccount limits")
	}
	if limit < 0 || limit > 1_000_000 {
		return nil, Invalid("limit", "limit %d is out of range (0 to 1000000)", limit)
	}
	return s.mutateAccount(ctx, a, sid, "account.subaccount_limit", "set the subaccount limit", false, func(tx Tx, acct *Account, _ access) error {
		if acct.ParentSID != "" {
			return Breaks("R-HIER-1", KindInvalid, "%s is a subaccount; subaccounts have no subaccounts", acct.SID)
		}
		acct.SubaccountLimit = limit
		return nil
	})
}

// RotateAuthToken replaces an account's auth token and returns the new one.
func (s *Service) RotateAuthToken(ctx context.Context, a Actor, sid AccountSID) (*AccountResult, error) {
	token := randomHex(16)
	v, err := s.mutateAccount(ctx, a, sid, "account.auth_token_rotate", "rotate the auth token", false, func(tx Tx, acct *Account, _ access) error {
		acct.AuthTokenHash = HashToken(token)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &AccountResult{*v, token}, nil
}

// TransferAccount gives an account to another managed user of the same
// organization, by SID or email (R-ACCT-5): never to an independent user or
// a user of another organization. Owner or Administrator only (R-ROLE-3).
func (s *Service) TransferAccount(ctx context.Context, a Actor, sid AccountSID, to string) (*AccountView, error) {
	return s.mutateAccount(ctx, a, sid, "account.transfer", "transfer ownership", true, func(tx Tx, acct *Account, _ access) error {
		if acct.ParentSID != "" {
			return Invalid("account", "%s is a subaccount; subaccounts belong to their parent and have no owner of their own", acct.SID)
		}
		nu, err := resolveMember(ctx, tx, acct.OrgSID, to)
		if errors.Is(err, ErrNotFound) {
			return Breaks("R-ACCT-5", KindForbidden, "%s is not a managed user of this organization; accounts move only between managed users of the same organization", to)
		} else if err != nil {
			return err
		}
		if nu.Status != UserActive {
			return Breaks("R-ACCT-5", KindForbidden, "%s is deactivated; accounts move only to active managed users", nu.SID)
		}
		acct.OwnerSID = nu.SID
		return nil
	})
}

// CreateSubaccount creates a subaccount under parent (R-HIER-1: parents are
// top-level accounts; R-HIER-4: within the parent's limit; R-HIPAA-3: it
// inherits the parent's HIPAA flag; R-ACCT-9: the parent must be active).
func (s *Service) CreateSubaccount(ctx context.Context, a Actor, parent AccountSID, name string) (*AccountResult, error) {
	name, err := CheckName("friendly_name", name)
	if err != nil {
		return nil, err
	}
	var res *AccountResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		p, ac, err := s.accountAccess(ctx, tx, a, parent)
		if err != nil {
			return err
		}
		if p.ParentSID != "" {
			return Breaks("R-HIER-1", KindInvalid, "%s is a subaccount; a subaccount cannot have subaccounts", p.SID)
		}
		if !ac.self {
			if err := ac.mayManage("create subaccounts"); err != nil {
				return err
			}
		}
		if _, err := tx.LockOrg(ctx, p.OrgSID); err != nil {
			return err
		}
		if p.Status != AccountActive {
			return Breaks("R-ACCT-9", KindConflict, "the parent account %s is %s; subaccounts are created under active accounts only", p.SID, p.Status)
		}
		n, err := tx.CountAccounts(ctx, AccountFilter{ParentSID: p.SID, NotClosed: true})
		if err != nil {
			return err
		}
		if limit := p.MaxSubaccounts(); n >= limit {
			return Breaks("R-HIER-4", KindConflict, "account %s (%s) holds %d subaccounts and its limit is %d", p.SID, p.Type, n, limit)
		}
		now := s.Now()
		token := randomHex(16)
		sub := &Account{
			SID: AccountSID(NewSID(PrefixAccount)), FriendlyName: name, OrgSID: p.OrgSID, ParentSID: p.SID,
			Usage: p.Usage, Type: p.Type, Status: AccountActive, HIPAA: p.HIPAA,
			AuthTokenHash: HashToken(token), CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.CreateAccount(ctx, sub); err != nil {
			return err
		}
		res = &AccountResult{AccountView{*sub, RelationSubaccount}, token}
		return s.audit(ctx, tx, a, p.OrgSID, "subaccount.create", string(sub.SID), nil, sub)
	})
	return res, err
}

// ListSubaccounts lists the subaccounts of parent visible to a.
func (s *Service) ListSubaccounts(ctx context.Context, a Actor, parent AccountSID, f AccountFilter) ([]*Account, error) {
	var out []*Account
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, _, err := s.accountAccess(ctx, tx, a, parent); err != nil {
			return err
		}
		f.ParentSID = parent
		var err error
		out, err = tx.ListAccounts(ctx, f)
		return err
	})
	return out, err
}

// ImportAccount asks to bring an existing account of another organization
// into org (R-ACCT-3): its owner must have an email on one of org's verified
// domains (not Blocked, R-DOM-3), must not be the Owner of the account's
// current organization (R-ACCT-6: merge that organization instead) and must
// own no other account there; the import counts toward R-HIER-3. The
// account becomes pending and its owner is mailed a confirmation link.
func (s *Service) ImportAccount(ctx context.Context, a Actor, org OrgSID, sid AccountSID) (*AccountView, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if err := sid.check("account"); err != nil {
		return nil, err
	}
	var out *AccountView
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.LockOrg(ctx, org)
		if err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "add accounts"); err != nil {
			return err
		}
		acct, err := tx.GetAccount(ctx, sid)
		if err != nil {
			return notFoundAs(err, "account", string(sid))
		}
		if l, err := tx.GetLink(ctx, org, sid); err == nil {
			if l.Relation == RelationPending {
				return Breaks("R-ACCT-3", KindConflict, "account %s is already pending its owner's confirmation", sid)
			}
			return Breaks("R-ACCT-1", KindConflict, "account %s is independent for this organization; remove that link before importing it", sid)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := s.importClaim(ctx, tx, o, acct); err != nil {
			return err
		}
		owner, err := s.checkImport(ctx, tx, o, acct)
		if err != nil {
			return err
		}
		n, err := managedCount(ctx, tx, org)
		if err != nil {
			return err
		}
		if err := checkAccountLimit(o, n, 1); err != nil {
			return err
		}
		now := s.Now()
		token := newToken("imp_")
		l := &AccountLink{OrgSID: org, AccountSID: sid, Relation: RelationPending, RequestedBy: a.id(),
			TokenHash: HashToken(token), ExpiresAt: ptr(now.Add(ImportTTL)), CreatedAt: now}
		if err := tx.PutLink(ctx, l); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, org, "account.import_request", string(sid), nil, l); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, acct.OrgSID, "account.import_request", string(sid), nil, l); err != nil {
			return err
		}
		body := fmt.Sprintf("The organization %q asked to manage your account %q (%s).\n\n"+
			"If you confirm, the account and your user move into that organization, where you become a Standard user.\n"+
			"Confirm or refuse before %s:\n%s\n\nIf you do nothing, nothing changes.\n",
			o.FriendlyName, acct.FriendlyName, acct.SID, l.ExpiresAt.Format(time.RFC1123), s.link("/console/confirm-import?token="+token))
		if err := s.enqueueMail(ctx, tx, "import-confirmation", owner.Email, "Confirm moving your account to "+o.FriendlyName, body); err != nil {
			return err
		}
		out = &AccountView{*acct, RelationPending}
		return nil
	})
	return out, err
}

// checkImport applies R-ACCT-3's conditions on acct and its owner for o.
// importClaim refuses the import of another organization's account whose
// owner has no email on a verified domain of o (R-ACCT-3) exactly as an
// account that does not exist is refused: until o has proved the owner's
// domain, it learns nothing of the account — not that it exists, is a
// subaccount or closed, nor anything of its owner.
func (s *Service) importClaim(ctx context.Context, tx Tx, o *Org, acct *Account) error {
	if acct.OrgSID == o.SID {
		return nil
	}
	ownerSID := acct.OwnerSID
	if acct.ParentSID != "" { // a subaccount's owner is its parent's
		p, err := tx.GetAccount(ctx, acct.ParentSID)
		if err != nil {
			return notFoundAs(err, "account", string(acct.SID))
		}
		ownerSID = p.OwnerSID
	}
	owner, err := tx.GetUser(ctx, ownerSID)
	if errors.Is(err, ErrNotFound) {
		return NotFound("account", string(acct.SID))
	} else if err != nil {
		return err
	}
	d, err := tx.GetDomain(ctx, o.SID, owner.Domain())
	if errors.Is(err, ErrNotFound) || (err == nil && d.Status != DomainVerified) {
		return NotFound("account", string(acct.SID))
	}
	return err
}

func (s *Service) checkImport(ctx context.Context, tx Tx, o *Org, acct *Account) (*User, error) {
	switch {
	case acct.ParentSID != "":
		return nil, Breaks("R-HIER-1", KindInvalid, "%s is a subaccount; subaccounts move with their parent %s", acct.SID, acct.ParentSID)
	case acct.OrgSID == o.SID:
		return nil, Breaks("R-ACCT-3", KindConflict, "account %s is already managed by this organization", acct.SID)
	case acct.Status == AccountClosed:
		return nil, Breaks("R-ACCT-9", KindConflict, "account %s is closed; closed is final", acct.SID)
	}
	owner, err := tx.GetUser(ctx, acct.OwnerSID)
	if err != nil {
		return nil, err
	}
	d, err := tx.GetDomain(ctx, o.SID, owner.Domain())
	if errors.Is(err, ErrNotFound) || (err == nil && d.Status != DomainVerified) {
		return nil, Breaks("R-ACCT-3", KindForbidden, "the account's owner has no email on a verified domain of this organization")
	} else if err != nil {
		return nil, err
	}
	if d.Signup == SignupBlocked {
		return nil, Breaks("R-DOM-3", KindForbidden, "the account's owner has an email on %s, which is Blocked for this organization", d.Name)
	}
	if owner.Role == RoleOwner {
		return nil, Breaks("R-ACCT-6", KindConflict, "the account's owner is the Owner of its organization, whose accounts cannot leave it; merge that organization instead")
	}
	n, err := tx.CountAccounts(ctx, AccountFilter{OrgSID: acct.OrgSID, OwnerSID: owner.SID, TopLevel: true})
	if err != nil {
		return nil, err
	}
	if n > 1 {
		return nil, Breaks("R-ACCT-3", KindConflict, "the account's owner owns %d other accounts in its organization; they must own no other account there", n-1)
	}
	return owner, nil
}

// ConfirmImport is the owner's answer to a pending import (R-ACCT-3): only
// the account's owner may answer. On confirmation the account (with its
// subaccounts) becomes managed by the importing organization and its owner
// moves there as a Standard user (R-USER-2); on refusal nothing changes.
// org may be "" when only one organization asked.
func (s *Service) ConfirmImport(ctx context.Context, a Actor, sid AccountSID, org OrgSID, accept bool) (*AccountView, error) {
	if err := sid.check("account"); err != nil {
		return nil, err
	}
	var out *AccountView
	err := s.store.InTx(ctx, func(tx Tx) error {
		acct, err := tx.GetAccount(ctx, sid)
		if err != nil {
			return notFoundAs(err, "account", string(sid))
		}
		if a.UserSID == "" || a.UserSID != acct.OwnerSID {
			if a.Operator && a.UserSID == "" {
				return Breaks("R-ACCT-3", KindForbidden, "only the account's owner can confirm an import; act as the owner (--as US…)")
			}
			// Only the owner learns whether an import is pending; anyone
			// else is answered as for an account that does not exist.
			return NotFound("account", string(sid))
		}
		l, err := pendingLink(ctx, tx, sid, org)
		if err != nil {
			return err
		}
		v, err := s.answerImport(ctx, tx, a, acct, l, accept)
		out = v
		return err
	})
	return out, err
}

// ConfirmImportByToken answers a pending import with the mailed link.
func (s *Service) ConfirmImportByToken(ctx context.Context, a Actor, token string, accept bool) (*AccountView, error) {
	if token == "" {
		return nil, Invalid("token", "token is required")
	}
	var out *AccountView
	err := s.store.InTx(ctx, func(tx Tx) error {
		l, err := tx.GetLinkByTokenHash(ctx, HashToken(token))
		if err != nil {
			return notFoundAs(err, "pending import", "")
		}
		acct, err := tx.GetAccount(ctx, l.AccountSID)
		if err != nil {
			return err
		}
		a.UserSID = acct.OwnerSID
		v, err := s.answerImport(ctx, tx, a, acct, l, accept)
		out = v
		return err
	})
	return out, err
}

func pendingLink(ctx context.Context, tx Tx, sid AccountSID, org OrgSID) (*AccountLink, error) {
	links, err := tx.ListLinks(ctx, "", sid)
	if err != nil {
		return nil, err
	}
	var found []*AccountLink
	for _, l := range links {
		if l.Relation == RelationPending && (org == "" || l.OrgSID == org) {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 0:
		return nil, NotFound("pending import of account", string(sid))
	case 1:
		return found[0], nil
	}
	return nil, Invalid("org", "%d organizations asked to import account %s; name the one you answer", len(found), sid)
}

func (s *Service) answerImport(ctx context.Context, tx Tx, a Actor, acct *Account, l *AccountLink, accept bool) (*AccountView, error) {
	now := s.Now()
	if l.ExpiresAt != nil && !now.Before(*l.ExpiresAt) {
		return nil, Breaks("R-ACCT-3", KindConflict, "the import request expired on %s; nothing changed", l.ExpiresAt.Format(time.RFC1123))
	}
	if !accept {
		if err := tx.DeleteLink(ctx, l.OrgSID, l.AccountSID); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, a, l.OrgSID, "account.import_refuse", string(acct.SID), l, nil); err != nil {
			return nil, err
		}
		return &AccountView{*acct, RelationManaged}, nil
	}
	from := acct.OrgSID
	// Lock both organizations in SID order so that two imports never deadlock.
	first, second := from, l.OrgSID
	if second < first {
		first, second = second, first
	}
	if _, err := tx.LockOrg(ctx, first); err != nil {
		return nil, err
	}
	o, err := tx.LockOrg(ctx, second)
	if err != nil {
		return nil, err
	}
	if second != l.OrgSID {
		if o, err = tx.GetOrg(ctx, l.OrgSID); err != nil {
			return nil, err
		}
	}
	owner, err := s.checkImport(ctx, tx, o, acct)
	if err != nil {
		return nil, err
	}
	if err := s.checkInvitable(ctx, tx, o.SID, owner.Email, "R-ACCT-3"); err != nil && RuleOf(err) != "R-USER-2" {
		return nil, err
	}
	n, err := managedCount(ctx, tx, o.SID)
	if err != nil {
		return nil, err
	}
	if err := checkAccountLimit(o, n-1, 1); err != nil { // n counts this pending import already
		return nil, err
	}
	// Every other pending import of this account is moot now.
	links, err := tx.ListLinks(ctx, "", acct.SID)
	if err != nil {
		return nil, err
	}
	for _, other := range links {
		if other.Relation == RelationPending || other.OrgSID == o.SID {
			if err := tx.DeleteLink(ctx, other.OrgSID, other.AccountSID); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.MoveAccountTree(ctx, acct.SID, o.SID, now); err != nil {
		return nil, err
	}
	// The owner moves with the account as a Standard user (R-USER-2); what
	// the old organization granted them stays behind.
	if _, err := tx.DeleteUserGrants(ctx, owner.SID); err != nil {
		return nil, err
	}
	if _, err := tx.EndUserSessions(ctx, owner.SID, "moved_organization", now); err != nil {
		return nil, err
	}
	beforeOwner := clone(owner)
	owner.OrgSID, owner.Role = o.SID, RoleStandard
	if err := s.saveUser(ctx, tx, owner); err != nil {
		return nil, err
	}
	moved, err := tx.GetAccount(ctx, acct.SID)
	if err != nil {
		return nil, err
	}
	for _, org := range []OrgSID{from, o.SID} {
		if err := s.audit(ctx, tx, a, org, "account.import_confirm", string(acct.SID), acct, moved); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, a, org, "user.move", string(owner.SID), beforeOwner, owner); err != nil {
			return nil, err
		}
	}
	return &AccountView{*moved, RelationManaged}, nil
}

// LinkAccount makes acct an independent account of org: org's users may be
// granted access to it, but org never changes its lifecycle (R-ACCT-8). An
// account cannot be independent for the organization that manages it
// (R-ACCT-6). Owner or Administrator of the managing organization.
func (s *Service) LinkAccount(ctx context.Context, a Actor, sid AccountSID, org OrgSID) (*AccountLink, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out *AccountLink
	err := s.store.InTx(ctx, func(tx Tx) error {
		acct, ac, err := s.accountAccess(ctx, tx, a, sid)
		if err != nil {
			return err
		}
		if !ac.orgAdmin || ac.rel != RelationManaged {
			if ac.rel == RelationSubaccount {
				return Breaks("R-HIER-1", KindInvalid, "%s is a subaccount; link its parent", sid)
			}
			return Breaks("R-ROLE-3", KindForbidden, "only the Owner or an Administrator of the managing organization may share an account")
		}
		if acct.OrgSID == org {
			return Breaks("R-ACCT-6", KindConflict, "account %s is managed by %s; it cannot also be independent there", sid, org)
		}
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := tx.GetLink(ctx, org, sid); err == nil {
			return &RuleError{Kind: KindConflict, Msg: fmt.Sprintf("account %s is already linked to %s", sid, org)}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		l := &AccountLink{OrgSID: org, AccountSID: sid, Relation: RelationIndependent, RequestedBy: a.id(), CreatedAt: s.Now()}
		if err := tx.PutLink(ctx, l); err != nil {
			return err
		}
		out = l
		if err := s.audit(ctx, tx, a, acct.OrgSID, "account.link", string(sid), nil, l); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, org, "account.link", string(sid), nil, l)
	})
	return out, err
}

// UnlinkAccount ends an independent link, from either side; the grants org
// made on the account go with it.
func (s *Service) UnlinkAccount(ctx context.Context, a Actor, sid AccountSID, org OrgSID) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		acct, err := tx.GetAccount(ctx, sid)
		if err != nil {
			return notFoundAs(err, "account", string(sid))
		}
		_, errA := s.authorize(ctx, tx, a, org, permAdmin, "unlink accounts")
		_, errB := s.authorize(ctx, tx, a, acct.OrgSID, permAdmin, "unlink accounts")
		if errA != nil && errB != nil {
			if KindOf(errA) == KindNotFound && KindOf(errB) == KindNotFound {
				// An outsider of both organizations is answered as for
				// an account that does not exist.
				return NotFound("account", string(sid))
			}
			return errA
		}
		l, err := tx.GetLink(ctx, org, sid)
		if err != nil || l.Relation != RelationIndependent {
			return NotFound("independent link of account", string(sid))
		}
		grants, err := tx.ListGrants(ctx, GrantFilter{OrgSID: org, AccountSID: sid})
		if err != nil {
			return err
		}
		for _, g := range grants {
			if err := tx.DeleteGrant(ctx, g.AccountSID, g.UserSID); err != nil {
				return err
			}
		}
		if err := tx.DeleteLink(ctx, org, sid); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, org, "account.unlink", string(sid), l, nil)
	})
}
