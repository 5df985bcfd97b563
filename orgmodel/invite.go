package orgmodel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// InviteInput is an invitation to join an organization.
type InviteInput struct {
	OrgSID   OrgSID
	Email    string
	Role     string        // administrator or standard; "" means standard
	Accounts []InviteGrant // access to give on acceptance
}

// InviteResult is a new invitation and its token, shown once (it is also mailed).
type InviteResult struct {
	SID       InvitationSID    `json:"sid"`
	Email     string           `json:"email"`
	Role      Role             `json:"role"`
	Status    InvitationStatus `json:"status"`
	Token     string           `json:"token"`
	ExpiresAt time.Time        `json:"expires_at"`
}

// checkInvitable applies the rules on who may be brought into org by
// invitation, bulk import or provisioning: the email is on one of org's
// verified domains (R-USER-7 / R-SCIM-1), never a common mail domain
// (R-USER-7), that domain is not Blocked by org (R-DOM-3), and the person
// has no user in another organization (R-USER-2). rule names the rule to
// cite for an unverified domain.
func (s *Service) checkInvitable(ctx context.Context, tx Tx, org OrgSID, email, rule string) error {
	dom := EmailDomain(email)
	if IsCommonMailDomain(dom) {
		return Breaks("R-USER-7", KindForbidden, "%s is a common mail domain; nobody can be invited or provisioned from it", dom)
	}
	d, err := tx.GetDomain(ctx, org, dom)
	if errors.Is(err, ErrNotFound) || (err == nil && d.Status != DomainVerified) {
		return Breaks(rule, KindForbidden, "%s is not a verified domain of this organization; verify it first", dom)
	}
	if err != nil {
		return err
	}
	if d.Signup == SignupBlocked {
		return Breaks("R-DOM-3", KindForbidden, "%s is Blocked for this organization: people with that domain cannot join it", dom)
	}
	in, err := tx.OrgOfEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case in == org:
		return Breaks("R-USER-2", KindConflict, "%s is already a user of this organization", email)
	}
	return Breaks("R-USER-2", KindConflict, "%s already belongs to another organization; a user belongs to one organization (use an alias such as name+org2@%s)", email, dom)
}

// InviteUser invites a person by email (R-USER-7, R-DOM-3, R-USER-2),
// as Owner or Administrator (R-ROLE-3), with an organization role that is
// never Owner (R-ROLE-4). A pending invitation of the same email is replaced.
func (s *Service) InviteUser(ctx context.Context, a Actor, in InviteInput) (*InviteResult, error) {
	if err := in.OrgSID.check("org"); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	role := RoleStandard
	if in.Role != "" {
		if role, err = ParseRole("role", in.Role); err != nil {
			return nil, err
		}
	}
	for _, g := range in.Accounts {
		if err := g.AccountSID.check("account"); err != nil {
			return nil, err
		}
	}
	var res *InviteResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		r, err := s.inviteTx(ctx, tx, a, in.OrgSID, email, role, in.Accounts)
		res = r
		return err
	})
	return res, err
}

func (s *Service) inviteTx(ctx context.Context, tx Tx, a Actor, org OrgSID, email string, role Role, grants []InviteGrant) (*InviteResult, error) {
	o, err := tx.LockOrg(ctx, org)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("organization", string(org))
	} else if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, tx, a, org, permAdmin, "invite users"); err != nil {
		return nil, err
	}
	if err := s.checkInvitable(ctx, tx, org, email, "R-USER-7"); err != nil {
		return nil, err
	}
	for i, g := range grants {
		acct, err := s.grantableAccount(ctx, tx, org, g.AccountSID)
		if err != nil {
			return nil, err
		}
		if grants[i].Role == "" {
			grants[i].Role = AccountDeveloper
		}
		_ = acct
	}
	now := s.Now()
	old, err := tx.ListInvitations(ctx, org, email, InvitationPending)
	if err != nil {
		return nil, err
	}
	for _, inv := range old {
		inv.Status = InvitationRevoked
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return nil, err
		}
	}
	token := newToken("inv_")
	inv := &Invitation{
		SID: InvitationSID(NewSID(PrefixInvitation)), OrgSID: org, Email: email, Role: role,
		Grants: grants, Status: InvitationPending, InvitedBy: a.id(), TokenHash: HashToken(token),
		ExpiresAt: now.Add(InvitationTTL), CreatedAt: now,
	}
	if err := tx.CreateInvitation(ctx, inv); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, org, "user.invite", string(inv.SID), nil, inv); err != nil {
		return nil, err
	}
	body := fmt.Sprintf("You have been invited to join %s on orgd as %s.\n\nAccept the invitation (valid until %s):\n%s\n",
		o.FriendlyName, role, inv.ExpiresAt.Format(time.RFC1123), s.link("/signup?invitation="+token))
	if err := s.enqueueMail(ctx, tx, "invitation", email, "Invitation to "+o.FriendlyName, body); err != nil {
		return nil, err
	}
	return &InviteResult{SID: inv.SID, Email: email, Role: role, Status: inv.Status, Token: token, ExpiresAt: inv.ExpiresAt}, nil
}

