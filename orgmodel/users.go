package orgmodel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// memberOf loads user sid of org; a user of another organization is NotFound.
func memberOf(ctx context.Context, tx Tx, org OrgSID, sid UserSID) (*User, error) {
	if err := sid.check("user"); err != nil {
		return nil, err
	}
	u, err := tx.GetUser(ctx, sid)
	if errors.Is(err, ErrNotFound) || (err == nil && u.OrgSID != org) {
		return nil, NotFound("user", string(sid))
	}
	return u, err
}

// resolveMember finds a member of org by US… SID or email.
func resolveMember(ctx context.Context, tx Tx, org OrgSID, ref string) (*User, error) {
	if ValidSID(PrefixUser, ref) {
		return memberOf(ctx, tx, org, UserSID(ref))
	}
	email, err := NormalizeEmail("to", ref)
	if err != nil {
		return nil, Invalid("to", "%q is neither a user SID (US…) nor an email address", ref)
	}
	u, err := tx.GetUserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) || (err == nil && u.OrgSID != org) {
		return nil, NotFound("user", email)
	}
	return u, err
}

// GetUser returns a member of org, for any member of org (R-ROLE-3).
func (s *Service) GetUser(ctx context.Context, a Actor, org OrgSID, sid UserSID) (*User, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var u *User
	err := s.store.Read(ctx, func(tx Tx) error {
		// A user sees themselves; others are for the Owner and
		// Administrators (R-ROLE-3), as ListUsers and the console's Users
		// pages are.
		p := permAdmin
		if a.UserSID != "" && a.UserSID == sid {
			p = permMember
		}
		if _, err := s.authorize(ctx, tx, a, org, p, "see other users"); err != nil {
			return err
		}
		var err error
		u, err = memberOf(ctx, tx, org, sid)
		return err
	})
	return u, err
}

// ListUsers lists org's managed users (R-ROLE-3: Owner and Administrators;
// the operator and the organization's agents).
func (s *Service) ListUsers(ctx context.Context, a Actor, org OrgSID, f UserFilter) ([]*User, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*User
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list users"); err != nil {
			return err
		}
		f.OrgSID = org
		var err error
		out, err = tx.ListUsers(ctx, f)
		return err
	})
	return out, err
}

// notFoundAs turns a store miss into a NotFound naming the object.
func notFoundAs(err error, what, id string) error {
	if errors.Is(err, ErrNotFound) {
		return NotFound(what, id)
	}
	return err
}

// lockedMember locks org, authorizes a with p and loads the target member.
func (s *Service) lockedMember(ctx context.Context, tx Tx, a Actor, org OrgSID, target UserSID, p perm, what string) (*Org, *User, *User, error) {
	if err := org.check("org"); err != nil {
		return nil, nil, nil, err
	}
	o, err := tx.LockOrg(ctx, org)
	if err != nil {
		return nil, nil, nil, notFoundAs(err, "organization", string(org))
	}
	actor, err := s.authorize(ctx, tx, a, org, p, what)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := memberOf(ctx, tx, org, target)
	if err != nil {
		return nil, nil, nil, err
	}
	return o, actor, u, nil
}

// SetRole changes a member's role between Administrator and Standard
// (R-ROLE-3). The Owner's role changes only by transfer (R-ROLE-4).
func (s *Service) SetRole(ctx context.Context, a Actor, org OrgSID, target UserSID, role string) (*User, error) {
	r, err := ParseRole("role", role)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.store.InTx(ctx, func(tx Tx) error {
		_, _, u, err := s.lockedMember(ctx, tx, a, org, target, permAdmin, "change roles")
		if err != nil {
			return err
		}
		if u.Role == RoleOwner {
			return Breaks("R-ROLE-4", KindConflict, "%s is the Owner; the Owner role changes hands only by an ownership transfer", u.SID)
		}
		before := clone(u)
		u.Role = r
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		// An explicit role is the user's own: no group takes it away later.
		if err := tx.SetGroupRoleMark(ctx, u.SID, false); err != nil {
			return err
		}
		out = u
		return s.audit(ctx, tx, a, org, "user.role", string(u.SID), before, u)
	})
	return out, err
}

