package orgmodel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Group is a provisioned group of an organization's users (R-SCIM-1). An
// administrator may map it to the Administrator role and to access on
// given accounts: membership then grants that role and access, and leaving
// the group (or its deletion, or a change of its mapping) takes them away
// again, unless they were given explicitly. The Owner is never demoted by
// a group (R-ROLE-4).
type Group struct {
	SID         GroupSID      `json:"sid"`
	OrgSID      OrgSID        `json:"organization_sid"`
	DisplayName string        `json:"display_name"`
	ExternalID  string        `json:"external_id,omitempty"`
	Role        Role          `json:"role,omitempty"` // "" or RoleAdministrator
	Accounts    []GroupAccess `json:"accounts,omitempty"`
	Version     int64         `json:"version"`
	CreatedAt   time.Time     `json:"date_created"`
	UpdatedAt   time.Time     `json:"date_updated"`
	// Members is filled only when asked for (GetGroup with members).
	Members []GroupMember `json:"-"`
	// MemberCount is filled only when asked for (SearchGroups with
	// Query.MemberCounts).
	MemberCount int `json:"-"`
}

// GroupAccess is account access a group's members receive.
type GroupAccess struct {
	AccountSID AccountSID  `json:"account_sid"`
	Role       AccountRole `json:"role"`
}

// GroupMember is one member of a group, with the login it is shown by.
type GroupMember struct {
	UserSID UserSID `json:"user_sid"`
	Email   string  `json:"email"`
}

// GroupRef names a group a user belongs to.
type GroupRef struct {
	SID         GroupSID `json:"sid"`
	DisplayName string   `json:"display_name"`
}

// MaxGroupMembersPerChange bounds the members one change names.
const MaxGroupMembersPerChange = 100000

// GroupOp is one kind of change to a group.
type GroupOp int

const (
	GroupRename        GroupOp = iota + 1 // DisplayName
	GroupSetExternalID                    // ExternalID
	GroupAddMembers                       // Members
	GroupRemoveMembers                    // Members
	GroupSetMembers                       // Members: exactly these (empty clears)
)

// GroupChange is one change of ChangeGroup; the changes of one call apply
// in order and all together, or not at all.
type GroupChange struct {
	Op          GroupOp
	DisplayName string
	ExternalID  string
	Members     []UserSID
}

// GroupInput creates a group.
type GroupInput struct {
	DisplayName string
	ExternalID  string
	Members     []UserSID
}

func checkGroupName(name string) (string, error) {
	n, err := CheckName("displayName", name)
	if err != nil {
		return "", err
	}
	return n, nil
}

func checkExternalID(id string) error {
	if len(id) > MaxNameLen {
		return Invalid("externalId", "externalId is longer than %d bytes", MaxNameLen)
	}
	return nil
}

func (s GroupSID) check(field string) error { return CheckSID(field, PrefixGroup, string(s)) }

// groupNameTaken refuses a displayName another group of org already has,
// without regard to case (the Field names what must be unique).
func groupNameTaken(ctx context.Context, tx Tx, org OrgSID, name string, self GroupSID) error {
	g, err := tx.GetGroupByName(ctx, org, FoldKey(name))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if g.SID == self {
		return nil
	}
	return &RuleError{Kind: KindConflict, Field: "displayName",
		Msg: fmt.Sprintf("displayName %q is already used by group %s of this organization", g.DisplayName, g.SID)}
}

