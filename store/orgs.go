package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

const orgCols = `sid, friendly_name, owner_sid, account_limit, baa_at, bulk_import, created_at, updated_at`

func scanOrg(r scanner) (*orgmodel.Org, error) {
	var o orgmodel.Org
	err := r.Scan(&o.SID, &o.FriendlyName, &o.OwnerSID, &o.AccountLimit, msNull{&o.BAAAt}, &o.BulkImportEnabled,
		msTime{&o.CreatedAt}, msTime{&o.UpdatedAt})
	return &o, err
}

func (t *tx) GetOrg(ctx context.Context, sid orgmodel.OrgSID) (*orgmodel.Org, error) {
	return t.getOrg(ctx, sid, "")
}

func (t *tx) LockOrg(ctx context.Context, sid orgmodel.OrgSID) (*orgmodel.Org, error) {
	return t.getOrg(ctx, sid, t.d.forUpdate)
}

func (t *tx) getOrg(ctx context.Context, sid orgmodel.OrgSID, lock string) (*orgmodel.Org, error) {
	if o, ok := t.rows.org(sid); ok {
		return o, nil
	}
	o, err := getOne(ctx, t, scanOrg, `SELECT `+orgCols+` FROM orgs WHERE sid = ?`+lock, sid)
	if err == nil {
		t.rows.keepOrg(o)
	}
	return o, err
}

func (t *tx) CreateOrg(ctx context.Context, o *orgmodel.Org) error {
	t.rows.orgsChanged()
	_, err := t.exec(ctx, `INSERT INTO orgs (`+orgCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		o.SID, o.FriendlyName, o.OwnerSID, o.AccountLimit, nms(o.BAAAt), o.BulkImportEnabled, ms(o.CreatedAt), ms(o.UpdatedAt))
	return err
}

func (t *tx) UpdateOrg(ctx context.Context, o *orgmodel.Org) error {
	t.rows.orgsChanged()
	return t.execOne(ctx, `UPDATE orgs SET friendly_name = ?, owner_sid = ?, account_limit = ?, baa_at = ?, bulk_import = ?, updated_at = ? WHERE sid = ?`,
		o.FriendlyName, o.OwnerSID, o.AccountLimit, nms(o.BAAAt), o.BulkImportEnabled, ms(o.UpdatedAt), o.SID)
}

func (t *tx) DeleteOrg(ctx context.Context, sid orgmodel.OrgSID) error {
	t.rows.orgsChanged()
	return t.execOne(ctx, `DELETE FROM orgs WHERE sid = ?`, sid)
}

const userCols = `sid, email, org_sid, role, status, given_name, family_name, display_name, external_id, locale, timezone,
	extra, version, password_hash, totp_secret, mfa_enrol_required, created_at, updated_at`

// scanUser scans a user and opens its sealed TOTP secret.
func (t *tx) scanUser(r scanner) (*orgmodel.User, error) {
	u, err := scanUserRow(r)
	if err != nil {
		return nil, err
	}
	if u.TOTPSecret, err = t.keys.open("users.totp_secret", u.TOTPSecret); err != nil {
		return nil, err
	}
	return u, nil
}

func scanUserRow(r scanner) (*orgmodel.User, error) {
	var u orgmodel.User
	err := r.Scan(&u.SID, &u.Email, &u.OrgSID, &u.Role, &u.Status, &u.GivenName, &u.FamilyName, &u.DisplayName,
		&u.ExternalID, &u.Locale, &u.Timezone, &u.Extra, &u.Version, &u.PasswordHash, &u.TOTPSecret,
		&u.MFAEnrolRequired, msTime{&u.CreatedAt}, msTime{&u.UpdatedAt})
	return &u, err
}

func (t *tx) GetUser(ctx context.Context, sid orgmodel.UserSID) (*orgmodel.User, error) {
	return getOne(ctx, t, t.scanUser, `SELECT `+userCols+` FROM users WHERE sid = ?`, sid)
}

func (t *tx) GetUserByEmail(ctx context.Context, email string) (*orgmodel.User, error) {
	return getOne(ctx, t, t.scanUser, `SELECT `+userCols+` FROM users WHERE email_key = ?`, orgmodel.EmailKey(email))
}

func (t *tx) OrgOfEmail(ctx context.Context, email string) (orgmodel.OrgSID, error) {
	var org orgmodel.OrgSID
	err := t.queryRow(ctx, `SELECT org_sid FROM users WHERE email_key = ?`, orgmodel.EmailKey(email)).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return "", orgmodel.ErrNotFound
	}
	return org, t.d.translate(err)
}

func (t *tx) CreateUser(ctx context.Context, u *orgmodel.User) error {
	return t.CreateUserWithTerms(ctx, u, orgmodel.UserTerms(u))
}

