package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

const scimTokenCols = `id, org_sid, name, token_hash, created_at, last_used_at, revoked_at`

func scanSCIMToken(r scanner) (*orgmodel.SCIMToken, error) {
	var s orgmodel.SCIMToken
	err := r.Scan(&s.ID, &s.OrgSID, &s.Name, &s.TokenHash, msTime{&s.CreatedAt}, msNull{&s.LastUsedAt}, msNull{&s.RevokedAt})
	return &s, err
}

func (t *tx) CreateSCIMToken(ctx context.Context, s *orgmodel.SCIMToken) error {
	_, err := t.exec(ctx, `INSERT INTO scim_tokens (`+scimTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.OrgSID, s.Name, s.TokenHash, ms(s.CreatedAt), nms(s.LastUsedAt), nms(s.RevokedAt))
	return err
}

const scimTokenByHash = `SELECT ` + scimTokenCols + ` FROM scim_tokens WHERE token_hash = ?`

func (t *tx) GetSCIMTokenByHash(ctx context.Context, h string) (*orgmodel.SCIMToken, error) {
	return getOne(ctx, t, scanSCIMToken, scimTokenByHash, h)
}

// SCIMTokenByHash runs GetSCIMTokenByHash's statement on the read pool,
// outside a transaction (orgmodel.Store): one row needs no snapshot but its
// statement's, and on SQLite the BEGIN and COMMIT of a read transaction
// were a third of that read's CPU.
func (s *DB) SCIMTokenByHash(ctx context.Context, h string) (*orgmodel.SCIMToken, error) {
	q := s.d.rebind(scimTokenByHash)
	var row *sql.Row
	if st := s.rs.get(q); st != nil {
		row = st.QueryRowContext(ctx, h)
	} else {
		row = s.r.QueryRowContext(ctx, q, h)
	}
	t, err := scanSCIMToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orgmodel.ErrNotFound
	}
	return t, s.d.translate(err)
}

func (t *tx) ListSCIMTokens(ctx context.Context, org orgmodel.OrgSID) ([]*orgmodel.SCIMToken, error) {
	return getAll(ctx, t, scanSCIMToken, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE org_sid = ? ORDER BY created_at, id`, org)
}

func (t *tx) UpdateSCIMToken(ctx context.Context, s *orgmodel.SCIMToken) error {
	return t.execOne(ctx, `UPDATE scim_tokens SET name = ?, last_used_at = ?, revoked_at = ? WHERE id = ?`,
		s.Name, nms(s.LastUsedAt), nms(s.RevokedAt), s.ID)
}

const oauthCols = `sid, org_sid, name, secret_hash, created_at, revoked_at`

func scanOAuthClient(r scanner) (*orgmodel.OAuthClient, error) {
	var c orgmodel.OAuthClient
	err := r.Scan(&c.SID, &c.OrgSID, &c.Name, &c.SecretHash, msTime{&c.CreatedAt}, msNull{&c.RevokedAt})
	return &c, err
}

func (t *tx) CreateOAuthClient(ctx context.Context, c *orgmodel.OAuthClient) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_clients (`+oauthCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.SID, c.OrgSID, c.Name, c.SecretHash, ms(c.CreatedAt), nms(c.RevokedAt))
	return err
}

func (t *tx) GetOAuthClient(ctx context.Context, sid orgmodel.OAuthClientSID) (*orgmodel.OAuthClient, error) {
	return getOne(ctx, t, scanOAuthClient, `SELECT `+oauthCols+` FROM oauth_clients WHERE sid = ?`, sid)
}

func (t *tx) ListOAuthClients(ctx context.Context, org orgmodel.OrgSID) ([]*orgmodel.OAuthClient, error) {
	return getAll(ctx, t, scanOAuthClient, `SELECT `+oauthCols+` FROM oauth_clients WHERE org_sid = ? ORDER BY sid`, org)
}

func (t *tx) UpdateOAuthClient(ctx context.Context, c *orgmodel.OAuthClient) error {
	return t.execOne(ctx, `UPDATE oauth_clients SET name = ?, revoked_at = ? WHERE sid = ?`, c.Name, nms(c.RevokedAt), c.SID)
}

const apiKeyCols = `sid, account_sid, friendly_name, secret_hash, created_at, updated_at`

func scanAPIKey(r scanner) (*orgmodel.APIKey, error) {
	var k orgmodel.APIKey
	err := r.Scan(&k.SID, &k.AccountSID, &k.FriendlyName, &k.SecretHash, msTime{&k.CreatedAt}, msTime{&k.UpdatedAt})
	return &k, err
}

func (t *tx) CreateAPIKey(ctx context.Context, k *orgmodel.APIKey) error {
	_, err := t.exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.SID, k.AccountSID, k.FriendlyName, k.SecretHash, ms(k.CreatedAt), ms(k.UpdatedAt))
	return err
}

func (t *tx) GetAPIKey(ctx context.Context, sid orgmodel.APIKeySID) (*orgmodel.APIKey, error) {
	return getOne(ctx, t, scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE sid = ?`, sid)
}

func (t *tx) ListAPIKeys(ctx context.Context, acct orgmodel.AccountSID) ([]*orgmodel.APIKey, error) {
	return getAll(ctx, t, scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE account_sid = ? ORDER BY sid`, acct)
}

