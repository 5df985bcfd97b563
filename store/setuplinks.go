package store

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
)

// Console (issue 6): setup links.

const setupLinkCols = `id, org_sid, name, token_hash, created_by, created_at, expires_at, revoked_at, last_used_at`

func scanSetupLink(r scanner) (*orgmodel.SetupLink, error) {
	var l orgmodel.SetupLink
	err := r.Scan(&l.ID, &l.OrgSID, &l.Name, &l.TokenHash, &l.CreatedBy, msTime{&l.CreatedAt}, msTime{&l.ExpiresAt},
		msNull{&l.RevokedAt}, msNull{&l.LastUsedAt})
	return &l, err
}

func (t *tx) CreateSetupLink(ctx context.Context, l *orgmodel.SetupLink) error {
	_, err := t.exec(ctx, `INSERT INTO setup_links (`+setupLinkCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.OrgSID, l.Name, l.TokenHash, l.CreatedBy, ms(l.CreatedAt), ms(l.ExpiresAt), nms(l.RevokedAt), nms(l.LastUsedAt))
	return err
}

func (t *tx) GetSetupLinkByHash(ctx context.Context, h string) (*orgmodel.SetupLink, error) {
	return getOne(ctx, t, scanSetupLink, `SELECT `+setupLinkCols+` FROM setup_links WHERE token_hash = ?`, h)
}

func (t *tx) ListSetupLinks(ctx context.Context, org orgmodel.OrgSID) ([]*orgmodel.SetupLink, error) {
	return getAll(ctx, t, scanSetupLink, `SELECT `+setupLinkCols+` FROM setup_links WHERE org_sid = ? ORDER BY created_at DESC, id DESC`, org)
}

func (t *tx) UpdateSetupLink(ctx context.Context, l *orgmodel.SetupLink) error {
	return t.execOne(ctx, `UPDATE setup_links SET name = ?, revoked_at = ?, last_used_at = ? WHERE id = ?`,
		l.Name, nms(l.RevokedAt), nms(l.LastUsedAt), l.ID)
}