// orgMembers checks that every SID names a user of org and returns them
// without duplicates, in the order given. Users of other organizations
// are refused like users that do not exist.
func orgMembers(ctx context.Context, tx Tx, org OrgSID, sids []UserSID) ([]UserSID, error) {
	if len(sids) > MaxGroupMembersPerChange {
		return nil, Invalid("members", "at most %d members may be named at once", MaxGroupMembersPerChange)
	}
	seen := make(map[UserSID]bool, len(sids))
	uniq := make([]UserSID, 0, len(sids))
	for _, u := range sids {
		if err := u.check("members"); err != nil {
			return nil, Invalid("members", "member %q is not a user of this organization", truncate(string(u), 40))
		}
		if !seen[u] {
			seen[u] = true
			uniq = append(uniq, u)
		}
	}
	found, err := tx.OrgUserSIDs(ctx, org, uniq)
	if err != nil {
		return nil, err
	}
	if len(found) != len(uniq) {
		ok := make(map[UserSID]bool, len(found))
		for _, u := range found {
			ok[u] = true
		}
		for _, u := range uniq {
			if !ok[u] {
				return nil, Invalid("members", "member %s is not a user of this organization", u)
			}
		}
	}
	return uniq, nil
}

// lockedGroup locks org, authorizes a and loads a group of org.
func (s *Service) lockedGroup(ctx context.Context, tx Tx, a Actor, org OrgSID, sid GroupSID, what string) (*Group, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if err := sid.check("group"); err != nil {
		return nil, NotFound("group", truncate(string(sid), 40))
	}
	if _, err := tx.LockOrg(ctx, org); err != nil {
		return nil, notFoundAs(err, "organization", string(org))
	}
	if _, err := s.authorize(ctx, tx, a, org, permAdmin, what); err != nil {
		return nil, err
	}
	return groupOf(ctx, tx, org, sid)
}

// groupOf reads group sid of org; a group of another organization is not
// found, exactly like one that does not exist.
func groupOf(ctx context.Context, tx Tx, org OrgSID, sid GroupSID) (*Group, error) {
	g, err := tx.GetGroup(ctx, sid)
	if errors.Is(err, ErrNotFound) || (err == nil && g.OrgSID != org) {
		return nil, NotFound("group", string(sid))
	}
	return g, err
}

// CreateGroup creates a group of org with the given members, all users of
// org (R-SCIM-1); displayName is unique in org without regard to case.
// Owner, Administrator or the organization's provisioning agent.
func (s *Service) CreateGroup(ctx context.Context, a Actor, org OrgSID, in GroupInput) (*Group, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	name, err := checkGroupName(in.DisplayName)
	if err != nil {
		return nil, err
	}
	if err := checkExternalID(in.ExternalID); err != nil {
		return nil, err
	}
	var out *Group
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "create groups"); err != nil {
			return err
		}
		if err := groupNameTaken(ctx, tx, org, name, ""); err != nil {
			return err
		}
		members, err := orgMembers(ctx, tx, org, in.Members)
		if err != nil {
			return err
		}
		now := s.Now()
		g := &Group{SID: GroupSID(NewSID(PrefixGroup)), OrgSID: org, DisplayName: name, ExternalID: in.ExternalID,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		if _, err := tx.AddGroupMembers(ctx, org, g.SID, members, now); err != nil {
			return err
		}
		out = g
		return s.audit(ctx, tx, a, org, "group.create", string(g.SID), nil, groupAudit{Group: g, Added: members})
	})
	return out, err
}

// groupAudit is a group's audit snapshot with the membership change.
type groupAudit struct {
	*Group
	Added   []UserSID `json:"members_added,omitempty"`
	Removed []UserSID `json:"members_removed,omitempty"`
}

// GetGroup returns a group of org, with its members when members is true.
func (s *Service) GetGroup(ctx context.Context, a Actor, org OrgSID, sid GroupSID, members bool) (*Group, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if err := sid.check("group"); err != nil {
		return nil, NotFound("group", truncate(string(sid), 40))
	}
	var out *Group
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "see groups"); err != nil {
			return err
		}
		g, err := groupOf(ctx, tx, org, sid)
		if err != nil {
			return err
		}
		if members {
			ms, err := tx.ListGroupMembers(ctx, sid)
			if err != nil {
				return err
			}
			g.Members = ms[sid]
		}
		out = g
		return nil
	})
	return out, err
}

