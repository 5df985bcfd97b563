package orgmodel

import (
	"context"
	"errors"
)

// SignUpInput is a person signing up (CLI `orgd signup` or {base}/signup).
type SignUpInput struct {
	Email    string
	Password string
	Name     string // friendly name of the new organization and its first account
	// InvitationToken accepts an invitation while signing up.
	InvitationToken string
	// EmailVerified says the caller proved the person controls Email (the
	// operator at the CLI, or the web flow after its confirmation link).
	// Joining an existing organization by domain requires it.
	EmailVerified bool
}

// SignUpResult says where the new user landed.
type SignUpResult struct {
	OrgSID     OrgSID     `json:"organization_sid"`
	UserSID    UserSID    `json:"user_sid"`
	AccountSID AccountSID `json:"account_sid,omitempty"`
	AuthToken  string     `json:"auth_token,omitempty"`
	Role       Role       `json:"role"`
	// Joined is how: "created" (a new organization), "auto-enrollment" or "invitation".
	Joined string `json:"joined"`
}

// SignupDecision is what R-DOM-3 decides for an email before any write.
type SignupDecision struct {
	Outcome string // "create", "auto-enrollment", "refused"
	OrgSID  OrgSID // the organization joined, for auto-enrollment
	Rule    string // why refused
	Msg     string
}

// decideSignup applies R-DOM-3 (and R-USER-3) to the verified registrations
// of the email's domain: the one Auto-enrollment organization wins (R-DOM-4
// keeps it unique); otherwise any Restricted registration refuses; otherwise
// (none, or Blocked ones only) the person gets an organization of their own.
func decideSignup(claims []*Domain) SignupDecision {
	restricted := false
	for _, d := range claims {
		if d.Status != DomainVerified {
			continue
		}
		switch d.Signup {
		case SignupAutoEnrollment:
			return SignupDecision{Outcome: "auto-enrollment", OrgSID: d.OrgSID}
		case SignupRestricted:
			restricted = true
		}
	}
	if restricted {
		return SignupDecision{Outcome: "refused", Rule: "R-DOM-3",
			Msg: "sign-up with this email domain is restricted to invited people; ask the organization's administrator for an invitation"}
	}
	return SignupDecision{Outcome: "create"}
}

// SignupPolicy tells what a sign-up with email would do, without doing it
// (for the sign-up page).
func (s *Service) SignupPolicy(ctx context.Context, email string) (SignupDecision, error) {
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return SignupDecision{}, err
	}
	var dec SignupDecision
	err = s.store.Read(ctx, func(tx Tx) error {
		claims, err := tx.ListDomainClaims(ctx, EmailDomain(email))
		dec = decideSignup(claims)
		return err
	})
	return dec, err
}

// SignUp creates a user. By R-DOM-3 (R-USER-3) the email's domain decides:
// with an invitation the person joins the inviting organization; on an
// Auto-enrollment domain they join that organization as Standard; on a
// Restricted domain they are refused; otherwise a new organization is
// created (R-HIER-2) with them as Owner (R-ROLE-2) and a first managed
// trial account (R-ACCT-2, R-ACCT-7). An email that already has a user is
// refused (R-USER-2).
func (s *Service) SignUp(ctx context.Context, a Actor, in SignUpInput) (*SignUpResult, error) {
	return s.signUp(ctx, a, in, nil)
}

