package store

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/orgd/orgd/orgmodel"
)

// Persistence of the Twilio-compatible API (issue 5).

func (t *tx) UpdateAPIKey(ctx context.Context, k *orgmodel.APIKey) error {
	return t.execOne(ctx, `UPDATE api_keys SET friendly_name = ?, updated_at = ? WHERE sid = ?`,
		k.FriendlyName, ms(k.UpdatedAt), k.SID)
}

const signingKeyCols = `kid, generation, seed, created_at`

func (t *tx) scanSigningKey(r scanner) (*orgmodel.SigningKey, error) {
	var k orgmodel.SigningKey
	var seed string
	if err := r.Scan(&k.KID, &k.Generation, &seed, msTime{&k.CreatedAt}); err != nil {
		return nil, err
	}
	seed, err := t.keys.open("signing_keys.seed", seed)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(seed)
	if err != nil {
		return nil, fmt.Errorf("store: signing key %s has a malformed seed", k.KID)
	}
	k.Seed = b
	return &k, nil
}

func (t *tx) CreateSigningKey(ctx context.Context, k *orgmodel.SigningKey) error {
	_, err := t.exec(ctx, `INSERT INTO signing_keys (`+signingKeyCols+`) VALUES (?, ?, ?, ?)`,
		k.KID, k.Generation, t.keys.seal("signing_keys.seed", hex.EncodeToString(k.Seed)), ms(k.CreatedAt))
	return err
}

func (t *tx) ListSigningKeys(ctx context.Context) ([]*orgmodel.SigningKey, error) {
	return getAll(ctx, t, t.scanSigningKey, `SELECT `+signingKeyCols+` FROM signing_keys ORDER BY generation DESC`)
}

func (t *tx) DeleteSigningKey(ctx context.Context, kid string) error {
	return t.execOne(ctx, `DELETE FROM signing_keys WHERE kid = ?`, kid)
}