// ChangeGroup applies changes to a group of org, in order and all or
// none: renames (unique without regard to case), externalId, and
// membership (members must be users of org, R-SCIM-1). ifVersion, when
// > 0, must equal the group's version (KindPrecondition). Members who
// join or leave a mapped group gain or lose its role and access.
func (s *Service) ChangeGroup(ctx context.Context, a Actor, org OrgSID, sid GroupSID, changes []GroupChange, ifVersion int64) (*Group, error) {
	var out *Group
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := s.lockedGroup(ctx, tx, a, org, sid, "change groups")
		if err != nil {
			return err
		}
		if ifVersion > 0 && g.Version != ifVersion {
			return &RuleError{Kind: KindPrecondition, Msg: "the group was changed since the version given"}
		}
		before := clone(g)
		now := s.Now()
		added := map[UserSID]bool{}
		removed := map[UserSID]bool{}
		note := func(us []UserSID, in bool) {
			for _, u := range us {
				if in {
					if removed[u] {
						delete(removed, u)
					} else {
						added[u] = true
					}
				} else {
					if added[u] {
						delete(added, u)
					} else {
						removed[u] = true
					}
				}
			}
		}
		for _, c := range changes {
			switch c.Op {
			case GroupRename:
				name, err := checkGroupName(c.DisplayName)
				if err != nil {
					return err
				}
				if err := groupNameTaken(ctx, tx, org, name, g.SID); err != nil {
					return err
				}
				g.DisplayName = name
			case GroupSetExternalID:
				if err := checkExternalID(c.ExternalID); err != nil {
					return err
				}
				g.ExternalID = c.ExternalID
			case GroupAddMembers:
				ms, err := orgMembers(ctx, tx, org, c.Members)
				if err != nil {
					return err
				}
				in, err := tx.AddGroupMembers(ctx, org, g.SID, ms, now)
				if err != nil {
					return err
				}
				note(in, true)
			case GroupRemoveMembers:
				if len(c.Members) > MaxGroupMembersPerChange {
					return Invalid("members", "at most %d members may be named at once", MaxGroupMembersPerChange)
				}
				out, err := tx.RemoveGroupMembers(ctx, g.SID, c.Members)
				if err != nil {
					return err
				}
				note(out, false)
			case GroupSetMembers:
				ms, err := orgMembers(ctx, tx, org, c.Members)
				if err != nil {
					return err
				}
				cur, err := memberSIDs(ctx, tx, g.SID)
				if err != nil {
					return err
				}
				want := make(map[UserSID]bool, len(ms))
				for _, u := range ms {
					want[u] = true
				}
				var drop []UserSID
				for _, u := range cur {
					if !want[u] {
						drop = append(drop, u)
					}
				}
				out, err := tx.RemoveGroupMembers(ctx, g.SID, drop)
				if err != nil {
					return err
				}
				note(out, false)
				in, err := tx.AddGroupMembers(ctx, org, g.SID, ms, now)
				if err != nil {
					return err
				}
				note(in, true)
			default:
				return Invalid("op", "unknown group change %d", c.Op)
			}
		}
		changed := g.DisplayName != before.DisplayName || g.ExternalID != before.ExternalID
		if !changed && len(added) == 0 && len(removed) == 0 {
			out = g
			return nil
		}
		g.Version++
		g.UpdatedAt = now
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		ad, rm := sortedSIDs(added), sortedSIDs(removed)
		if changed {
			if err := s.audit(ctx, tx, a, org, "group.update", string(g.SID), before, g); err != nil {
				return err
			}
		}
		if len(ad)+len(rm) > 0 {
			if err := s.audit(ctx, tx, a, org, "group.members", string(g.SID), nil, groupAudit{Group: g, Added: ad, Removed: rm}); err != nil {
				return err
			}
			if err := s.regrantMembers(ctx, tx, a, org, g, append(ad, rm...)); err != nil {
				return err
			}
		}
		out = g
		return nil
	})
	return out, err
}

