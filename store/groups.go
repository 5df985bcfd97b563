package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// sidsPerStatement bounds the SIDs one IN list or multi-row INSERT binds.
const sidsPerStatement = 500

const groupCols = `sid, org_sid, display_name, external_id, role, version, created_at, updated_at`

func scanGroup(r scanner) (*orgmodel.Group, error) {
	var g orgmodel.Group
	err := r.Scan(&g.SID, &g.OrgSID, &g.DisplayName, &g.ExternalID, &g.Role, &g.Version, msTime{&g.CreatedAt}, msTime{&g.UpdatedAt})
	return &g, err
}

func (t *tx) CreateGroup(ctx context.Context, g *orgmodel.Group) error {
	_, err := t.exec(ctx, `INSERT INTO scim_groups (sid, org_sid, display_name, display_key, external_id, role, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.SID, g.OrgSID, g.DisplayName, orgmodel.FoldKey(g.DisplayName), g.ExternalID, g.Role, g.Version, ms(g.CreatedAt), ms(g.UpdatedAt))
	return err
}

func (t *tx) GetGroup(ctx context.Context, sid orgmodel.GroupSID) (*orgmodel.Group, error) {
	g, err := getOne(ctx, t, scanGroup, `SELECT `+groupCols+` FROM scim_groups WHERE sid = ?`, sid)
	if err != nil {
		return nil, err
	}
	return g, t.loadGroupAccounts(ctx, g)
}

func (t *tx) loadGroupAccounts(ctx context.Context, g *orgmodel.Group) error {
	rows, err := t.query(ctx, `SELECT account_sid, role FROM group_accounts WHERE group_sid = ? ORDER BY account_sid`, g.SID)
	if err != nil {
		return err
	}
	defer rows.Close()
	g.Accounts = nil
	for rows.Next() {
		var ga orgmodel.GroupAccess
		if err := rows.Scan(&ga.AccountSID, &ga.Role); err != nil {
			return t.d.translate(err)
		}
		g.Accounts = append(g.Accounts, ga)
	}
	return t.d.translate(rows.Err())
}

func (t *tx) GetGroupByName(ctx context.Context, org orgmodel.OrgSID, key string) (*orgmodel.Group, error) {
	return getOne(ctx, t, scanGroup, `SELECT `+groupCols+` FROM scim_groups WHERE org_sid = ? AND display_key = ?`, org, key)
}

func (t *tx) UpdateGroup(ctx context.Context, g *orgmodel.Group) error {
	return t.execOne(ctx, `UPDATE scim_groups SET display_name = ?, display_key = ?, external_id = ?, role = ?, version = ?, updated_at = ?
		WHERE sid = ?`, g.DisplayName, orgmodel.FoldKey(g.DisplayName), g.ExternalID, g.Role, g.Version, ms(g.UpdatedAt), g.SID)
}

func (t *tx) DeleteGroup(ctx context.Context, sid orgmodel.GroupSID) error {
	return t.execOne(ctx, `DELETE FROM scim_groups WHERE sid = ?`, sid)
}

func (t *tx) SetGroupAccounts(ctx context.Context, g orgmodel.GroupSID, access []orgmodel.GroupAccess) error {
	if _, err := t.exec(ctx, `DELETE FROM group_accounts WHERE group_sid = ?`, g); err != nil {
		return err
	}
	for _, ga := range access {
		if _, err := t.exec(ctx, `INSERT INTO group_accounts (group_sid, account_sid, role) VALUES (?, ?, ?)`, g, ga.AccountSID, ga.Role); err != nil {
			return err
		}
	}
	return nil
}

var groupColsG = qualify("g", groupCols)

func (t *tx) SearchGroups(ctx context.Context, org orgmodel.OrgSID, q orgmodel.Query) ([]*orgmodel.Group, error) {
	b := &sqlb{d: t.d, org: org}
	b.w("SELECT ", groupColsG, " FROM scim_groups g WHERE g.org_sid = ")
	b.arg(string(org))
	b.w(" AND ")
	if err := b.cond(relGroups, q.Cond); err != nil {
		return nil, err
	}
	if err := b.order(relGroups, q.Sort); err != nil {
		return nil, err
	}
	b.page(q.Offset, q.Limit)
	gs, err := dynAll(ctx, t, scanGroup, b.b.String(), b.args...)
	if err != nil || len(gs) == 0 {
		return gs, err
	}
	// The mappings of the page, in one statement.
	byID := make(map[orgmodel.GroupSID]*orgmodel.Group, len(gs))
	args := make([]any, 0, len(gs))
	for _, g := range gs {
		byID[g.SID] = g
		args = append(args, g.SID)
	}
	rows, err := t.dynQuery(ctx, `SELECT group_sid, account_sid, role FROM group_accounts WHERE group_sid IN (`+placeholders(len(args))+`) ORDER BY group_sid, account_sid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var gid orgmodel.GroupSID
		var ga orgmodel.GroupAccess
		if err := rows.Scan(&gid, &ga.AccountSID, &ga.Role); err != nil {
			return nil, t.d.translate(err)
		}
		byID[gid].Accounts = append(byID[gid].Accounts, ga)
	}
	return gs, t.d.translate(rows.Err())
}