// openInvitation finds the pending, unexpired invitation of token; when
// email is not "" it must be the invited address.
func (s *Service) openInvitation(ctx context.Context, tx Tx, token, email string) (*Invitation, error) {
	inv, err := tx.GetInvitationByTokenHash(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil, Invalid("token", "the invitation link is not valid")
	} else if err != nil {
		return nil, err
	}
	switch {
	case inv.Status != InvitationPending:
		return nil, Invalid("token", "the invitation was already %s", inv.Status)
	case !s.Now().Before(inv.ExpiresAt):
		return nil, Invalid("token", "the invitation expired on %s; ask for a new one", inv.ExpiresAt.Format(time.RFC1123))
	case email != "" && EmailKey(email) != EmailKey(inv.Email):
		return nil, Invalid("email", "the invitation was sent to another address")
	}
	return inv, nil
}

// soleInvitation returns the newest pending invitation of email, or nil.
func (s *Service) soleInvitation(ctx context.Context, tx Tx, email string) (*Invitation, error) {
	invs, err := tx.PendingInvitationsFor(ctx, email, s.Now())
	if err != nil || len(invs) == 0 {
		return nil, err
	}
	newest := invs[0]
	for _, inv := range invs[1:] {
		if inv.CreatedAt.After(newest.CreatedAt) {
			newest = inv
		}
	}
	return newest, nil
}

// joinByInvitation creates the invited user in the inviting organization,
// re-checking the invitation rules at acceptance time.
func (s *Service) joinByInvitation(ctx context.Context, tx Tx, a Actor, inv *Invitation, email, hash string) (*SignUpResult, error) {
	if _, err := tx.LockOrg(ctx, inv.OrgSID); err != nil {
		return nil, err
	}
	if err := s.checkInvitable(ctx, tx, inv.OrgSID, email, "R-USER-7"); err != nil {
		return nil, err
	}
	now := s.Now()
	u := &User{
		SID: UserSID(NewSID(PrefixUser)), Email: email, OrgSID: inv.OrgSID, Role: inv.Role,
		Status: UserActive, PasswordHash: hash, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	a.UserSID = u.SID
	for _, g := range inv.Grants {
		if _, err := s.grantableAccount(ctx, tx, inv.OrgSID, g.AccountSID); err != nil {
			continue // the account left the organization since; nothing to grant
		}
		gr := &Grant{SID: RoleAssignmentSID(NewSID(PrefixRoleAssignment)), AccountSID: g.AccountSID,
			UserSID: u.SID, OrgSID: inv.OrgSID, Role: g.Role, CreatedAt: now}
		if err := tx.PutGrant(ctx, gr); err != nil {
			return nil, err
		}
	}
	before := clone(inv)
	inv.Status, inv.AcceptedBy = InvitationAccepted, u.SID
	if err := tx.UpdateInvitation(ctx, inv); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, inv.OrgSID, "user.invitation_accept", string(inv.SID), before, inv); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, inv.OrgSID, "user.create", string(u.SID), nil, u); err != nil {
		return nil, err
	}
	return &SignUpResult{OrgSID: inv.OrgSID, UserSID: u.SID, Role: u.Role, Joined: "invitation"}, nil
}

// AcceptInvitation creates the invited user with password (R-USER-7 and
// R-USER-2 are checked again at acceptance).
func (s *Service) AcceptInvitation(ctx context.Context, a Actor, token, password string) (*SignUpResult, error) {
	if token == "" {
		return nil, Invalid("token", "token is required")
	}
	var email string
	if err := s.store.Read(ctx, func(tx Tx) error {
		inv, err := s.openInvitation(ctx, tx, token, "")
		if err == nil {
			email = inv.Email
		}
		return err
	}); err != nil {
		return nil, err
	}
	return s.SignUp(ctx, a, SignUpInput{Email: email, Password: password, InvitationToken: token, EmailVerified: true})
}

// RevokeInvitation withdraws a pending invitation (R-ROLE-3).
func (s *Service) RevokeInvitation(ctx context.Context, a Actor, org OrgSID, sid InvitationSID) error {
	if err := org.check("org"); err != nil {
		return err
	}
	if err := CheckSID("invitation", PrefixInvitation, string(sid)); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "revoke invitations"); err != nil {
			return err
		}
		inv, err := tx.GetInvitation(ctx, sid)
		if errors.Is(err, ErrNotFound) || (err == nil && inv.OrgSID != org) {
			return NotFound("invitation", string(sid))
		} else if err != nil {
			return err
		}
		if inv.Status != InvitationPending {
			return &RuleError{Kind: KindConflict, Msg: fmt.Sprintf("invitation %s is already %s", sid, inv.Status)}
		}
		before := clone(inv)
		inv.Status = InvitationRevoked
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, org, "user.invitation_revoke", string(sid), before, inv)
	})
}

// ListInvitations lists an organization's invitations (R-ROLE-3).
func (s *Service) ListInvitations(ctx context.Context, a Actor, org OrgSID) ([]*Invitation, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*Invitation
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list invitations"); err != nil {
			return err
		}
		var err error
		out, err = tx.ListInvitations(ctx, org, "", "")
		return err
	})
	return out, err
}