// signUp is SignUp; also, when not nil, runs in the same transaction first
// (a confirmation link is used up by the sign-up it allows).
func (s *Service) signUp(ctx context.Context, a Actor, in SignUpInput, also func(context.Context, Tx) error) (*SignUpResult, error) {
	email, err := NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword("password", in.Password, email); err != nil {
		return nil, err
	}
	name := in.Name
	if name != "" {
		if name, err = CheckName("name", name); err != nil {
			return nil, err
		}
	}
	// Hash before the transaction: argon2id is deliberately slow and must
	// not hold the write lock.
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	var res *SignUpResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		res = nil
		if also != nil {
			if err := also(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.GetUserByEmail(ctx, email); err == nil {
			return Breaks("R-USER-2", KindConflict, "%s already has a user; a user belongs to one organization, so a second one needs another address (an alias such as name+org2@%s)", email, EmailDomain(email))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if in.InvitationToken != "" {
			inv, err := s.openInvitation(ctx, tx, in.InvitationToken, email)
			if err != nil {
				return err
			}
			r, err := s.joinByInvitation(ctx, tx, a, inv, email, hash)
			res = r
			return err
		}
		claims, err := tx.ListDomainClaims(ctx, EmailDomain(email))
		if err != nil {
			return err
		}
		dec := decideSignup(claims)
		switch dec.Outcome {
		case "refused":
			if in.EmailVerified {
				// An invited person joins the inviting organization (R-DOM-3).
				if inv, err := s.soleInvitation(ctx, tx, email); err != nil || inv != nil {
					if err != nil {
						return err
					}
					r, err := s.joinByInvitation(ctx, tx, a, inv, email, hash)
					res = r
					return err
				}
			}
			return Breaks(dec.Rule, KindForbidden, "%s", dec.Msg)
		case "auto-enrollment":
			if !in.EmailVerified {
				return Breaks("R-DOM-3", KindForbidden, "joining an organization by its domain needs a confirmed email address; confirm %s first", email)
			}
			r, err := s.joinByDomain(ctx, tx, a, dec.OrgSID, email, hash)
			res = r
			return err
		}
		r, err := s.createOrgFor(ctx, tx, a, email, hash, name)
		res = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// createOrgFor is R-HIER-2 + R-ROLE-2: a new organization whose Owner is the
// new user, holding a first managed trial account (R-ACCT-2, R-ACCT-7).
func (s *Service) createOrgFor(ctx context.Context, tx Tx, a Actor, email, hash, name string) (*SignUpResult, error) {
	now := s.Now()
	orgName, acctName := name, name
	if name == "" {
		orgName = email
		acctName = "My first account"
	}
	u := &User{
		SID: UserSID(NewSID(PrefixUser)), Email: email, Role: RoleOwner, Status: UserActive,
		PasswordHash: hash, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	o := &Org{
		SID: OrgSID(NewSID(PrefixOrg)), FriendlyName: orgName, OwnerSID: u.SID,
		AccountLimit: DefaultAccountLimit, CreatedAt: now, UpdatedAt: now,
	}
	u.OrgSID = o.SID
	if err := tx.CreateOrg(ctx, o); err != nil {
		return nil, err
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	a.OrgSID, a.UserSID = o.SID, u.SID
	if err := s.audit(ctx, tx, a, o.SID, "org.create", string(o.SID), nil, o); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, o.SID, "user.signup", string(u.SID), nil, u); err != nil {
		return nil, err
	}
	acct, token, err := s.newManagedAccount(ctx, tx, a, o, u.SID, acctName, UsageTwilio)
	if err != nil {
		return nil, err
	}
	return &SignUpResult{OrgSID: o.SID, UserSID: u.SID, AccountSID: acct.SID, AuthToken: token, Role: RoleOwner, Joined: "created"}, nil
}

// joinByDomain is R-DOM-3's Auto-enrollment: the person joins as Standard.
func (s *Service) joinByDomain(ctx context.Context, tx Tx, a Actor, org OrgSID, email, hash string) (*SignUpResult, error) {
	if _, err := tx.LockOrg(ctx, org); err != nil {
		return nil, err
	}
	now := s.Now()
	u := &User{
		SID: UserSID(NewSID(PrefixUser)), Email: email, OrgSID: org, Role: RoleStandard,
		Status: UserActive, PasswordHash: hash, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	a.UserSID = u.SID
	if err := s.audit(ctx, tx, a, org, "user.auto_enroll", string(u.SID), nil, u); err != nil {
		return nil, err
	}
	return &SignUpResult{OrgSID: org, UserSID: u.SID, Role: RoleStandard, Joined: "auto-enrollment"}, nil
}
