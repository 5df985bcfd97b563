package store

import (
	"context"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

const accountCols = `sid, friendly_name, org_sid, owner_sid, parent_sid, usage, type, status, hipaa,
	suspended_with_parent, subaccount_limit, auth_token_hash, created_at, updated_at`

func scanAccount(r scanner) (*orgmodel.Account, error) {
	var a orgmodel.Account
	err := r.Scan(&a.SID, &a.FriendlyName, &a.OrgSID, nullStr{(*string)(&a.OwnerSID)}, nullStr{(*string)(&a.ParentSID)},
		&a.Usage, &a.Type, &a.Status, &a.HIPAA, &a.SuspendedWithParent, &a.SubaccountLimit, &a.AuthTokenHash,
		msTime{&a.CreatedAt}, msTime{&a.UpdatedAt})
	return &a, err
}

func (t *tx) GetAccount(ctx context.Context, sid orgmodel.AccountSID) (*orgmodel.Account, error) {
	return getOne(ctx, t, scanAccount, `SELECT `+accountCols+` FROM accounts WHERE sid = ?`, sid)
}

func (t *tx) CreateAccount(ctx context.Context, a *orgmodel.Account) error {
	_, err := t.exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.SID, a.FriendlyName, a.OrgSID, orNull(a.OwnerSID), orNull(a.ParentSID), a.Usage, a.Type, a.Status, a.HIPAA,
		a.SuspendedWithParent, a.SubaccountLimit, a.AuthTokenHash, ms(a.CreatedAt), ms(a.UpdatedAt))
	return err
}

func (t *tx) UpdateAccount(ctx context.Context, a *orgmodel.Account) error {
	return t.execOne(ctx, `UPDATE accounts SET friendly_name = ?, org_sid = ?, owner_sid = ?, usage = ?, type = ?, status = ?,
		hipaa = ?, suspended_with_parent = ?, subaccount_limit = ?, auth_token_hash = ?, updated_at = ? WHERE sid = ?`,
		a.FriendlyName, a.OrgSID, orNull(a.OwnerSID), a.Usage, a.Type, a.Status, a.HIPAA, a.SuspendedWithParent,
		a.SubaccountLimit, a.AuthTokenHash, ms(a.UpdatedAt), a.SID)
}

