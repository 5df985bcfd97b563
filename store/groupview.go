package store

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
)

// The console's reads of groups (issue 6).

// CountGroupMembers counts the members of a page of groups in one
// statement per sidsPerStatement groups, from group_members' primary key
// (group_sid, user_sid) alone: the console lists groups with their sizes
// without reading a member.
func (t *tx) CountGroupMembers(ctx context.Context, groups ...orgmodel.GroupSID) (map[orgmodel.GroupSID]int, error) {
	out := make(map[orgmodel.GroupSID]int, len(groups))
	err := chunks(groups, func(args []any) error {
		rows, err := t.dynQuery(ctx, countGroupMembersSQL(len(args)), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g orgmodel.GroupSID
			var n int
			if err := rows.Scan(&g, &n); err != nil {
				return t.d.translate(err)
			}
			out[g] = n
		}
		return t.d.translate(rows.Err())
	})
	return out, err
}

// countGroupMembersSQL counts the members of n groups.
func countGroupMembersSQL(n int) string {
	return `SELECT group_sid, COUNT(*) FROM group_members WHERE group_sid IN (` + placeholders(n) + `) GROUP BY group_sid`
}

// GroupMembersAfter pages through a group's members along group_members'
// key (group_sid, user_sid): a page reads its own rows and nothing else.
func (t *tx) GroupMembersAfter(ctx context.Context, g orgmodel.GroupSID, after orgmodel.UserSID, limit int) ([]*orgmodel.User, error) {
	return getAll(ctx, t, t.scanUser, `SELECT `+userColsU+` FROM group_members m JOIN users u ON u.sid = m.user_sid
		WHERE m.group_sid = ? AND m.user_sid > ? ORDER BY m.user_sid LIMIT ?`, g, after, limit)
}