func (t *tx) CountGroupsWhere(ctx context.Context, org orgmodel.OrgSID, c orgmodel.Cond) (int, error) {
	b := &sqlb{d: t.d, org: org}
	b.w("SELECT COUNT(*) FROM scim_groups g WHERE g.org_sid = ")
	b.arg(string(org))
	b.w(" AND ")
	if err := b.cond(relGroups, c); err != nil {
		return 0, err
	}
	return t.dynCount(ctx, b.b.String(), b.args...)
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// chunks calls fn with successive slices of at most sidsPerStatement SIDs.
func chunks[S ~string](sids []S, fn func([]any) error) error {
	for len(sids) > 0 {
		n := min(len(sids), sidsPerStatement)
		args := make([]any, n)
		for i, s := range sids[:n] {
			args[i] = string(s)
		}
		if err := fn(args); err != nil {
			return err
		}
		sids = sids[n:]
	}
	return nil
}

func (t *tx) OrgUserSIDs(ctx context.Context, org orgmodel.OrgSID, sids []orgmodel.UserSID) ([]orgmodel.UserSID, error) {
	var out []orgmodel.UserSID
	err := chunks(sids, func(args []any) error {
		rows, err := t.dynQuery(ctx, `SELECT sid FROM users WHERE org_sid = ? AND sid IN (`+placeholders(len(args))+`)`,
			append([]any{org}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s orgmodel.UserSID
			if err := rows.Scan(&s); err != nil {
				return t.d.translate(err)
			}
			out = append(out, s)
		}
		return t.d.translate(rows.Err())
	})
	return out, err
}

func (t *tx) ListGroupMembers(ctx context.Context, groups ...orgmodel.GroupSID) (map[orgmodel.GroupSID][]orgmodel.GroupMember, error) {
	out := make(map[orgmodel.GroupSID][]orgmodel.GroupMember, len(groups))
	err := chunks(groups, func(args []any) error {
		q := `SELECT m.group_sid, m.user_sid, u.email FROM group_members m JOIN users u ON u.sid = m.user_sid
			WHERE m.group_sid = ? ORDER BY m.user_sid`
		if len(args) > 1 {
			q = `SELECT m.group_sid, m.user_sid, u.email FROM group_members m JOIN users u ON u.sid = m.user_sid
			WHERE m.group_sid IN (` + placeholders(len(args)) + `) ORDER BY m.group_sid, m.user_sid`
		}
		rows, err := t.dynQuery(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g orgmodel.GroupSID
			var m orgmodel.GroupMember
			if err := rows.Scan(&g, &m.UserSID, &m.Email); err != nil {
				return t.d.translate(err)
			}
			out[g] = append(out[g], m)
		}
		return t.d.translate(rows.Err())
	})
	return out, err
}

func (t *tx) AddGroupMembers(ctx context.Context, org orgmodel.OrgSID, g orgmodel.GroupSID, users []orgmodel.UserSID, now time.Time) ([]orgmodel.UserSID, error) {
	var added []orgmodel.UserSID
	at := ms(now)
	err := chunks(users, func(args []any) error {
		var b strings.Builder
		b.WriteString(`INSERT INTO group_members (group_sid, user_sid, org_sid, added_at) VALUES `)
		vals := make([]any, 0, 4*len(args))
		for i, u := range args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			vals = append(vals, g, u, org, at)
		}
		b.WriteString(` ON CONFLICT (group_sid, user_sid) DO NOTHING RETURNING user_sid`)
		rows, err := t.dynQuery(ctx, b.String(), vals...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s orgmodel.UserSID
			if err := rows.Scan(&s); err != nil {
				return t.d.translate(err)
			}
			added = append(added, s)
		}
		return t.d.translate(rows.Err())
	})
	return added, err
}

func (t *tx) RemoveGroupMembers(ctx context.Context, g orgmodel.GroupSID, users []orgmodel.UserSID) ([]orgmodel.UserSID, error) {
	var removed []orgmodel.UserSID
	err := chunks(users, func(args []any) error {
		rows, err := t.dynQuery(ctx, `DELETE FROM group_members WHERE group_sid = ? AND user_sid IN (`+placeholders(len(args))+`) RETURNING user_sid`,
			append([]any{g}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s orgmodel.UserSID
			if err := rows.Scan(&s); err != nil {
				return t.d.translate(err)
			}
			removed = append(removed, s)
		}
		return t.d.translate(rows.Err())
	})
	return removed, err
}

// userGroupsSQL selects the groups of n users of an organization (its
// arguments: the users, then the organization). CROSS JOIN keeps SQLite's
// planner on the users' memberships (group_members_user: a seek per
// user); it chose to try every group of the organization against every
// user instead, groups × users seeks (9 ms of CPU for a SCIM page of 100
// users with 20 groups). PostgreSQL plans a CROSS JOIN as any inner join.
func userGroupsSQL(n int) string {
	return `SELECT m.user_sid, g.sid, g.display_name FROM group_members m CROSS JOIN scim_groups g
		WHERE g.sid = m.group_sid AND m.user_sid IN (` + placeholders(n) + `) AND g.org_sid = ? ORDER BY m.user_sid, g.sid`
}

func (t *tx) UserGroups(ctx context.Context, org orgmodel.OrgSID, users []orgmodel.UserSID) (map[orgmodel.UserSID][]orgmodel.GroupRef, error) {
	out := make(map[orgmodel.UserSID][]orgmodel.GroupRef, len(users))
	err := chunks(users, func(args []any) error {
		rows, err := t.dynQuery(ctx, userGroupsSQL(len(args)), append(args, org)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u orgmodel.UserSID
			var r orgmodel.GroupRef
			if err := rows.Scan(&u, &r.SID, &r.DisplayName); err != nil {
				return t.d.translate(err)
			}
			out[u] = append(out[u], r)
		}
		return t.d.translate(rows.Err())
	})
	return out, err
}

func (t *tx) UserGroupMappings(ctx context.Context, user orgmodel.UserSID) (bool, []orgmodel.GroupAccess, error) {
	n, err := t.count(ctx, `SELECT COUNT(*) FROM group_members m JOIN scim_groups g ON g.sid = m.group_sid
		WHERE m.user_sid = ? AND g.role = 'administrator'`, user)
	if err != nil {
		return false, nil, err
	}
	rows, err := t.query(ctx, `SELECT a.account_sid, a.role FROM group_members m JOIN group_accounts a ON a.group_sid = m.group_sid
		WHERE m.user_sid = ? ORDER BY a.account_sid, a.role`, user)
	if err != nil {
		return false, nil, err
	}
	defer rows.Close()
	var out []orgmodel.GroupAccess
	for rows.Next() {
		var ga orgmodel.GroupAccess
		if err := rows.Scan(&ga.AccountSID, &ga.Role); err != nil {
			return false, nil, t.d.translate(err)
		}
		out = append(out, ga)
	}
	return n > 0, out, t.d.translate(rows.Err())
}

func (t *tx) GroupRoleMarked(ctx context.Context, user orgmodel.UserSID) (bool, error) {
	n, err := t.count(ctx, `SELECT COUNT(*) FROM group_role_marks WHERE user_sid = ?`, user)
	return n > 0, err
}

func (t *tx) SetGroupRoleMark(ctx context.Context, user orgmodel.UserSID, on bool) error {
	if !on {
		_, err := t.exec(ctx, `DELETE FROM group_role_marks WHERE user_sid = ?`, user)
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO group_role_marks (user_sid) VALUES (?) ON CONFLICT (user_sid) DO NOTHING`, user)
	return err
}

func (t *tx) GroupGrantMarks(ctx context.Context, user orgmodel.UserSID) ([]orgmodel.AccountSID, error) {
	rows, err := t.query(ctx, `SELECT account_sid FROM group_grant_marks WHERE user_sid = ? ORDER BY account_sid`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgmodel.AccountSID
	for rows.Next() {
		var a orgmodel.AccountSID
		if err := rows.Scan(&a); err != nil {
			return nil, t.d.translate(err)
		}
		out = append(out, a)
	}
	return out, t.d.translate(rows.Err())
}

func (t *tx) SetGroupGrantMark(ctx context.Context, acct orgmodel.AccountSID, user orgmodel.UserSID, on bool) error {
	if !on {
		_, err := t.exec(ctx, `DELETE FROM group_grant_marks WHERE account_sid = ? AND user_sid = ?`, acct, user)
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO group_grant_marks (account_sid, user_sid) VALUES (?, ?) ON CONFLICT (account_sid, user_sid) DO NOTHING`, acct, user)
	if errors.Is(err, orgmodel.ErrConflict) {
		return orgmodel.ErrNotFound // no such grant to mark
	}
	return err
}
