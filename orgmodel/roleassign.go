package orgmodel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
)

// RoleAssignment is a role as Twilio's Organizations API shows it: an
// organization-scope role (Owner IX…101 or Administrator IX…102 at scope
// OR…) or an account grant (IX…102–105 at scope AC…). A managed user with
// no organization-scope assignment is a Standard user (R-ROLE-1).
type RoleAssignment struct {
	SID      RoleAssignmentSID `json:"sid"`
	RoleSID  RoleSID           `json:"role_sid"`
	Scope    string            `json:"scope"` // OR… or AC…
	Identity UserSID           `json:"identity"`
}

// RoleAssignmentFilter selects role assignments; zero fields do not filter.
type RoleAssignmentFilter struct {
	Identity UserSID
	Scope    string // OR… (organization-scope roles only) or AC… (grants on that account)
	AfterSID RoleAssignmentSID
	Limit    int
}

var accountRoleSIDs = map[AccountRole]RoleSID{
	AccountAdministrator: RoleSIDAdministrator,
	AccountDeveloper:     RoleSIDDeveloper,
	AccountBilling:       RoleSIDBilling,
	AccountSupport:       RoleSIDSupport,
}

// RoleSIDOf returns the Twilio role SID of an account-scope role.
func RoleSIDOf(r AccountRole) RoleSID { return accountRoleSIDs[r] }

// AccountRoleOf returns the account-scope role of a Twilio role SID.
func AccountRoleOf(sid RoleSID) (AccountRole, bool) {
	for r, s := range accountRoleSIDs {
		if s == sid {
			return r, true
		}
	}
	return "", false
}

// orgRoleAssignmentSID names a user's organization-scope role. The role
// lives on the user (R-USER-2: one organization, one role), so its
// assignment SID is derived from what it assigns: stable across replicas
// and restarts, and new whenever the role changes hands.
func orgRoleAssignmentSID(org OrgSID, user UserSID, role RoleSID) RoleAssignmentSID {
	h := sha256.Sum256([]byte("orgd/org-role\x00" + string(org) + "\x00" + string(user) + "\x00" + string(role)))
	return RoleAssignmentSID(PrefixRoleAssignment + hex.EncodeToString(h[:16]))
}

func orgRoleAssignment(u *User) *RoleAssignment {
	role := RoleSIDAdministrator
	if u.Role == RoleOwner {
		role = RoleSIDOwner
	}
	return &RoleAssignment{SID: orgRoleAssignmentSID(u.OrgSID, u.SID, role), RoleSID: role, Scope: string(u.OrgSID), Identity: u.SID}
}

func grantAssignment(g *Grant) *RoleAssignment {
	return &RoleAssignment{SID: g.SID, RoleSID: RoleSIDOf(g.Role), Scope: string(g.AccountSID), Identity: g.UserSID}
}

// AssignRole creates a role assignment in org (Owner or Administrator,
// R-ROLE-3): Administrator (IX…102) at the organization's scope makes the
// user an Administrator (SetRole); IX…102–105 at an account's scope grant
// access to that account (GrantAccess, R-ACCT-8). The Owner role (IX…101)
// is never assigned, only transferred (R-ROLE-4). Refusals name the input
// that was wrong (role_sid, scope or identity); an identity or scope
// outside org is refused exactly like one that does not exist.
func (s *Service) AssignRole(ctx context.Context, a Actor, org OrgSID, role RoleSID, scope string, identity UserSID) (*RoleAssignment, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if err := CheckSID("role_sid", PrefixRole, string(role)); err != nil {
		return nil, err
	}
	if role == RoleSIDOwner {
		return nil, &RuleError{Rule: "R-ROLE-4", Kind: KindInvalid, Field: "role_sid",
			Msg: "the Owner role (IX…101) is never assigned; the Owner transfers it to another managed user"}
	}
	accountRole, ok := AccountRoleOf(role)
	if !ok {
		return nil, Invalid("role_sid", "role_sid %s is not a role; use Administrator IX…102, Developer IX…103, Billing IX…104 or Support IX…105", role)
	}
	orgScope := scope == string(org)
	if !orgScope && !ValidSID(PrefixAccount, scope) {
		if ValidSID(PrefixOrg, scope) {
			return nil, Invalid("scope", "scope %s is not this organization or one of its accounts", scope)
		}
		return nil, CheckSID("scope", PrefixAccount, scope)
	}
	if orgScope && role != RoleSIDAdministrator {
		return nil, Invalid("role_sid", "at organization scope the only role to assign is Administrator (IX…102); %s applies to accounts", role)
	}
	if err := CheckSID("identity", PrefixUser, string(identity)); err != nil {
		return nil, err
	}
	// Name the wrong input before acting; the command itself checks again
	// under its own lock.
	if err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "assign roles"); err != nil {
			return err
		}
		if _, err := memberOf(ctx, tx, org, identity); errors.Is(err, ErrNotFound) {
			return Invalid("identity", "identity %s is not a managed user of this organization", identity)
		} else if err != nil {
			return err
		}
		if !orgScope {
			if _, err := s.grantableAccount(ctx, tx, org, AccountSID(scope)); errors.Is(err, ErrNotFound) {
				return Invalid("scope", "scope %s is not an account of this organization", scope)
			} else if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if orgScope {
		u, err := s.SetRole(ctx, a, org, identity, string(RoleAdministrator))
		if err != nil {
			return nil, err
		}
		return orgRoleAssignment(u), nil
	}
	g, err := s.GrantAccess(ctx, a, AccountSID(scope), identity, string(accountRole))
	if err != nil {
		return nil, err
	}
	return grantAssignment(g), nil
}