func (t *tx) CreateUserWithTerms(ctx context.Context, u *orgmodel.User, terms []orgmodel.Term) error {
	_, err := t.exec(ctx, `INSERT INTO users (`+userCols+`, email_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.SID, u.Email, u.OrgSID, u.Role, u.Status, u.GivenName, u.FamilyName, u.DisplayName, u.ExternalID, u.Locale,
		u.Timezone, u.Extra, u.Version, u.PasswordHash, t.keys.seal("users.totp_secret", u.TOTPSecret), u.MFAEnrolRequired, ms(u.CreatedAt), ms(u.UpdatedAt),
		orgmodel.EmailKey(u.Email))
	if err != nil {
		return err
	}
	if t.d.name == "sqlite" { // PostgreSQL's trigger counts it (migration 00071)
		if err := t.countUsers(ctx, u.OrgSID, 1); err != nil {
			return err
		}
	}
	return t.insertTerms(ctx, u.SID, u.OrgSID, terms) // SCIM (issue 3): searchable terms
}

// countUsers adds n users of org to user_counts on SQLite, where the
// store counts the users it inserts (migration 00071; deletes and moves
// are counted by triggers): in a batch of writes, once before its commit.
func (t *tx) countUsers(ctx context.Context, org orgmodel.OrgSID, n int64) error {
	if t.counts != nil {
		t.counts[org] += n
		return nil
	}
	_, err := t.exec(ctx, addUserCount, org, n)
	return err
}

// addUserCount adds to an organization's count of users (SQLite's one shard).
const addUserCount = `INSERT INTO user_counts (org_sid, shard, n) VALUES (?, 0, ?)
	ON CONFLICT (org_sid, shard) DO UPDATE SET n = n + excluded.n`

// userCounts holds the users a batch of writes inserted, by organization,
// until it writes them before its commit (batchState).
type userCounts map[orgmodel.OrgSID]int64

func (c userCounts) flush(ctx context.Context, t *tx) error {
	for _, org := range slices.Sorted(maps.Keys(c)) {
		if _, err := t.exec(ctx, addUserCount, org, c[org]); err != nil {
			return err
		}
		delete(c, org)
	}
	return nil
}

func (t *tx) UpdateUser(ctx context.Context, u *orgmodel.User) error {
	if err := t.updateUserRow(ctx, u); err != nil {
		return err
	}
	return t.writeUserTerms(ctx, u) // SCIM (issue 3): searchable terms
}

func (t *tx) updateUserRow(ctx context.Context, u *orgmodel.User) error {
	return t.execOne(ctx, `UPDATE users SET email = ?, email_key = ?, org_sid = ?, role = ?, status = ?, given_name = ?,
		family_name = ?, display_name = ?, external_id = ?, locale = ?, timezone = ?, extra = ?, version = ?,
		password_hash = ?, totp_secret = ?, mfa_enrol_required = ?, updated_at = ? WHERE sid = ?`,
		u.Email, orgmodel.EmailKey(u.Email), u.OrgSID, u.Role, u.Status, u.GivenName, u.FamilyName, u.DisplayName,
		u.ExternalID, u.Locale, u.Timezone, u.Extra, u.Version, u.PasswordHash, t.keys.seal("users.totp_secret", u.TOTPSecret), u.MFAEnrolRequired,
		ms(u.UpdatedAt), u.SID)
}

func (t *tx) DeleteUser(ctx context.Context, sid orgmodel.UserSID) error {
	return t.execOne(ctx, `DELETE FROM users WHERE sid = ?`, sid)
}

func userWhere(f orgmodel.UserFilter) *where {
	w := &where{}
	if f.OrgSID != "" {
		w.add("org_sid = ?", f.OrgSID)
	}
	if f.Role != "" {
		w.add("role = ?", f.Role)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	return w
}

func (t *tx) ListUsers(ctx context.Context, f orgmodel.UserFilter) ([]*orgmodel.User, error) {
	w := userWhere(f)
	if f.AfterSID != "" {
		w.add("sid > ?", f.AfterSID)
	}
	return getAll(ctx, t, t.scanUser, `SELECT `+userCols+` FROM users`+w.sql()+` ORDER BY sid`+limit(f.Limit), w.args...)
}

func (t *tx) CountUsers(ctx context.Context, f orgmodel.UserFilter) (int, error) {
	w := userWhere(f)
	return t.count(ctx, `SELECT COUNT(*) FROM users`+w.sql(), w.args...)
}

func (t *tx) MoveUsers(ctx context.Context, from, to orgmodel.OrgSID, now time.Time) (int, error) {
	r, err := t.exec(ctx, `UPDATE users SET org_sid = ?, version = version + 1, updated_at = ? WHERE org_sid = ?`, to, ms(now), from)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}