func (t *tx) DeleteAPIKey(ctx context.Context, sid orgmodel.APIKeySID) error {
	return t.execOne(ctx, `DELETE FROM api_keys WHERE sid = ?`, sid)
}

const sessionCols = `id, token_hash, user_sid, via, created_at, last_seen_at, expires_at, idle_ttl, ended_at, end_reason`

func scanSession(r scanner) (*orgmodel.Session, error) {
	var s orgmodel.Session
	err := r.Scan(&s.ID, &s.TokenHash, &s.UserSID, &s.Via, msTime{&s.CreatedAt}, msTime{&s.LastSeenAt},
		msTime{&s.ExpiresAt}, &s.IdleTTL, msNull{&s.EndedAt}, &s.EndReason)
	return &s, err
}

func (t *tx) CreateSession(ctx context.Context, s *orgmodel.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.TokenHash, s.UserSID, s.Via, ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt), s.IdleTTL,
		nms(s.EndedAt), s.EndReason)
	return err
}

func (t *tx) GetSessionByTokenHash(ctx context.Context, h string) (*orgmodel.Session, error) {
	return getOne(ctx, t, scanSession, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, h)
}

func (t *tx) UpdateSession(ctx context.Context, s *orgmodel.Session) error {
	return t.execOne(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ?, idle_ttl = ?, ended_at = ?, end_reason = ? WHERE id = ?`,
		ms(s.LastSeenAt), ms(s.ExpiresAt), s.IdleTTL, nms(s.EndedAt), s.EndReason, s.ID)
}

func (t *tx) EndUserSessions(ctx context.Context, user orgmodel.UserSID, reason string, now time.Time) (int, error) {
	r, err := t.exec(ctx, `UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_sid = ? AND ended_at IS NULL AND expires_at > ?`,
		ms(now), reason, user, ms(now))
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

const resetCols = `token_hash, user_sid, expires_at, used_at, created_at`

func scanReset(r scanner) (*orgmodel.ResetToken, error) {
	var x orgmodel.ResetToken
	err := r.Scan(&x.TokenHash, &x.UserSID, msTime{&x.ExpiresAt}, msNull{&x.UsedAt}, msTime{&x.CreatedAt})
	return &x, err
}

func (t *tx) CreateResetToken(ctx context.Context, r *orgmodel.ResetToken) error {
	_, err := t.exec(ctx, `INSERT INTO reset_tokens (`+resetCols+`) VALUES (?, ?, ?, ?, ?)`,
		r.TokenHash, r.UserSID, ms(r.ExpiresAt), nms(r.UsedAt), ms(r.CreatedAt))
	return err
}

func (t *tx) GetResetToken(ctx context.Context, h string) (*orgmodel.ResetToken, error) {
	return getOne(ctx, t, scanReset, `SELECT `+resetCols+` FROM reset_tokens WHERE token_hash = ?`, h)
}

func (t *tx) UpdateResetToken(ctx context.Context, r *orgmodel.ResetToken) error {
	return t.execOne(ctx, `UPDATE reset_tokens SET used_at = ? WHERE token_hash = ?`, nms(r.UsedAt), r.TokenHash)
}

func (t *tx) DeleteResetTokens(ctx context.Context, user orgmodel.UserSID) error {
	_, err := t.exec(ctx, `DELETE FROM reset_tokens WHERE user_sid = ?`, user)
	return err
}

const idpCols = `org_sid, entity_id, sso_url, metadata_xml, metadata_url, allow_idp_initiated, email_attribute, tested_at, created_at, updated_at`

func scanIdP(r scanner) (*orgmodel.IdP, error) {
	var p orgmodel.IdP
	err := r.Scan(&p.OrgSID, &p.EntityID, &p.SSOURL, &p.MetadataXML, &p.MetadataURL, &p.AllowIdPInitiated,
		&p.EmailAttribute, msNull{&p.TestedAt}, msTime{&p.CreatedAt}, msTime{&p.UpdatedAt})
	return &p, err
}

func (t *tx) GetIdP(ctx context.Context, org orgmodel.OrgSID) (*orgmodel.IdP, error) {
	return getOne(ctx, t, scanIdP, `SELECT `+idpCols+` FROM idps WHERE org_sid = ?`, org)
}

func (t *tx) PutIdP(ctx context.Context, p *orgmodel.IdP) error {
	_, err := t.exec(ctx, `INSERT INTO idps (`+idpCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_sid) DO UPDATE SET entity_id = excluded.entity_id, sso_url = excluded.sso_url,
		metadata_xml = excluded.metadata_xml, metadata_url = excluded.metadata_url,
		allow_idp_initiated = excluded.allow_idp_initiated, email_attribute = excluded.email_attribute,
		tested_at = excluded.tested_at, updated_at = excluded.updated_at`,
		p.OrgSID, p.EntityID, p.SSOURL, p.MetadataXML, p.MetadataURL, p.AllowIdPInitiated, p.EmailAttribute,
		nms(p.TestedAt), ms(p.CreatedAt), ms(p.UpdatedAt))
	return err
}

func (t *tx) DeleteIdP(ctx context.Context, org orgmodel.OrgSID) error {
	return t.execOne(ctx, `DELETE FROM idps WHERE org_sid = ?`, org)
}