// ListRoleAssignments lists org's role assignments in SID order (Owner or
// Administrator, R-ROLE-3): the Owner's and Administrators' organization
// roles and the account grants org made.
func (s *Service) ListRoleAssignments(ctx context.Context, a Actor, org OrgSID, f RoleAssignmentFilter) ([]*RoleAssignment, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if f.Identity != "" {
		if err := f.Identity.check("identity"); err != nil {
			return nil, err
		}
	}
	wantOrg, wantAcct := true, true
	if f.Scope != "" {
		switch {
		case ValidSID(PrefixOrg, f.Scope):
			wantAcct = false
			wantOrg = f.Scope == string(org)
		case ValidSID(PrefixAccount, f.Scope):
			wantOrg = false
		default:
			return nil, Invalid("scope", "scope %q is not an organization or account SID", f.Scope)
		}
	}
	var out []*RoleAssignment
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list role assignments"); err != nil {
			return err
		}
		out = out[:0]
		if wantOrg {
			var users []*User
			if f.Identity != "" {
				u, err := tx.GetUser(ctx, f.Identity)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				if err == nil && u.OrgSID == org {
					users = append(users, u)
				}
			} else {
				for _, r := range []Role{RoleOwner, RoleAdministrator} {
					us, err := tx.ListUsers(ctx, UserFilter{OrgSID: org, Role: r})
					if err != nil {
						return err
					}
					users = append(users, us...)
				}
			}
			for _, u := range users {
				if u.Role == RoleStandard {
					continue
				}
				if ra := orgRoleAssignment(u); ra.SID > f.AfterSID {
					out = append(out, ra)
				}
			}
		}
		if wantAcct {
			gf := GrantFilter{OrgSID: org, UserSID: f.Identity, AfterSID: f.AfterSID, Limit: f.Limit}
			if f.Scope != "" {
				gf.AccountSID = AccountSID(f.Scope)
			}
			grants, err := tx.ListGrants(ctx, gf)
			if err != nil {
				return err
			}
			for _, g := range grants {
				out = append(out, grantAssignment(g))
			}
		}
		slices.SortFunc(out, func(x, y *RoleAssignment) int { return strings.Compare(string(x.SID), string(y.SID)) })
		if f.Limit > 0 && len(out) > f.Limit {
			out = out[:f.Limit]
		}
		return nil
	})
	return out, err
}

// RemoveRoleAssignment deletes one of org's role assignments (Owner or
// Administrator, R-ROLE-3): an Administrator's organization role makes
// them a Standard user again (SetRole); a grant is revoked (RevokeAccess).
// The Owner's role is never removed, only transferred (R-ROLE-4).
func (s *Service) RemoveRoleAssignment(ctx context.Context, a Actor, org OrgSID, sid RoleAssignmentSID) error {
	if err := org.check("org"); err != nil {
		return err
	}
	if err := CheckSID("role_assignment", PrefixRoleAssignment, string(sid)); err != nil {
		return NotFound("role assignment", string(sid))
	}
	var orgRole *User
	var grant *Grant
	if err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "remove role assignments"); err != nil {
			return err
		}
		g, err := tx.GetGrantBySID(ctx, sid)
		if err == nil && g.OrgSID == org {
			grant = g
			return nil
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		for _, r := range []Role{RoleOwner, RoleAdministrator} {
			us, err := tx.ListUsers(ctx, UserFilter{OrgSID: org, Role: r})
			if err != nil {
				return err
			}
			for _, u := range us {
				if orgRoleAssignment(u).SID == sid {
					orgRole = u
					return nil
				}
			}
		}
		return NotFound("role assignment", string(sid))
	}); err != nil {
		return err
	}
	switch {
	case grant != nil:
		return s.RevokeAccess(ctx, a, grant.AccountSID, grant.UserSID)
	case orgRole.Role == RoleOwner:
		return Breaks("R-ROLE-4", KindConflict, "%s is the Owner; the Owner role is never removed, only transferred to another managed user", orgRole.SID)
	}
	_, err := s.SetRole(ctx, a, org, orgRole.SID, string(RoleStandard))
	return err
}
