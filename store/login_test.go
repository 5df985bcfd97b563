package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// openDialects opens a fresh SQLite database and, when ORGD_TEST_POSTGRES
// is set, a fresh PostgreSQL database of its own (dropped at cleanup).
func openDialects(t *testing.T) map[string]*DB {
	t.Helper()
	out := map[string]*DB{}
	lite, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { lite.Close() })
	out["sqlite"] = lite
	base := os.Getenv("ORGD_TEST_POSTGRES")
	if base == "" {
		t.Log("ORGD_TEST_POSTGRES is unset: PostgreSQL not tested (CI sets it)")
		return out
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	_, err = admin.ExecContext(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		admin.Close()
	})
	dsn := base
	if i := strings.Index(dsn, "?"); i >= 0 {
		dsn = dsn[:strings.LastIndex(dsn[:i], "/")] + "/" + name + dsn[i:]
	} else {
		dsn = dsn[:strings.LastIndex(dsn, "/")] + "/" + name
	}
	pg, err := Open(t.Context(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close() })
	out["postgres"] = pg
	return out
}

func TestLoginState(t *testing.T) {
	for name, db := range openDialects(t) {
		t.Run(name, func(t *testing.T) { testLoginState(t, db) })
	}
}

func testLoginState(t *testing.T, db *DB) {
	ctx := t.Context()
	now := time.UnixMilli(1_800_000_000_000).UTC()
	org := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	user := orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser))
	require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
		if err := tx.CreateOrg(ctx, &orgmodel.Org{SID: org, FriendlyName: "o", OwnerSID: user, AccountLimit: 10, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.CreateUser(ctx, &orgmodel.User{SID: user, Email: "o@acme.test", OrgSID: org, Role: orgmodel.RoleOwner, Status: orgmodel.UserActive, CreatedAt: now, UpdatedAt: now})
	}))
	in := func(fn func(tx orgmodel.Tx) error) { t.Helper(); require.NoError(t, db.InTx(ctx, fn)) }

	// ConsumeOnce: once while live; an expired record may be taken again.
	consume := func(key string, until, at time.Time) (ok bool) {
		in(func(tx orgmodel.Tx) error { var err error; ok, err = tx.ConsumeOnce(ctx, key, until, at); return err })
		return ok
	}
	assert.True(t, consume("k", now.Add(time.Minute), now))
	assert.False(t, consume("k", now.Add(time.Hour), now.Add(30*time.Second)))
	assert.True(t, consume("k", now.Add(2*time.Minute), now.Add(time.Minute)))

	// Concurrent consumers of one key: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := db.InTx(ctx, func(tx orgmodel.Tx) error {
				var err error
				ok, err = tx.ConsumeOnce(ctx, "race", now.Add(time.Minute), now)
				return err
			})
			if err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load())

	// SAML requests: used once, not after expiry, only by their organization.
	in(func(tx orgmodel.Tx) error {
		return tx.CreateSAMLRequest(ctx, &orgmodel.SAMLRequest{ID: "id-1", OrgSID: org, RelayState: "/x", CreatedAt: now, ExpiresAt: now.Add(time.Minute)})
	})
	var got *orgmodel.SAMLRequest
	in(func(tx orgmodel.Tx) error { var err error; got, err = tx.GetSAMLRequest(ctx, org, "id-1"); return err })
	assert.Equal(t, "/x", got.RelayState)
	use := func(o orgmodel.OrgSID, at time.Time) error {
		return db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.UseSAMLRequest(ctx, o, "id-1", at) })
	}
	assert.True(t, errors.Is(use("OR00000000000000000000000000000000", now), orgmodel.ErrNotFound))
	assert.True(t, errors.Is(use(org, now.Add(time.Minute)), orgmodel.ErrNotFound), "expired")
	require.NoError(t, use(org, now))
	assert.True(t, errors.Is(use(org, now), orgmodel.ErrNotFound), "used")

	// Failure counts: one statement each, reset after a quiet period.
	var th *orgmodel.LoginThrottle
	for i := 1; i <= 3; i++ {
		in(func(tx orgmodel.Tx) error {
			var err error
			th, err = tx.AddLoginFailure(ctx, "pw|a", now, now.Add(-time.Hour))
			return err
		})
		assert.Equal(t, i, th.Failures)
	}
	later := now.Add(2 * time.Hour)
	in(func(tx orgmodel.Tx) error {
		var err error
		th, err = tx.AddLoginFailure(ctx, "pw|a", later, later.Add(-time.Hour))
		return err
	})
	assert.Equal(t, 1, th.Failures)
	assert.Equal(t, later, th.LastFailureAt)
	in(func(tx orgmodel.Tx) error { return tx.DeleteLoginThrottle(ctx, "pw|a") })
	err := db.Read(ctx, func(tx orgmodel.Tx) error { _, err := tx.GetLoginThrottle(ctx, "pw|a"); return err })
	assert.True(t, errors.Is(err, orgmodel.ErrNotFound))

	// Sign-up confirmations are used once.
	in(func(tx orgmodel.Tx) error {
		return tx.CreateSignupConfirmation(ctx, &orgmodel.SignupConfirmation{TokenHash: "h", Email: "a@b.test", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	in(func(tx orgmodel.Tx) error { return tx.UseSignupConfirmation(ctx, "h", now) })
	err = db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.UseSignupConfirmation(ctx, "h", now) })
	assert.True(t, errors.Is(err, orgmodel.ErrNotFound))

	// Login settings upsert; trusted devices; IdP listing.
	in(func(tx orgmodel.Tx) error {
		return tx.PutLoginSettings(ctx, &orgmodel.LoginSettings{OrgSID: org, RequireMFA: true, UpdatedAt: now})
	})
	in(func(tx orgmodel.Tx) error {
		return tx.PutLoginSettings(ctx, &orgmodel.LoginSettings{OrgSID: org, RequireMFA: false, UpdatedAt: now})
	})
	var ls *orgmodel.LoginSettings
	in(func(tx orgmodel.Tx) error { var err error; ls, err = tx.GetLoginSettings(ctx, org); return err })
	assert.False(t, ls.RequireMFA)
	in(func(tx orgmodel.Tx) error {
		return tx.CreateTrustedDevice(ctx, &orgmodel.TrustedDevice{TokenHash: "d", UserSID: user, CreatedAt: now, ExpiresAt: now.Add(time.Minute)})
	})
	in(func(tx orgmodel.Tx) error {
		return tx.PutIdP(ctx, &orgmodel.IdP{OrgSID: org, EntityID: "e", SSOURL: "https://idp.test/sso", MetadataURL: "https://idp.test/md", CreatedAt: now, UpdatedAt: now})
	})
	var idps []*orgmodel.IdP
	in(func(tx orgmodel.Tx) error { var err error; idps, err = tx.ListIdPs(ctx, "", true, 10); return err })
	require.Len(t, idps, 1)
	in(func(tx orgmodel.Tx) error { var err error; idps, err = tx.ListIdPs(ctx, org, true, 10); return err })
	assert.Empty(t, idps)

	// Purge removes only what expired.
	in(func(tx orgmodel.Tx) error { _, err := tx.AddLoginFailure(ctx, "pw|b", now, now); return err })
	var n int
	in(func(tx orgmodel.Tx) error {
		var err error
		n, err = tx.PurgeLoginState(ctx, now.Add(90*time.Minute), now.Add(-time.Minute))
		return err
	})
	assert.Equal(t, 5, n, "two keys, the request, the confirmation, the device; not the fresh count")
}
