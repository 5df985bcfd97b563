package store

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func openTestSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// within fails the test if f has not returned after a generous while: a
// hang here is a deadlock, not slowness.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("deadlocked")
	}
}

func TestStmtCache_FirstUseInsideAWriteTransactionDoesNotDeadlock(t *testing.T) {
	db := openTestSQLite(t)
	// The write pool has one connection, held by the transaction: a
	// statement the cache has never seen must not wait for another.
	within(t, func() {
		for i := range 3 {
			err := db.InTx(t.Context(), func(tx orgmodel.Tx) error {
				_, err := tx.ListSigningKeys(t.Context())
				if err != nil {
					return err
				}
				_, err = tx.ListAPIKeys(t.Context(), orgmodel.AccountSID(fmt.Sprintf("AC%032d", i)))
				return err
			})
			require.NoError(t, err)
		}
	})
}

func TestStmtCache_PreparesOnceAfterFirstUseAndStaysBounded(t *testing.T) {
	db := openTestSQLite(t)
	c := db.rs
	q := `SELECT COUNT(*) FROM orgs`
	assert.Nil(t, c.get(q), "the first use runs as text")
	c.wg.Wait()
	s := c.get(q)
	require.NotNil(t, s, "prepared in the background")
	assert.Same(t, s, c.get(q))

	// A statement that does not prepare runs as text (and reports its
	// error there), once and for all.
	assert.Nil(t, c.get(`SELECT nonsense FROM nowhere`))
	c.wg.Wait()
	assert.Nil(t, c.get(`SELECT nonsense FROM nowhere`))
	err := db.Read(t.Context(), func(otx orgmodel.Tx) error {
		_, err := otx.(*tx).count(t.Context(), `SELECT nonsense FROM nowhere`)
		return err
	})
	assert.Error(t, err)

	for i := 0; c.held() < maxCachedStmts; i++ {
		c.get(fmt.Sprintf(`SELECT %d`, i))
	}
	c.wg.Wait()
	assert.Nil(t, c.get(`SELECT 'one too many'`))
	c.wg.Wait()
	assert.LessOrEqual(t, len(c.m), maxCachedStmts)
}

func TestStmtCache_ReadsAndWritesGoThroughIt(t *testing.T) {
	db := openTestSQLite(t)
	ctx := t.Context()
	k := &orgmodel.SigningKey{KID: "k1", Generation: 1, Seed: make([]byte, 32), CreatedAt: time.UnixMilli(1000).UTC()}
	for range 2 { // the second round runs prepared
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			if err := tx.CreateSigningKey(ctx, k); err != nil {
				return err
			}
			return tx.DeleteSigningKey(ctx, k.KID)
		}))
		db.ws.wg.Wait()
	}
	require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.CreateSigningKey(ctx, k) }))
	for range 2 {
		var keys []*orgmodel.SigningKey
		require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
			var err error
			keys, err = tx.ListSigningKeys(ctx)
			return err
		}))
		require.Len(t, keys, 1)
		assert.Equal(t, k.KID, keys[0].KID)
		db.rs.wg.Wait()
	}
	assert.NotNil(t, db.rs.get(`SELECT `+signingKeyCols+` FROM signing_keys ORDER BY generation DESC`))
	assert.NotNil(t, db.ws.get(`INSERT INTO signing_keys (`+signingKeyCols+`) VALUES (?, ?, ?, ?)`))
	// A duplicate through a prepared statement still maps to ErrConflict.
	err := db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.CreateSigningKey(ctx, k) })
	assert.ErrorIs(t, err, orgmodel.ErrConflict)
}

func TestStmtCache_CloseWithPreparesPending(t *testing.T) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), nil)
	require.NoError(t, err)
	for i := range 20 {
		db.rs.get(fmt.Sprintf(`SELECT %d`, i))
	}
	within(t, func() { require.NoError(t, db.Close()) })
	assert.Empty(t, db.rs.m)
	assert.Nil(t, db.rs.get(`SELECT 1`), "a closed cache prepares nothing")
}

// held is how many statements c holds or is preparing, read under its lock
// (its background preparations write them).
func (c *stmtCache) held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m) + len(c.pending)
}