func (s *Service) saveUser(ctx context.Context, tx Tx, u *User) error {
	u.UpdatedAt = s.Now()
	u.Version++
	return tx.UpdateUser(ctx, u)
}

// TransferOwnership makes another active managed user of the same
// organization its Owner; the old Owner becomes an Administrator (R-ROLE-4,
// R-ROLE-1). Only the Owner may do it (R-ROLE-3). The old Owner is demoted
// before the new one is promoted, so the one-Owner backstop never sees two.
func (s *Service) TransferOwnership(ctx context.Context, a Actor, org OrgSID, to string) (*Org, error) {
	var out *Org
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := org.check("org"); err != nil {
			return err
		}
		o, err := tx.LockOrg(ctx, org)
		if err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permOwner, "transfer the Owner role"); err != nil {
			if KindOf(err) == KindNotFound {
				return err // an outsider learns no rule of an organization it cannot see
			}
			return withRule(err, "R-ROLE-4")
		}
		nu, err := resolveMember(ctx, tx, org, to)
		if err != nil {
			return withRule(err, "R-ROLE-4")
		}
		if nu.SID == o.OwnerSID {
			return Breaks("R-ROLE-4", KindConflict, "%s is already the Owner", nu.SID)
		}
		if nu.Status != UserActive {
			return Breaks("R-ROLE-4", KindConflict, "%s is deactivated; only an active managed user can become Owner", nu.SID)
		}
		old, err := tx.GetUser(ctx, o.OwnerSID)
		if err != nil {
			return err
		}
		before := clone(o)
		old.Role = RoleAdministrator
		if err := s.saveUser(ctx, tx, old); err != nil {
			return err
		}
		nu.Role = RoleOwner
		if err := s.saveUser(ctx, tx, nu); err != nil {
			return err
		}
		// Both roles now come from the transfer, not from a group.
		for _, sid := range []UserSID{old.SID, nu.SID} {
			if err := tx.SetGroupRoleMark(ctx, sid, false); err != nil {
				return err
			}
		}
		o.OwnerSID, o.UpdatedAt = nu.SID, s.Now()
		if err := tx.UpdateOrg(ctx, o); err != nil {
			return err
		}
		out = o
		return s.audit(ctx, tx, a, org, "org.owner_transfer", string(org), before, o)
	})
	return out, err
}

// RemoveUser removes a managed user from the organization: their sessions
// end, their grants go, the accounts they own pass to the Owner (they stay
// managed, R-ACCT-6) and the login is deleted. The Owner cannot be removed
// (R-ROLE-4); Owner or Administrator only (R-ROLE-3).
func (s *Service) RemoveUser(ctx context.Context, a Actor, org OrgSID, target UserSID) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		o, _, u, err := s.lockedMember(ctx, tx, a, org, target, permAdmin, "remove users")
		if err != nil {
			return err
		}
		return s.removeTx(ctx, tx, a, o, u, "user.remove")
	})
}

func (s *Service) removeTx(ctx context.Context, tx Tx, a Actor, o *Org, u *User, action string) error {
	if u.Role == RoleOwner {
		return Breaks("R-ROLE-4", KindConflict, "%s is the Owner and cannot be removed, deactivated or deprovisioned; transfer the Owner role first", u.SID)
	}
	now := s.Now()
	n, err := tx.EndUserSessions(ctx, u.SID, action, now)
	if err != nil {
		return err
	}
	moved, err := tx.ReassignAccounts(ctx, o.SID, u.SID, o.OwnerSID, now)
	if err != nil {
		return err
	}
	if _, err := tx.DeleteUserGrants(ctx, u.SID); err != nil {
		return err
	}
	if err := tx.DeleteResetTokens(ctx, u.SID); err != nil {
		return err
	}
	if err := tx.DeleteUser(ctx, u.SID); err != nil {
		return err
	}
	after := map[string]any{"sessions_ended": n, "accounts_reassigned_to_owner": moved}
	return s.audit(ctx, tx, a, o.SID, action, string(u.SID), u, after)
}

