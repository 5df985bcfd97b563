package store

import (
	"context"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// SSO and login (issue 4): one-time keys, AuthnRequest tracking, failure
// counts, trusted devices, sign-up confirmations, login settings.

func (t *tx) ConsumeOnce(ctx context.Context, key string, expiresAt, now time.Time) (bool, error) {
	// Insert, or take over a row whose use has expired; a live row wins
	// and nothing changes. One statement, so that two replicas racing on
	// the same key see exactly one success.
	r, err := t.exec(ctx, `INSERT INTO used_keys (used_key, expires_at) VALUES (?, ?)
		ON CONFLICT (used_key) DO UPDATE SET expires_at = excluded.expires_at
		WHERE used_keys.expires_at <= ?`, key, ms(expiresAt), ms(now))
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

const samlRequestCols = `id, org_sid, relay_state, test_by, created_at, expires_at, used_at`

func scanSAMLRequest(r scanner) (*orgmodel.SAMLRequest, error) {
	var x orgmodel.SAMLRequest
	err := r.Scan(&x.ID, &x.OrgSID, &x.RelayState, &x.TestBy, msTime{&x.CreatedAt}, msTime{&x.ExpiresAt}, msNull{&x.UsedAt})
	return &x, err
}

func (t *tx) CreateSAMLRequest(ctx context.Context, r *orgmodel.SAMLRequest) error {
	_, err := t.exec(ctx, `INSERT INTO saml_requests (`+samlRequestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgSID, r.RelayState, r.TestBy, ms(r.CreatedAt), ms(r.ExpiresAt), nms(r.UsedAt))
	return err
}

func (t *tx) GetSAMLRequest(ctx context.Context, org orgmodel.OrgSID, id string) (*orgmodel.SAMLRequest, error) {
	return getOne(ctx, t, scanSAMLRequest, `SELECT `+samlRequestCols+` FROM saml_requests WHERE org_sid = ? AND id = ?`, org, id)
}

func (t *tx) UseSAMLRequest(ctx context.Context, org orgmodel.OrgSID, id string, now time.Time) error {
	return t.execOne(ctx, `UPDATE saml_requests SET used_at = ? WHERE org_sid = ? AND id = ? AND used_at IS NULL AND expires_at > ?`,
		ms(now), org, id, ms(now))
}

func scanThrottle(r scanner) (*orgmodel.LoginThrottle, error) {
	var x orgmodel.LoginThrottle
	err := r.Scan(&x.Key, &x.Failures, msTime{&x.LastFailureAt})
	return &x, err
}

func (t *tx) AddLoginFailure(ctx context.Context, key string, now, resetBefore time.Time) (*orgmodel.LoginThrottle, error) {
	return getOne(ctx, t, scanThrottle, `INSERT INTO login_throttle (throttle_key, failures, last_failure_at) VALUES (?, 1, ?)
		ON CONFLICT (throttle_key) DO UPDATE SET
			failures = CASE WHEN login_throttle.last_failure_at < ? THEN 1 ELSE login_throttle.failures + 1 END,
			last_failure_at = excluded.last_failure_at
		RETURNING throttle_key, failures, last_failure_at`, key, ms(now), ms(resetBefore))
}

func (t *tx) GetLoginThrottle(ctx context.Context, key string) (*orgmodel.LoginThrottle, error) {
	return getOne(ctx, t, scanThrottle, `SELECT throttle_key, failures, last_failure_at FROM login_throttle WHERE throttle_key = ?`, key)
}

func (t *tx) DeleteLoginThrottle(ctx context.Context, key string) error {
	_, err := t.exec(ctx, `DELETE FROM login_throttle WHERE throttle_key = ?`, key)
	return err
}

func (t *tx) CreateTrustedDevice(ctx context.Context, d *orgmodel.TrustedDevice) error {
	_, err := t.exec(ctx, `INSERT INTO trusted_devices (token_hash, user_sid, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		d.TokenHash, d.UserSID, ms(d.CreatedAt), ms(d.ExpiresAt))
	return err
}

func (t *tx) GetTrustedDevice(ctx context.Context, h string) (*orgmodel.TrustedDevice, error) {
	return getOne(ctx, t, func(r scanner) (*orgmodel.TrustedDevice, error) {
		var d orgmodel.TrustedDevice
		err := r.Scan(&d.TokenHash, &d.UserSID, msTime{&d.CreatedAt}, msTime{&d.ExpiresAt})
		return &d, err
	}, `SELECT token_hash, user_sid, created_at, expires_at FROM trusted_devices WHERE token_hash = ?`, h)
}

const confirmCols = `token_hash, email, name, created_at, expires_at, used_at`

func (t *tx) CreateSignupConfirmation(ctx context.Context, c *orgmodel.SignupConfirmation) error {
	_, err := t.exec(ctx, `INSERT INTO signup_confirmations (`+confirmCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.TokenHash, c.Email, c.Name, ms(c.CreatedAt), ms(c.ExpiresAt), nms(c.UsedAt))
	return err
}

func (t *tx) GetSignupConfirmation(ctx context.Context, h string) (*orgmodel.SignupConfirmation, error) {
	return getOne(ctx, t, func(r scanner) (*orgmodel.SignupConfirmation, error) {
		var c orgmodel.SignupConfirmation
		err := r.Scan(&c.TokenHash, &c.Email, &c.Name, msTime{&c.CreatedAt}, msTime{&c.ExpiresAt}, msNull{&c.UsedAt})
		return &c, err
	}, `SELECT `+confirmCols+` FROM signup_confirmations WHERE token_hash = ?`, h)
}

func (t *tx) UseSignupConfirmation(ctx context.Context, h string, now time.Time) error {
	return t.execOne(ctx, `UPDATE signup_confirmations SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`, ms(now), h)
}

func (t *tx) GetLoginSettings(ctx context.Context, org orgmodel.OrgSID) (*orgmodel.LoginSettings, error) {
	return getOne(ctx, t, func(r scanner) (*orgmodel.LoginSettings, error) {
		var l orgmodel.LoginSettings
		err := r.Scan(&l.OrgSID, &l.RequireMFA, msTime{&l.UpdatedAt})
		return &l, err
	}, `SELECT org_sid, require_mfa, updated_at FROM login_settings WHERE org_sid = ?`, org)
}

func (t *tx) PutLoginSettings(ctx context.Context, l *orgmodel.LoginSettings) error {
	_, err := t.exec(ctx, `INSERT INTO login_settings (org_sid, require_mfa, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (org_sid) DO UPDATE SET require_mfa = excluded.require_mfa, updated_at = excluded.updated_at`,
		l.OrgSID, l.RequireMFA, ms(l.UpdatedAt))
	return err
}

func (t *tx) ListIdPs(ctx context.Context, after orgmodel.OrgSID, withURL bool, n int) ([]*orgmodel.IdP, error) {
	var w where
	w.add("org_sid > ?", after)
	if withURL {
		w.add("metadata_url <> ''")
	}
	return getAll(ctx, t, scanIdP, `SELECT `+idpCols+` FROM idps`+w.sql()+` ORDER BY org_sid`+limit(n), w.args...)
}

func (t *tx) PurgeLoginState(ctx context.Context, now, idleBefore time.Time) (int, error) {
	total := 0
	for _, q := range []struct {
		sql string
		arg time.Time
	}{
		{`DELETE FROM used_keys WHERE expires_at <= ?`, now},
		{`DELETE FROM saml_requests WHERE expires_at <= ?`, now},
		{`DELETE FROM signup_confirmations WHERE expires_at <= ?`, now},
		{`DELETE FROM trusted_devices WHERE expires_at <= ?`, now},
		{`DELETE FROM login_throttle WHERE last_failure_at < ?`, idleBefore},
	} {
		r, err := t.exec(ctx, q.sql, ms(q.arg))
		if err != nil {
			return total, err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}