func sortedSIDs(m map[UserSID]bool) []UserSID {
	out := make([]UserSID, 0, len(m))
	for u := range m {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// DeleteGroup deletes a group of org; its members lose what the group gave
// them. ifVersion, when > 0, must equal the group's version.
func (s *Service) DeleteGroup(ctx context.Context, a Actor, org OrgSID, sid GroupSID, ifVersion int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		g, err := s.lockedGroup(ctx, tx, a, org, sid, "delete groups")
		if err != nil {
			return err
		}
		if ifVersion > 0 && g.Version != ifVersion {
			return &RuleError{Kind: KindPrecondition, Msg: "the group was changed since the version given"}
		}
		var members []UserSID
		if g.mapped() {
			if members, err = memberSIDs(ctx, tx, sid); err != nil {
				return err
			}
		}
		if err := tx.DeleteGroup(ctx, sid); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, org, "group.delete", string(sid), g, nil); err != nil {
			return err
		}
		return s.regrantMembers(ctx, tx, a, org, g, members)
	})
}

// MapGroup sets what membership of a group gives: role "" (nothing) or
// administrator (R-ROLE-3; never owner, R-ROLE-4), and access on accounts
// org may grant (R-ACCT-8). Current members gain or lose accordingly.
// Owner or Administrator in person, or the operator: a provisioning agent
// may not raise its own groups' privileges.
func (s *Service) MapGroup(ctx context.Context, a Actor, org OrgSID, sid GroupSID, role string, accounts []GroupAccess) (*Group, error) {
	var r Role
	switch role {
	case "", string(RoleStandard):
	default:
		var err error
		if r, err = ParseRole("role", role); err != nil {
			return nil, err
		}
	}
	seen := map[AccountSID]bool{}
	var acc []GroupAccess
	for _, ga := range accounts {
		if err := ga.AccountSID.check("account"); err != nil {
			return nil, err
		}
		ar, err := ParseAccountRole("role", string(ga.Role))
		if err != nil {
			return nil, err
		}
		if seen[ga.AccountSID] {
			return nil, Invalid("account", "account %s is named twice", ga.AccountSID)
		}
		seen[ga.AccountSID] = true
		acc = append(acc, GroupAccess{AccountSID: ga.AccountSID, Role: ar})
	}
	if a.isAgent() {
		return nil, Breaks("R-ROLE-3", KindForbidden, "only the Owner or an Administrator may map groups to roles and access")
	}
	var out *Group
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := s.lockedGroup(ctx, tx, a, org, sid, "map groups")
		if err != nil {
			return err
		}
		for _, ga := range acc {
			if _, err := s.grantableAccount(ctx, tx, org, ga.AccountSID); err != nil {
				return err
			}
		}
		before := clone(g)
		g.Role, g.Accounts = r, acc
		g.Version++
		g.UpdatedAt = s.Now()
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		if err := tx.SetGroupAccounts(ctx, g.SID, acc); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, org, "group.map", string(g.SID), before, g); err != nil {
			return err
		}
		if !before.mapped() && !g.mapped() {
			out = g
			return nil
		}
		users, err := memberSIDs(ctx, tx, g.SID)
		if err != nil {
			return err
		}
		if err := s.regrantUsers(ctx, tx, a, org, users); err != nil {
			return err
		}
		out = g
		return nil
	})
	return out, err
}

func memberSIDs(ctx context.Context, tx Tx, g GroupSID) ([]UserSID, error) {
	ms, err := tx.ListGroupMembers(ctx, g)
	if err != nil {
		return nil, err
	}
	out := make([]UserSID, len(ms[g]))
	for i, m := range ms[g] {
		out[i] = m.UserSID
	}
	return out, nil
}

func (g *Group) mapped() bool { return g.Role != "" || len(g.Accounts) > 0 }