// SetUserActive deactivates (active=false) or reactivates a managed user.
// Deactivation ends every session at once (R-SCIM-2); the Owner cannot be
// deactivated (R-ROLE-4).
func (s *Service) SetUserActive(ctx context.Context, a Actor, org OrgSID, target UserSID, active bool) (*User, error) {
	var out *User
	err := s.store.InTx(ctx, func(tx Tx) error {
		_, _, u, err := s.lockedMember(ctx, tx, a, org, target, permAdmin, "deactivate users")
		if err != nil {
			return err
		}
		if err := s.setActiveTx(ctx, tx, a, u, active); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

func (s *Service) setActiveTx(ctx context.Context, tx Tx, a Actor, u *User, active bool) error {
	want := UserInactive
	if active {
		want = UserActive
	}
	if u.Status == want {
		return nil
	}
	if !active && u.Role == RoleOwner {
		return Breaks("R-ROLE-4", KindConflict, "%s is the Owner and cannot be deactivated; transfer the Owner role first", u.SID)
	}
	before := clone(u)
	u.Status = want
	if err := s.saveUser(ctx, tx, u); err != nil {
		return err
	}
	action := "user.reactivate"
	if !active {
		action = "user.deactivate"
		if _, err := tx.EndUserSessions(ctx, u.SID, action, s.Now()); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, a, u.OrgSID, action, string(u.SID), before, u)
}

// ResetResult is what a password reset did.
type ResetResult struct {
	UserSID       UserSID   `json:"user_sid"`
	SessionsEnded int       `json:"sessions_ended"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// ResetPassword ends all of the user's sessions, stops the old password
// from working and mails a single-use link valid 24 hours (R-USER-4). Owner
// or Administrator (R-ROLE-3); only the Owner resets the Owner. Refused for
// users who must use single sign-on (R-SSO-2).
func (s *Service) ResetPassword(ctx context.Context, a Actor, org OrgSID, target UserSID) (*ResetResult, error) {
	var res *ResetResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		_, actor, u, err := s.lockedMember(ctx, tx, a, org, target, permAdmin, "reset passwords")
		if err != nil {
			return err
		}
		if u.Role == RoleOwner && actor != nil && actor.SID != u.SID {
			return Breaks("R-ROLE-3", KindForbidden, "only the Owner may reset the Owner's password")
		}
		if sso, err := s.ssoEnforced(ctx, tx, u); err != nil {
			return err
		} else if sso {
			return Breaks("R-SSO-2", KindConflict, "%s must log in through single sign-on (its domain enforces SSO); a password reset does not apply", u.Email)
		}
		r, err := s.resetTx(ctx, tx, a, u)
		res = r
		return err
	})
	return res, err
}

func (s *Service) resetTx(ctx context.Context, tx Tx, a Actor, u *User) (*ResetResult, error) {
	now := s.Now()
	n, err := tx.EndUserSessions(ctx, u.SID, "password_reset", now)
	if err != nil {
		return nil, err
	}
	before := clone(u)
	u.PasswordHash = ""
	if err := s.saveUser(ctx, tx, u); err != nil {
		return nil, err
	}
	if err := tx.DeleteResetTokens(ctx, u.SID); err != nil {
		return nil, err
	}
	token := newToken("rst_")
	rt := &ResetToken{TokenHash: HashToken(token), UserSID: u.SID, ExpiresAt: now.Add(ResetLinkTTL), CreatedAt: now}
	if err := tx.CreateResetToken(ctx, rt); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, u.OrgSID, "user.password_reset", string(u.SID), before, map[string]any{"sessions_ended": n, "link_expires_at": rt.ExpiresAt}); err != nil {
		return nil, err
	}
	body := fmt.Sprintf("A password reset was requested for your orgd user %s.\n\nChoose a new password (the link works once, until %s):\n%s\n",
		u.Email, rt.ExpiresAt.Format(time.RFC1123), s.link("/reset?token="+token))
	if err := s.enqueueMail(ctx, tx, "password-reset", u.Email, "Reset your orgd password", body); err != nil {
		return nil, err
	}
	return &ResetResult{UserSID: u.SID, SessionsEnded: n, ExpiresAt: rt.ExpiresAt}, nil
}

// CompletePasswordReset sets a new password with a reset link's token; the
// link works once and only until it expires (R-USER-4), and not for users
// who must use single sign-on (R-SSO-2).
func (s *Service) CompletePasswordReset(ctx context.Context, a Actor, token, password string) (*User, error) {
	if token == "" {
		return nil, Invalid("token", "token is required")
	}
	var out *User
	var email string
	// Read first to check the password against the email before hashing.
	if err := s.store.Read(ctx, func(tx Tx) error {
		rt, err := tx.GetResetToken(ctx, HashToken(token))
		if err != nil {
			return notFoundAs(err, "reset link", "")
		}
		u, err := tx.GetUser(ctx, rt.UserSID)
		if err == nil {
			email = u.Email
		}
		return err
	}); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, Invalid("token", "the reset link is not valid")
		}
		return nil, err
	}
	if err := CheckPassword("password", password, email); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		rt, err := tx.GetResetToken(ctx, HashToken(token))
		if err != nil {
			return notFoundAs(err, "reset link", "")
		}
		now := s.Now()
		if rt.UsedAt != nil {
			return Breaks("R-USER-4", KindInvalid, "the reset link was already used")
		}
		if !now.Before(rt.ExpiresAt) {
			return Breaks("R-USER-4", KindInvalid, "the reset link expired on %s; ask for a new one", rt.ExpiresAt.Format(time.RFC1123))
		}
		u, err := tx.GetUser(ctx, rt.UserSID)
		if err != nil {
			return err
		}
		if sso, err := s.ssoEnforced(ctx, tx, u); err != nil {
			return err
		} else if sso {
			return Breaks("R-SSO-2", KindConflict, "%s must log in through single sign-on", u.Email)
		}
		rt.UsedAt = &now
		if err := tx.UpdateResetToken(ctx, rt); err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		if _, err := tx.EndUserSessions(ctx, u.SID, "password_changed", now); err != nil {
			return err
		}
		a.UserSID = u.SID
		out = u
		return s.audit(ctx, tx, a, u.OrgSID, "user.password_set", string(u.SID), nil, nil)
	})
	return out, err
}

// Reset2FA removes the user's second factor; the next login must enrol a
// new one before getting in (R-USER-5). Owner or Administrator (R-ROLE-3);
// only the Owner resets the Owner's.
func (s *Service) Reset2FA(ctx context.Context, a Actor, org OrgSID, target UserSID) (*User, error) {
	var out *User
	err := s.store.InTx(ctx, func(tx Tx) error {
		_, actor, u, err := s.lockedMember(ctx, tx, a, org, target, permAdmin, "reset second factors")
		if err != nil {
			return err
		}
		if u.Role == RoleOwner && actor != nil && actor.SID != u.SID {
			return Breaks("R-ROLE-3", KindForbidden, "only the Owner may reset the Owner's second factor")
		}
		before := clone(u)
		u.TOTPSecret, u.MFAEnrolRequired = "", true
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		out = u
		return s.audit(ctx, tx, a, org, "user.2fa_reset", string(u.SID), before, u)
	})
	return out, err
}

// SetTOTP enrols (secret != "") or removes a user's second factor, as the
// user itself; enrolling clears R-USER-5's pending enrolment.
func (s *Service) SetTOTP(ctx context.Context, a Actor, user UserSID, secret string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.GetUser(ctx, user)
		if err != nil {
			return notFoundAs(err, "user", string(user))
		}
		if !a.Operator && a.UserSID != u.SID {
			return NotFound("user", string(user))
		}
		u.TOTPSecret = secret
		if secret != "" {
			u.MFAEnrolRequired = false
		}
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		action := "user.2fa_enrol"
		if secret == "" {
			action = "user.2fa_remove"
		}
		return s.audit(ctx, tx, a, u.OrgSID, action, string(u.SID), nil, nil)
	})
}
