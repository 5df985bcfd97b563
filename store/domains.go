package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

const domainCols = `sid, org_sid, name, token, status, signup, sso_enforced, verified_at, checked_at, missing_since, created_at, updated_at`

func scanDomain(r scanner) (*orgmodel.Domain, error) {
	var d orgmodel.Domain
	err := r.Scan(&d.SID, &d.OrgSID, &d.Name, &d.Token, &d.Status, &d.Signup, &d.SSOEnforced, msNull{&d.VerifiedAt},
		msNull{&d.CheckedAt}, msNull{&d.MissingSince}, msTime{&d.CreatedAt}, msTime{&d.UpdatedAt})
	return &d, err
}

func (t *tx) CreateDomain(ctx context.Context, d *orgmodel.Domain) error {
	t.rows.domainsChanged()
	_, err := t.exec(ctx, `INSERT INTO domains (`+domainCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.SID, d.OrgSID, d.Name, d.Token, d.Status, d.Signup, d.SSOEnforced, nms(d.VerifiedAt), nms(d.CheckedAt),
		nms(d.MissingSince), ms(d.CreatedAt), ms(d.UpdatedAt))
	return err
}

func (t *tx) GetDomain(ctx context.Context, org orgmodel.OrgSID, name string) (*orgmodel.Domain, error) {
	if d, ok := t.rows.domain(org, name); ok {
		return d, nil
	}
	d, err := getOne(ctx, t, scanDomain, `SELECT `+domainCols+` FROM domains WHERE org_sid = ? AND name = ?`, org, name)
	if err == nil {
		t.rows.keepDomain(d)
	}
	return d, err
}

func (t *tx) UpdateDomain(ctx context.Context, d *orgmodel.Domain) error {
	t.rows.domainsChanged()
	return t.execOne(ctx, `UPDATE domains SET status = ?, signup = ?, sso_enforced = ?, verified_at = ?, checked_at = ?,
		missing_since = ?, updated_at = ? WHERE sid = ?`,
		d.Status, d.Signup, d.SSOEnforced, nms(d.VerifiedAt), nms(d.CheckedAt), nms(d.MissingSince), ms(d.UpdatedAt), d.SID)
}

func (t *tx) DeleteDomain(ctx context.Context, sid orgmodel.DomainSID) error {
	t.rows.domainsChanged()
	return t.execOne(ctx, `DELETE FROM domains WHERE sid = ?`, sid)
}

func (t *tx) ListDomains(ctx context.Context, org orgmodel.OrgSID) ([]*orgmodel.Domain, error) {
	return getAll(ctx, t, scanDomain, `SELECT `+domainCols+` FROM domains WHERE org_sid = ? ORDER BY name`, org)
}

func (t *tx) ListDomainClaims(ctx context.Context, name string) ([]*orgmodel.Domain, error) {
	return getAll(ctx, t, scanDomain, `SELECT `+domainCols+` FROM domains WHERE name = ? ORDER BY org_sid`, name)
}

func (t *tx) ClaimDomainChecks(ctx context.Context, due, now time.Time, n int) ([]*orgmodel.Domain, error) {
	t.rows.domainsChanged()
	return getAll(ctx, t, scanDomain, `UPDATE domains SET checked_at = ? WHERE sid IN (
		SELECT sid FROM domains WHERE status = 'verified' AND (checked_at IS NULL OR checked_at <= ?)
		ORDER BY checked_at`+limit(n)+t.d.skipLocked+`) RETURNING `+domainCols, ms(now), ms(due))
}

const invitationCols = `sid, org_sid, email, role, grants, status, invited_by, token_hash, expires_at, accepted_by, created_at`

func scanInvitation(r scanner) (*orgmodel.Invitation, error) {
	var i orgmodel.Invitation
	var grants string
	err := r.Scan(&i.SID, &i.OrgSID, &i.Email, &i.Role, &grants, &i.Status, &i.InvitedBy, &i.TokenHash,
		msTime{&i.ExpiresAt}, &i.AcceptedBy, msTime{&i.CreatedAt})
	if err == nil && grants != "" && grants != "[]" {
		err = json.Unmarshal([]byte(grants), &i.Grants)
	}
	return &i, err
}

func (t *tx) CreateInvitation(ctx context.Context, i *orgmodel.Invitation) error {
	grants, err := json.Marshal(i.Grants)
	if err != nil {
		return err
	}
	if i.Grants == nil {
		grants = []byte("[]")
	}
	_, err = t.exec(ctx, `INSERT INTO invitations (`+invitationCols+`, email_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.SID, i.OrgSID, i.Email, i.Role, string(grants), i.Status, i.InvitedBy, i.TokenHash, ms(i.ExpiresAt),
		i.AcceptedBy, ms(i.CreatedAt), orgmodel.EmailKey(i.Email))
	return err
}

func (t *tx) GetInvitation(ctx context.Context, sid orgmodel.InvitationSID) (*orgmodel.Invitation, error) {
	return getOne(ctx, t, scanInvitation, `SELECT `+invitationCols+` FROM invitations WHERE sid = ?`, sid)
}

func (t *tx) GetInvitationByTokenHash(ctx context.Context, h string) (*orgmodel.Invitation, error) {
	return getOne(ctx, t, scanInvitation, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, h)
}

func (t *tx) UpdateInvitation(ctx context.Context, i *orgmodel.Invitation) error {
	return t.execOne(ctx, `UPDATE invitations SET status = ?, accepted_by = ? WHERE sid = ?`, i.Status, i.AcceptedBy, i.SID)
}

func (t *tx) ListInvitations(ctx context.Context, org orgmodel.OrgSID, email string, status orgmodel.InvitationStatus) ([]*orgmodel.Invitation, error) {
	w := &where{}
	w.add("org_sid = ?", org)
	if email != "" {
		w.add("email_key = ?", orgmodel.EmailKey(email))
	}
	if status != "" {
		w.add("status = ?", status)
	}
	return getAll(ctx, t, scanInvitation, `SELECT `+invitationCols+` FROM invitations`+w.sql()+` ORDER BY created_at DESC, sid`, w.args...)
}

func (t *tx) PendingInvitationsFor(ctx context.Context, email string, now time.Time) ([]*orgmodel.Invitation, error) {
	return getAll(ctx, t, scanInvitation, `SELECT `+invitationCols+` FROM invitations WHERE email_key = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at`,
		orgmodel.EmailKey(email), ms(now))
}
