package orgmodel

import (
	"context"
)

// GroupPage is a group as the console shows it: the group and its mapping,
// one page of its members and how many there are in all.
type GroupPage struct {
	Group   *Group
	Members []*User // in SID order, after the SID asked for
	Total   int     // members in all
	Next    UserSID // what to ask after for the next page; "" on the last
}

// MaxGroupPageMembers bounds the members one GroupMembersPage returns.
const MaxGroupPageMembers = 500

// GroupMembersPage returns a group of org with limit of its members after
// the user SID after (keyset paging, in SID order) and the number of all,
// in one read that touches only the page's members, so that a page costs
// the same for a group of 100,000 members as for one of 3. Owner or
// Administrator (R-ROLE-3); a group of another organization is NotFound,
// as a missing one is.
func (s *Service) GroupMembersPage(ctx context.Context, a Actor, org OrgSID, sid GroupSID, after UserSID, limit int) (*GroupPage, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if err := sid.check("group"); err != nil {
		return nil, NotFound("group", truncate(string(sid), 40))
	}
	if after != "" {
		if err := after.check("after"); err != nil {
			return nil, err
		}
	}
	if limit < 1 || limit > MaxGroupPageMembers {
		return nil, Invalid("limit", "a page holds 1 to %d members", MaxGroupPageMembers)
	}
	var out *GroupPage
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "see groups"); err != nil {
			return err
		}
		g, err := groupOf(ctx, tx, org, sid)
		if err != nil {
			return err
		}
		n, err := tx.CountGroupMembers(ctx, sid)
		if err != nil {
			return err
		}
		ms, err := tx.GroupMembersAfter(ctx, sid, after, limit+1)
		if err != nil {
			return err
		}
		p := &GroupPage{Group: g, Total: n[sid], Members: ms}
		g.MemberCount = p.Total
		if len(ms) > limit {
			p.Members = ms[:limit]
			p.Next = ms[limit-1].SID
		}
		out = p
		return nil
	})
	return out, err
}