func accountWhere(f orgmodel.AccountFilter) *where {
	w := &where{}
	if f.OrgSID != "" {
		w.add("org_sid = ?", f.OrgSID)
	}
	if f.OwnerSID != "" {
		w.add("owner_sid = ?", f.OwnerSID)
	}
	if f.ParentSID != "" {
		w.add("parent_sid = ?", f.ParentSID)
	}
	if f.TopLevel {
		w.add("parent_sid IS NULL")
	}
	if f.NotClosed {
		w.add("status <> 'closed'")
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.FriendlyName != "" {
		w.add("friendly_name = ?", f.FriendlyName)
	}
	return w
}

func (t *tx) ListAccounts(ctx context.Context, f orgmodel.AccountFilter) ([]*orgmodel.Account, error) {
	w := accountWhere(f)
	if f.AfterSID != "" {
		w.add("sid > ?", f.AfterSID)
	}
	return getAll(ctx, t, scanAccount, `SELECT `+accountCols+` FROM accounts`+w.sql()+` ORDER BY sid`+limit(f.Limit), w.args...)
}

func (t *tx) CountAccounts(ctx context.Context, f orgmodel.AccountFilter) (int, error) {
	w := accountWhere(f)
	return t.count(ctx, `SELECT COUNT(*) FROM accounts`+w.sql(), w.args...)
}

func (t *tx) MoveAccounts(ctx context.Context, from, to orgmodel.OrgSID, now time.Time) (int, error) {
	n, err := t.count(ctx, `SELECT COUNT(*) FROM accounts WHERE org_sid = ? AND parent_sid IS NULL`, from)
	if err != nil {
		return 0, err
	}
	_, err = t.exec(ctx, `UPDATE accounts SET org_sid = ?, updated_at = ? WHERE org_sid = ?`, to, ms(now), from)
	return n, err
}

func (t *tx) MoveAccountTree(ctx context.Context, sid orgmodel.AccountSID, org orgmodel.OrgSID, now time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM grants WHERE account_sid = ? OR account_sid IN (SELECT sid FROM accounts WHERE parent_sid = ?)`, sid, sid); err != nil {
		return err
	}
	_, err := t.exec(ctx, `UPDATE accounts SET org_sid = ?, updated_at = ? WHERE sid = ? OR parent_sid = ?`, org, ms(now), sid, sid)
	return err
}

func (t *tx) ReassignAccounts(ctx context.Context, org orgmodel.OrgSID, from, to orgmodel.UserSID, now time.Time) (int, error) {
	r, err := t.exec(ctx, `UPDATE accounts SET owner_sid = ?, updated_at = ? WHERE org_sid = ? AND owner_sid = ?`, to, ms(now), org, from)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

const linkCols = `org_sid, account_sid, relation, requested_by, token_hash, expires_at, created_at`

func scanLink(r scanner) (*orgmodel.AccountLink, error) {
	var l orgmodel.AccountLink
	err := r.Scan(&l.OrgSID, &l.AccountSID, &l.Relation, &l.RequestedBy, nullStr{&l.TokenHash}, msNull{&l.ExpiresAt}, msTime{&l.CreatedAt})
	return &l, err
}

func (t *tx) PutLink(ctx context.Context, l *orgmodel.AccountLink) error {
	_, err := t.exec(ctx, `INSERT INTO account_links (`+linkCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_sid, account_sid) DO UPDATE SET relation = excluded.relation, requested_by = excluded.requested_by,
		token_hash = excluded.token_hash, expires_at = excluded.expires_at, created_at = excluded.created_at`,
		l.OrgSID, l.AccountSID, l.Relation, l.RequestedBy, orNull(l.TokenHash), nms(l.ExpiresAt), ms(l.CreatedAt))
	return err
}

func (t *tx) GetLink(ctx context.Context, org orgmodel.OrgSID, acct orgmodel.AccountSID) (*orgmodel.AccountLink, error) {
	return getOne(ctx, t, scanLink, `SELECT `+linkCols+` FROM account_links WHERE org_sid = ? AND account_sid = ?`, org, acct)
}

func (t *tx) GetLinkByTokenHash(ctx context.Context, h string) (*orgmodel.AccountLink, error) {
	return getOne(ctx, t, scanLink, `SELECT `+linkCols+` FROM account_links WHERE token_hash = ?`, h)
}

func (t *tx) DeleteLink(ctx context.Context, org orgmodel.OrgSID, acct orgmodel.AccountSID) error {
	return t.execOne(ctx, `DELETE FROM account_links WHERE org_sid = ? AND account_sid = ?`, org, acct)
}

func (t *tx) ListLinks(ctx context.Context, org orgmodel.OrgSID, acct orgmodel.AccountSID) ([]*orgmodel.AccountLink, error) {
	w := &where{}
	if org != "" {
		w.add("org_sid = ?", org)
	}
	if acct != "" {
		w.add("account_sid = ?", acct)
	}
	return getAll(ctx, t, scanLink, `SELECT `+linkCols+` FROM account_links`+w.sql()+` ORDER BY org_sid, account_sid`, w.args...)
}

func (t *tx) ListLinkedAccounts(ctx context.Context, org orgmodel.OrgSID) ([]*orgmodel.AccountView, error) {
	cols := `a.sid, a.friendly_name, a.org_sid, a.owner_sid, a.parent_sid, a.usage, a.type, a.status, a.hipaa,
		a.suspended_with_parent, a.subaccount_limit, a.auth_token_hash, a.created_at, a.updated_at, l.relation`
	return getAll(ctx, t, func(r scanner) (*orgmodel.AccountView, error) {
		var v orgmodel.AccountView
		a := &v.Account
		err := r.Scan(&a.SID, &a.FriendlyName, &a.OrgSID, nullStr{(*string)(&a.OwnerSID)}, nullStr{(*string)(&a.ParentSID)},
			&a.Usage, &a.Type, &a.Status, &a.HIPAA, &a.SuspendedWithParent, &a.SubaccountLimit, &a.AuthTokenHash,
			msTime{&a.CreatedAt}, msTime{&a.UpdatedAt}, &v.Relation)
		return &v, err
	}, `SELECT `+cols+` FROM account_links l JOIN accounts a ON a.sid = l.account_sid WHERE l.org_sid = ? ORDER BY a.sid`, org)
}

func (t *tx) DeleteExpiredLinks(ctx context.Context, now time.Time, n int) ([]*orgmodel.AccountLink, error) {
	links, err := getAll(ctx, t, scanLink, `SELECT `+linkCols+` FROM account_links WHERE relation = 'pending' AND expires_at <= ? ORDER BY expires_at`+limit(n)+t.d.skipLocked, ms(now))
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if err := t.DeleteLink(ctx, l.OrgSID, l.AccountSID); err != nil {
			return nil, err
		}
	}
	return links, nil
}

