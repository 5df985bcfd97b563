package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestUserTermsFollowTheirUser: a user's searchable terms follow it into
// another organization (R-MERGE-5) and go with it when it is deleted — by
// the foreign key on PostgreSQL, by triggers on SQLite (migration 00070).
func TestUserTermsFollowTheirUser(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		db := open(t, dsn)
		now := time.UnixMilli(1_700_000_000_000).UTC()
		org := func() orgmodel.OrgSID {
			return orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
		}
		from, to := org(), org()
		u := &orgmodel.User{SID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), Email: "ann@acme.test", OrgSID: from,
			Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, GivenName: "Ann", FamilyName: "Lee", DisplayName: "Ann Lee",
			Version: 1, CreatedAt: now, UpdatedAt: now}
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			for _, o := range []orgmodel.OrgSID{from, to} {
				if err := tx.CreateOrg(ctx, &orgmodel.Org{SID: o, FriendlyName: string(o), CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			return tx.CreateUser(ctx, u)
		}))
		terms := func(o orgmodel.OrgSID) (n int) {
			require.NoError(t, db.r.QueryRowContext(ctx, db.d.rebindOnce(`SELECT COUNT(*) FROM user_terms WHERE user_sid = ? AND org_sid = ?`), u.SID, o).Scan(&n))
			return n
		}
		want := len(orgmodel.UserTerms(u))
		require.Equal(t, 6, want, "display name, given and family names, and the login as the primary work email")
		require.Equal(t, want, terms(from))

		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			n, err := tx.MoveUsers(ctx, from, to, now)
			require.Equal(t, 1, n)
			return err
		}))
		require.Zero(t, terms(from), "no term stays behind in the old organization")
		require.Equal(t, want, terms(to))

		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.DeleteUser(ctx, u.SID) }))
		var left int
		require.NoError(t, db.r.QueryRowContext(ctx, db.d.rebindOnce(`SELECT COUNT(*) FROM user_terms WHERE user_sid = ?`), u.SID).Scan(&left))
		require.Zero(t, left, "a deleted user's terms go with it")
	})
}

// TestInspectSQLiteFindsOrphanTerms: without a foreign key on user_terms
// (migration 00070), restore's check still refuses a file whose terms refer
// to a user that is missing, as PRAGMA foreign_key_check would.
func TestInspectSQLiteFindsOrphanTerms(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orgd.db")
	db := open(t, "sqlite:"+path)
	db.Close()
	_, err := InspectSQLite(ctx, path)
	require.NoError(t, err, "a fresh database passes")

	raw, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = raw.ExecContext(ctx, `INSERT INTO user_terms (user_sid, org_sid, path, elem, value, key) VALUES ('USnobody', 'ORnowhere', 'displayname', 0, 'X', 'x')`)
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	_, err = InspectSQLite(ctx, path)
	require.ErrorContains(t, err, "user_terms")
	require.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}
