package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
)

// keysetOrg signs up an organization and seeds n users into it; it
// returns the organization and every user's SID in order.
func keysetOrg(t *testing.T, db *DB, n int) (orgmodel.OrgSID, []string) {
	t.Helper()
	svc := orgmodel.NewService(db, orgmodel.Config{Hasher: password.Fast})
	r, err := svc.SignUp(t.Context(), orgmodel.OperatorActor("cli"), orgmodel.SignUpInput{Email: "owner@keyset.example", Password: "Corr3ct-Horse-Battery", EmailVerified: true})
	require.NoError(t, err)
	now := time.Now()
	users := make([]*orgmodel.User, n)
	sids := []string{string(r.UserSID)}
	for i := range users {
		sid := orgmodel.NewSID(orgmodel.PrefixUser)
		users[i] = &orgmodel.User{SID: orgmodel.UserSID(sid), Email: fmt.Sprintf("u%05d@keyset.example", i), OrgSID: r.OrgSID,
			Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
		sids = append(sids, sid)
	}
	require.NoError(t, db.SeedUsers(t.Context(), users))
	slices.Sort(sids)
	return r.OrgSID, sids
}

func pageOf(t *testing.T, db *DB, org orgmodel.OrgSID, q orgmodel.Query) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.Read(t.Context(), func(tx orgmodel.Tx) error {
		us, err := tx.SearchUsers(t.Context(), org, q)
		for _, u := range us {
			out = append(out, string(u.SID))
		}
		return err
	}))
	return out
}

// lastPage returns the statement and arguments of q's page as the store
// would run it now.
func lastPage(t *testing.T, db *DB, org orgmodel.OrgSID, q orgmodel.Query) (string, []any) {
	t.Helper()
	var stmt string
	var args []any
	require.NoError(t, db.Read(t.Context(), func(otx orgmodel.Tx) error {
		var err error
		stmt, args, _, err = otx.(*tx).usersPage(org, q)
		return err
	}))
	return stmt, args
}

// rowsVisited runs stmt under PostgreSQL's EXPLAIN ANALYZE and adds up
// the rows every scan of the plan produced or filtered out: the rows the
// database actually visited.
func rowsVisited(t *testing.T, db *DB, stmt string, args []any) int {
	t.Helper()
	var raw string
	require.NoError(t, db.r.QueryRowContext(t.Context(), "EXPLAIN (ANALYZE, FORMAT JSON) "+db.d.rebindOnce(stmt), args...).Scan(&raw))
	var plan []struct{ Plan map[string]any }
	require.NoError(t, json.Unmarshal([]byte(raw), &plan))
	var walk func(n map[string]any) int
	walk = func(n map[string]any) int {
		total := 0
		if typ, _ := n["Node Type"].(string); strings.Contains(typ, "Scan") {
			for _, k := range []string{"Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck"} {
				if v, ok := n[k].(float64); ok {
					total += int(v)
				}
			}
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				total += walk(k.(map[string]any))
			}
		}
		return total
	}
	return walk(plan[0].Plan)
}

// TestUserPagesSeekPastThePreviousPage: walking a list of users by
// position (SCIM's startIndex) reads each page by seeking past the last
// SID of the page before, not by an OFFSET: on PostgreSQL the last page of
// 2,500 users visits about a page of rows (EXPLAIN ANALYZE counts them),
// where the same page by OFFSET visits all 2,500; on SQLite the plan
// seeks the (org_sid, sid) index and the statement has no OFFSET.
func TestUserPagesSeekPastThePreviousPage(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		const n, per = 2500, 100
		org, all := keysetOrg(t, db, n)

		var walked []string
		for off := 0; off < len(all); off += per {
			walked = append(walked, pageOf(t, db, org, orgmodel.Query{Offset: off, Limit: per})...)
		}
		require.Equal(t, all, walked, "the walk returns every user once, in SID order")
		require.Equal(t, len(all)/per, db.cursors.hits, "every page after the first seeks from the one before")

		last := orgmodel.Query{Offset: (len(all) - 1) / per * per, Limit: per}
		stmt, args := lastPage(t, db, org, last)
		require.NotContains(t, stmt, "OFFSET", "the last page walks no offset")
		if db.Dialect() == "sqlite" {
			plan := strings.Join(queryPlan(t, db, stmt), "\n")
			require.Contains(t, plan, "(org_sid=? AND sid>?)", "the page seeks the index past the last SID")
		} else {
			keyset := rowsVisited(t, db, stmt, args)
			require.LessOrEqual(t, keyset, 2*per, "the last page visits about one page of rows")
			// The same page without a remembered position (another replica,
			// a client jumping there) walks the offset: the count is real.
			db.cursors = newCursorCache()
			stmt, args = lastPage(t, db, org, last)
			require.Contains(t, stmt, "OFFSET")
			require.GreaterOrEqual(t, rowsVisited(t, db, stmt, args), len(all)-per, "by OFFSET it visits every earlier row")
		}

		// Descending order seeks too.
		walked = nil
		for off := 0; off < len(all); off += per {
			walked = append(walked, pageOf(t, db, org, orgmodel.Query{Offset: off, Limit: per, Sort: orgmodel.Sort{Desc: true}})...)
		}
		rev := slices.Clone(all)
		slices.Reverse(rev)
		require.Equal(t, rev, walked)
	})
}