// regrantMembers recomputes what users get from their groups after a
// membership change of g; nothing to do when g gives nothing.
func (s *Service) regrantMembers(ctx context.Context, tx Tx, a Actor, org OrgSID, g *Group, users []UserSID) error {
	if !g.mapped() || len(users) == 0 {
		return nil
	}
	return s.regrantUsers(ctx, tx, a, org, users)
}

func (s *Service) regrantUsers(ctx context.Context, tx Tx, a Actor, org OrgSID, users []UserSID) error {
	for _, sid := range users {
		u, err := tx.GetUser(ctx, sid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if u.OrgSID != org {
			continue
		}
		if err := s.regrant(ctx, tx, a, u); err != nil {
			return err
		}
	}
	return nil
}

// accountRoleRank orders account roles for a user that two groups give
// different access to the same account: the grant holds the first.
var accountRoleRank = map[AccountRole]int{AccountAdministrator: 4, AccountDeveloper: 3, AccountBilling: 2, AccountSupport: 1}

// regrant makes u's group-given role and access match its groups'
// mappings: it promotes a Standard user to Administrator while it is in
// an administrator group and demotes it when it no longer is, but only
// when a group promoted it; the Owner is never touched (R-ROLE-4). It
// grants mapped account access the user does not hold, and takes away
// group-given grants no group gives any more; explicit grants stay.
func (s *Service) regrant(ctx context.Context, tx Tx, a Actor, u *User) error {
	admin, access, err := tx.UserGroupMappings(ctx, u.SID)
	if err != nil {
		return err
	}
	marked, err := tx.GroupRoleMarked(ctx, u.SID)
	if err != nil {
		return err
	}
	switch {
	case admin && u.Role == RoleStandard:
		before := clone(u)
		u.Role = RoleAdministrator
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		if err := tx.SetGroupRoleMark(ctx, u.SID, true); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, u.OrgSID, "user.role", string(u.SID), before, viaGroup{u, "granted by group membership"}); err != nil {
			return err
		}
	case !admin && marked:
		if u.Role == RoleAdministrator {
			before := clone(u)
			u.Role = RoleStandard
			if err := s.saveUser(ctx, tx, u); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, u.OrgSID, "user.role", string(u.SID), before, viaGroup{u, "taken away: no group gives it any more"}); err != nil {
				return err
			}
		}
		if err := tx.SetGroupRoleMark(ctx, u.SID, false); err != nil {
			return err
		}
	}

	want := map[AccountSID]AccountRole{}
	for _, ga := range access {
		if accountRoleRank[ga.Role] > accountRoleRank[want[ga.AccountSID]] {
			want[ga.AccountSID] = ga.Role
		}
	}
	marks, err := tx.GroupGrantMarks(ctx, u.SID)
	if err != nil {
		return err
	}
	isMarked := make(map[AccountSID]bool, len(marks))
	for _, m := range marks {
		isMarked[m] = true
	}
	held, err := tx.ListGrants(ctx, GrantFilter{UserSID: u.SID})
	if err != nil {
		return err
	}
	grants := make(map[AccountSID]*Grant, len(held))
	for _, g := range held {
		grants[g.AccountSID] = g
	}
	accts := make([]AccountSID, 0, len(want))
	for acct := range want {
		accts = append(accts, acct)
	}
	slices.Sort(accts)
	for _, acct := range accts {
		role := want[acct]
		cur := grants[acct]
		switch {
		case cur == nil:
			if _, err := s.grantableAccount(ctx, tx, u.OrgSID, acct); err != nil {
				if KindOf(err) == KindNotFound {
					continue // the account left the organization since it was mapped
				}
				return err
			}
			g := &Grant{SID: RoleAssignmentSID(NewSID(PrefixRoleAssignment)), AccountSID: acct, UserSID: u.SID,
				OrgSID: u.OrgSID, Role: role, CreatedAt: s.Now()}
			if err := tx.PutGrant(ctx, g); err != nil {
				return err
			}
			if err := tx.SetGroupGrantMark(ctx, acct, u.SID, true); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, u.OrgSID, "account.grant", string(acct), nil, viaGroup{g, "granted by group membership"}); err != nil {
				return err
			}
		case isMarked[acct] && cur.Role != role:
			before := clone(cur)
			cur.Role = role
			if err := tx.PutGrant(ctx, cur); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, u.OrgSID, "account.grant", string(acct), before, viaGroup{cur, "changed by group membership"}); err != nil {
				return err
			}
		}
	}
	for _, acct := range marks {
		if _, ok := want[acct]; ok {
			continue
		}
		if cur := grants[acct]; cur != nil {
			if err := tx.DeleteGrant(ctx, acct, u.SID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, u.OrgSID, "account.revoke", string(acct), cur, viaGroup{nil, "taken away: no group gives it any more"}); err != nil {
				return err
			}
		}
		if err := tx.SetGroupGrantMark(ctx, acct, u.SID, false); err != nil {
			return err
		}
	}
	return nil
}