const grantCols = `sid, account_sid, user_sid, org_sid, role, created_at`

func scanGrant(r scanner) (*orgmodel.Grant, error) {
	var g orgmodel.Grant
	err := r.Scan(&g.SID, &g.AccountSID, &g.UserSID, &g.OrgSID, &g.Role, msTime{&g.CreatedAt})
	return &g, err
}

func (t *tx) PutGrant(ctx context.Context, g *orgmodel.Grant) error {
	_, err := t.exec(ctx, `INSERT INTO grants (`+grantCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_sid, user_sid) DO UPDATE SET role = excluded.role, org_sid = excluded.org_sid`,
		g.SID, g.AccountSID, g.UserSID, g.OrgSID, g.Role, ms(g.CreatedAt))
	return err
}

func (t *tx) GetGrant(ctx context.Context, acct orgmodel.AccountSID, user orgmodel.UserSID) (*orgmodel.Grant, error) {
	return getOne(ctx, t, scanGrant, `SELECT `+grantCols+` FROM grants WHERE account_sid = ? AND user_sid = ?`, acct, user)
}

func (t *tx) GetGrantBySID(ctx context.Context, sid orgmodel.RoleAssignmentSID) (*orgmodel.Grant, error) {
	return getOne(ctx, t, scanGrant, `SELECT `+grantCols+` FROM grants WHERE sid = ?`, sid)
}

func (t *tx) DeleteGrant(ctx context.Context, acct orgmodel.AccountSID, user orgmodel.UserSID) error {
	return t.execOne(ctx, `DELETE FROM grants WHERE account_sid = ? AND user_sid = ?`, acct, user)
}

func (t *tx) ListGrants(ctx context.Context, f orgmodel.GrantFilter) ([]*orgmodel.Grant, error) {
	w := &where{}
	if f.OrgSID != "" {
		w.add("org_sid = ?", f.OrgSID)
	}
	if f.UserSID != "" {
		w.add("user_sid = ?", f.UserSID)
	}
	if f.AccountSID != "" {
		w.add("account_sid = ?", f.AccountSID)
	}
	if f.AfterSID != "" {
		w.add("sid > ?", f.AfterSID)
	}
	return getAll(ctx, t, scanGrant, `SELECT `+grantCols+` FROM grants`+w.sql()+` ORDER BY sid`+limit(f.Limit), w.args...)
}

func (t *tx) DeleteUserGrants(ctx context.Context, user orgmodel.UserSID) (int, error) {
	r, err := t.exec(ctx, `DELETE FROM grants WHERE user_sid = ?`, user)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func (t *tx) MoveGrants(ctx context.Context, from, to orgmodel.OrgSID) error {
	_, err := t.exec(ctx, `UPDATE grants SET org_sid = ? WHERE org_sid = ?`, to, from)
	return err
}