// TestUserPagesAfterChangesNeitherRepeatNorSkip: a user added before a
// walking client's position does not push a row it already saw into its
// next page, and a page asked for out of order still answers by position.
func TestUserPagesAfterChangesNeitherRepeatNorSkip(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	org, all := keysetOrg(t, db, 300)
	first := pageOf(t, db, org, orgmodel.Query{Offset: 0, Limit: 100})
	require.Equal(t, all[:100], first)

	// A new user that sorts first.
	early := &orgmodel.User{SID: "US00000000000000000000000000000000", Email: "early@keyset.example", OrgSID: org,
		Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	require.NoError(t, db.SeedUsers(t.Context(), []*orgmodel.User{early}))

	second := pageOf(t, db, org, orgmodel.Query{Offset: 100, Limit: 100})
	require.Equal(t, all[100:200], second, "the walk continues after the last row it saw")

	// A position no page ended at is read by OFFSET, over the list as it is now.
	jump := pageOf(t, db, org, orgmodel.Query{Offset: 150, Limit: 10})
	now := append([]string{string(early.SID)}, all...)
	require.Equal(t, now[150:160], jump)

	// A filtered list remembers its own positions, not the unfiltered one's.
	f := orgmodel.Query{Cond: orgmodel.ColCond{Col: orgmodel.UserColSID, Op: orgmodel.OpGe, Value: all[50]}, Offset: 100, Limit: 10}
	require.Equal(t, all[150:160], pageOf(t, db, org, f))
}

// TestUserCountsFollowEveryChange: the count of an organization's users
// (totalResults of an unfiltered SCIM list) is read from user_counts,
// which triggers keep equal to a real count through inserts, deletes and
// a merge's move.
func TestUserCountsFollowEveryChange(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		org, all := keysetOrg(t, db, 300)
		count := func(o orgmodel.OrgSID) (kept, real int) {
			require.NoError(t, db.Read(t.Context(), func(otx orgmodel.Tx) error {
				var err error
				if kept, err = otx.CountUsersWhere(t.Context(), o, nil); err != nil {
					return err
				}
				real, err = otx.(*tx).count(t.Context(), `SELECT COUNT(*) FROM users WHERE org_sid = ?`, o)
				return err
			}))
			return kept, real
		}
		kept, real := count(org)
		require.Equal(t, len(all), real)
		require.Equal(t, real, kept)

		other, otherOwner := keysetOrg2(t, db)
		require.NoError(t, db.InTx(t.Context(), func(otx orgmodel.Tx) error {
			// A merge demotes the candidate's Owner first (one Owner per organization).
			if _, err := otx.(*tx).exec(t.Context(), `UPDATE users SET role = 'standard' WHERE sid = ?`, otherOwner); err != nil {
				return err
			}
			for _, sid := range all[:7] {
				u, err := otx.GetUser(t.Context(), orgmodel.UserSID(sid))
				if err != nil {
					return err
				}
				if u.Role == orgmodel.RoleOwner {
					continue
				}
				if err := otx.DeleteUser(t.Context(), u.SID); err != nil {
					return err
				}
			}
			_, err := otx.MoveUsers(t.Context(), other, org, time.Now())
			return err
		}))
		for _, o := range []orgmodel.OrgSID{org, other} {
			kept, real := count(o)
			require.Equal(t, real, kept, "%s", o)
		}
		kept, _ = count(org)
		require.Greater(t, kept, len(all)-7)
		kept, _ = count(other)
		require.Equal(t, 0, kept)
	})
}

// keysetOrg2 signs up a second organization with one user.
func keysetOrg2(t *testing.T, db *DB) (orgmodel.OrgSID, orgmodel.UserSID) {
	t.Helper()
	svc := orgmodel.NewService(db, orgmodel.Config{Hasher: password.Fast})
	r, err := svc.SignUp(t.Context(), orgmodel.OperatorActor("cli"), orgmodel.SignUpInput{Email: "owner@other.example", Password: "Corr3ct-Horse-Battery", EmailVerified: true})
	require.NoError(t, err)
	return r.OrgSID, r.UserSID
}