// viaGroup is an audit snapshot of a change a group membership caused.
type viaGroup struct {
	Object any    `json:"object,omitempty"`
	Reason string `json:"reason"`
}

// SearchUsers returns one page of org's users matching q and how many
// match in all, in one consistent read. Owner, Administrator or the
// organization's provisioning agent (R-ROLE-3).
func (s *Service) SearchUsers(ctx context.Context, a Actor, org OrgSID, q Query) ([]*User, int, error) {
	if err := org.check("org"); err != nil {
		return nil, 0, err
	}
	if err := q.check(true); err != nil {
		return nil, 0, err
	}
	var out []*User
	var total int
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list users"); err != nil {
			return err
		}
		var err error
		if total, err = tx.CountUsersWhere(ctx, org, q.Cond); err != nil {
			return err
		}
		if q.Limit == 0 || q.Offset >= total {
			return nil
		}
		out, err = tx.SearchUsers(ctx, org, q)
		return err
	})
	return out, total, err
}

// SearchGroups returns one page of org's groups matching q and how many
// match in all; with q.Members each group carries its members, with
// q.MemberCounts its number of members.
func (s *Service) SearchGroups(ctx context.Context, a Actor, org OrgSID, q Query) ([]*Group, int, error) {
	if err := org.check("org"); err != nil {
		return nil, 0, err
	}
	if err := q.check(false); err != nil {
		return nil, 0, err
	}
	var out []*Group
	var total int
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "list groups"); err != nil {
			return err
		}
		var err error
		if total, err = tx.CountGroupsWhere(ctx, org, q.Cond); err != nil {
			return err
		}
		if q.Limit == 0 || q.Offset >= total {
			return nil
		}
		if out, err = tx.SearchGroups(ctx, org, q); err != nil {
			return err
		}
		if q.Members && len(out) > 0 {
			sids := make([]GroupSID, len(out))
			for i, g := range out {
				sids[i] = g.SID
			}
			ms, err := tx.ListGroupMembers(ctx, sids...)
			if err != nil {
				return err
			}
			for _, g := range out {
				g.Members = ms[g.SID]
			}
		}
		if q.MemberCounts && len(out) > 0 {
			sids := make([]GroupSID, len(out))
			for i, g := range out {
				sids[i] = g.SID
			}
			n, err := tx.CountGroupMembers(ctx, sids...)
			if err != nil {
				return err
			}
			for _, g := range out {
				g.MemberCount = n[g.SID]
			}
		}
		return nil
	})
	return out, total, err
}

// GroupsOf returns the groups each of users belongs to (users of other
// organizations have none), in one read.
func (s *Service) GroupsOf(ctx context.Context, a Actor, org OrgSID, users []UserSID) (map[UserSID][]GroupRef, error) {
	var out map[UserSID][]GroupRef
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "see groups"); err != nil {
			return err
		}
		var err error
		out, err = tx.UserGroups(ctx, org, users)
		return err
	})
	return out, err
}
