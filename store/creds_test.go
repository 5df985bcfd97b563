package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestSCIMTokenByHashSeesEveryCommit: the read each SCIM request makes,
// one statement outside a transaction, answers the committed row at once
// (a revocation included, after reads through the statement SQLite's read
// pool prepares once it was first used), and a miss as ErrNotFound.
func TestSCIMTokenByHashSeesEveryCommit(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		ctx := t.Context()
		now := time.Now().UTC().Truncate(time.Millisecond)
		org := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
		tok := &orgmodel.SCIMToken{ID: "t1", OrgSID: org, Name: "okta", TokenHash: orgmodel.HashToken("scim_a"), CreatedAt: now}
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			if err := tx.CreateOrg(ctx, &orgmodel.Org{SID: org, FriendlyName: "Acme", AccountLimit: 10, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			return tx.CreateSCIMToken(ctx, tok)
		}))

		_, err := db.SCIMTokenByHash(ctx, orgmodel.HashToken("scim_b"))
		require.ErrorIs(t, err, orgmodel.ErrNotFound)
		got, err := db.SCIMTokenByHash(ctx, tok.TokenHash)
		require.NoError(t, err)
		require.Equal(t, tok, got, "the first read, as text")
		if db.rs != nil { // SQLite: the first use prepared it on the read pool
			q := db.d.rebind(scimTokenByHash)
			require.Eventually(t, func() bool {
				db.rs.mu.Lock()
				defer db.rs.mu.Unlock()
				return db.rs.m[q] != nil
			}, 10*time.Second, 5*time.Millisecond, "the statement is prepared after its first use")
		}
		for i := range 3 {
			got, err := db.SCIMTokenByHash(ctx, tok.TokenHash)
			require.NoError(t, err, "read %d", i)
			require.Equal(t, tok, got, "read %d", i)
		}

		tok.RevokedAt = &now
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.UpdateSCIMToken(ctx, tok) }))
		got, err = db.SCIMTokenByHash(context.WithoutCancel(ctx), tok.TokenHash)
		require.NoError(t, err)
		require.Equal(t, &now, got.RevokedAt, "the revocation is read by the next request")
	})
}
