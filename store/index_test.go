package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// errRollback ends a transaction whose statements were only recorded.
var errRollback = errors.New("rollback")

// recordQueries makes db record every statement its transactions run
// (every statement passes through the dialect's rebind) and returns the
// recorder.
func recordQueries(db *DB) func() []string {
	var mu sync.Mutex
	var seen []string
	rec := *db.d
	rebind := db.d.rebind
	rec.rebind = func(q string) string {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, q)
		return rebind(q)
	}
	db.d = &rec
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
}

// queryPlan returns SQLite's plan for q, one detail line per step.
func queryPlan(t *testing.T, db *DB, q string) []string {
	t.Helper()
	args := make([]any, strings.Count(q, "?"))
	rows, err := db.w.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	require.NoError(t, err, q)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return plan
}

// fullScan reports the step of plan that reads a whole table, if any.
func fullScan(plan []string) string {
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, " USING ") && step != "SCAN CONSTANT ROW" {
			return step
		}
	}
	return ""
}

// TestSQLiteHotQueriesUseIndexes runs each hot look-up through the real Tx
// methods, records the statements they send, and checks SQLite's plan for
// each: no statement reads a whole table, and the keyset lists take their
// order from an index rather than sorting.
func TestSQLiteHotQueriesUseIndexes(t *testing.T) {
	ctx := t.Context()
	db := open(t, NewSQLiteDSN(t))
	recorded := recordQueries(db)
	const (
		org  = orgmodel.OrgSID("OR00000000000000000000000000000001")
		user = orgmodel.UserSID("US00000000000000000000000000000001")
		acct = orgmodel.AccountSID("AC00000000000000000000000000000001")
	)
	now := time.UnixMilli(1_800_000_000_000)
	hot := []struct {
		name    string
		ordered bool // a keyset list: its order must come from the index
		run     func(tx orgmodel.Tx) error
	}{
		{"user by email", false, func(tx orgmodel.Tx) error { _, err := tx.GetUserByEmail(ctx, "a@b.example"); return err }},
		{"users of an organization, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListUsers(ctx, orgmodel.UserFilter{OrgSID: org, AfterSID: user, Limit: 50})
			return err
		}},
		{"Owner of an organization", false, func(tx orgmodel.Tx) error {
			_, err := tx.CountUsers(ctx, orgmodel.UserFilter{OrgSID: org, Role: orgmodel.RoleOwner})
			return err
		}},
		{"merge moves users", false, func(tx orgmodel.Tx) error { _, err := tx.MoveUsers(ctx, org, org, now); return err }},
		{"accounts of an organization, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListAccounts(ctx, orgmodel.AccountFilter{OrgSID: org, AfterSID: acct, Limit: 50})
			return err
		}},
		{"managed accounts of an organization (R-HIER-3)", false, func(tx orgmodel.Tx) error {
			_, err := tx.CountAccounts(ctx, orgmodel.AccountFilter{OrgSID: org, TopLevel: true, NotClosed: true})
			return err
		}},
		{"subaccounts of a parent, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListAccounts(ctx, orgmodel.AccountFilter{ParentSID: acct, AfterSID: acct, Limit: 50})
			return err
		}},
		{"subaccount count (R-HIER-4)", false, func(tx orgmodel.Tx) error {
			_, err := tx.CountAccounts(ctx, orgmodel.AccountFilter{ParentSID: acct, NotClosed: true})
			return err
		}},
		{"accounts of an owner", false, func(tx orgmodel.Tx) error {
			if _, err := tx.CountAccounts(ctx, orgmodel.AccountFilter{OrgSID: org, OwnerSID: user, TopLevel: true}); err != nil {
				return err
			}
			_, err := tx.ReassignAccounts(ctx, org, user, user, now)
			return err
		}},
		{"merge and import move accounts", false, func(tx orgmodel.Tx) error {
			if _, err := tx.MoveAccounts(ctx, org, org, now); err != nil {
				return err
			}
			return tx.MoveAccountTree(ctx, acct, org, now)
		}},
		{"registrations of a domain", false, func(tx orgmodel.Tx) error { _, err := tx.ListDomainClaims(ctx, "corp.example"); return err }},
		{"a domain of an organization", false, func(tx orgmodel.Tx) error { _, err := tx.GetDomain(ctx, org, "corp.example"); return err }},
		{"domains of an organization", true, func(tx orgmodel.Tx) error { _, err := tx.ListDomains(ctx, org); return err }},
		{"domain re-checks due", false, func(tx orgmodel.Tx) error { _, err := tx.ClaimDomainChecks(ctx, now, now, 10); return err }},
		{"grants of a user", true, func(tx orgmodel.Tx) error {
			if _, err := tx.GetGrant(ctx, acct, user); err != nil {
				return err
			}
			if _, err := tx.ListGrants(ctx, orgmodel.GrantFilter{UserSID: user}); err != nil {
				return err
			}
			_, err := tx.DeleteUserGrants(ctx, user)
			return err
		}},
		{"grants of an organization, by page", true, func(tx orgmodel.Tx) error {
			if _, err := tx.ListGrants(ctx, orgmodel.GrantFilter{OrgSID: org, AfterSID: "IY0", Limit: 50}); err != nil {
				return err
			}
			return tx.MoveGrants(ctx, org, org)
		}},
		{"session by token hash", false, func(tx orgmodel.Tx) error { _, err := tx.GetSessionByTokenHash(ctx, "h"); return err }},
		{"live sessions of a user", false, func(tx orgmodel.Tx) error { _, err := tx.EndUserSessions(ctx, user, "x", now); return err }},
		{"audit log of an organization, newest first", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org, BeforeSeq: 100, Limit: 50})
			return err
		}},
		{"audit log by action", false, func(tx orgmodel.Tx) error {
			_, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org, Action: "user.", Limit: 50})
			return err
		}},
		{"audit log by actor and target", false, func(tx orgmodel.Tx) error {
			if _, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org, Actor: string(user), Limit: 50}); err != nil {
				return err
			}
			_, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org, Target: string(acct), Limit: 50})
			return err
		}},
		{"outbox due", false, func(tx orgmodel.Tx) error {
			if _, err := tx.ClaimMail(ctx, now, now, 10); err != nil {
				return err
			}
			_, err := tx.ClaimUnloggedMail(ctx, now, 10)
			return err
		}},
		{"outbox of a recipient", false, func(tx orgmodel.Tx) error {
			_, err := tx.ListMail(ctx, orgmodel.MailFilter{To: "a@b.example"})
			return err
		}},
		{"invitations", false, func(tx orgmodel.Tx) error {
			if _, err := tx.GetInvitationByTokenHash(ctx, "h"); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			if _, err := tx.ListInvitations(ctx, org, "a@b.example", orgmodel.InvitationPending); err != nil {
				return err
			}
			_, err := tx.PendingInvitationsFor(ctx, "a@b.example", now)
			return err
		}},
		{"account links", false, func(tx orgmodel.Tx) error {
			if _, err := tx.GetLinkByTokenHash(ctx, "h"); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			if _, err := tx.ListLinks(ctx, "", acct); err != nil {
				return err
			}
			if _, err := tx.ListLinkedAccounts(ctx, org); err != nil {
				return err
			}
			_, err := tx.DeleteExpiredLinks(ctx, now, 10)
			return err
		}},
		{"credentials", false, func(tx orgmodel.Tx) error {
			if _, err := tx.GetSCIMTokenByHash(ctx, "h"); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			if _, err := tx.ListAPIKeys(ctx, acct); err != nil {
				return err
			}
			if _, err := tx.ListOAuthClients(ctx, org); err != nil {
				return err
			}
			return tx.DeleteResetTokens(ctx, user)
		}},
		{"setup links", true, func(tx orgmodel.Tx) error {
			if _, err := tx.GetSetupLinkByHash(ctx, "h"); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			_, err := tx.ListSetupLinks(ctx, org)
			return err
		}},
		{"members of a group, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.GroupMembersAfter(ctx, "GR00000000000000000000000000000001", user, 50)
			return err
		}},
	}
	for _, h := range hot {
		err := db.InTx(ctx, func(tx orgmodel.Tx) error {
			if err := h.run(tx); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			return errRollback
		})
		require.ErrorIs(t, err, errRollback, h.name)
		queries := recorded()
		require.NotEmpty(t, queries, h.name)
		for _, q := range queries {
			plan := queryPlan(t, db, q)
			if step := fullScan(plan); step != "" {
				t.Errorf("%s: %q reads a whole table (%s)\n%s", h.name, q, step, strings.Join(plan, "\n"))
			}
			if h.ordered && strings.Contains(q, "ORDER BY") && slices.ContainsFunc(plan, func(s string) bool { return strings.Contains(s, "TEMP B-TREE") }) {
				t.Errorf("%s: %q sorts instead of reading an index in order\n%s", h.name, q, strings.Join(plan, "\n"))
			}
		}
	}
}

// TestSQLiteGroupMemberCountsUseTheKey: the console's member counts of a
// page of groups (a statement built per number of groups, so not recorded
// by the hot-query test's prepared path) search group_members by its key
// (group_sid, user_sid), a WITHOUT ROWID table: a range of the key per
// group, never a scan.
func TestSQLiteGroupMemberCountsUseTheKey(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	for _, n := range []int{1, 25, sidsPerStatement} {
		plan := queryPlan(t, db, countGroupMembersSQL(n))
		if step := fullScan(plan); step != "" {
			t.Errorf("%d groups: reads a whole table (%s)\n%s", n, step, strings.Join(plan, "\n"))
		}
		require.True(t, slices.ContainsFunc(plan, func(s string) bool {
			return strings.HasPrefix(s, "SEARCH group_members USING ") && strings.Contains(s, "(group_sid=?)")
		}), "%d groups: the count does not search the key\n%s", n, strings.Join(plan, "\n"))
	}
}

// TestSQLiteUserGroupsSeekByUser: the groups of a page of users (each SCIM
// user carries its groups) are found by a seek per user in
// group_members_user, not by trying every group of the organization
// against every user of the page.
func TestSQLiteUserGroupsSeekByUser(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	for _, n := range []int{1, 100, sidsPerStatement} {
		plan := queryPlan(t, db, userGroupsSQL(n))
		require.NotEmpty(t, plan)
		require.True(t, strings.HasPrefix(plan[0], "SEARCH m USING COVERING INDEX group_members_user (user_sid=?)"),
			"%d users: the plan does not start from the users' memberships\n%s", n, strings.Join(plan, "\n"))
	}
}

// TestSQLiteForeignKeysAreIndexed: every foreign key has an index that
// starts with its columns and is not partial, so that deleting or moving a
// parent row (a user leaving, a merge) looks its children up instead of
// reading whole tables — PostgreSQL needs the same indexes, which
// TestSchemasMatch checks it has.
func TestSQLiteForeignKeysAreIndexed(t *testing.T) {
	ctx := t.Context()
	db := open(t, NewSQLiteDSN(t))
	strs := func(q string, args ...any) []string {
		rows, err := db.w.QueryContext(ctx, q, args...)
		require.NoError(t, err, q)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}
	for _, table := range strs(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`) {
		// Leading columns of every full (not partial) index of the table.
		var indexes [][]string
		for _, ix := range strs(`SELECT name FROM pragma_index_list(?) WHERE partial = 0`, table) {
			// An expression column has no name; it matches no foreign key.
			indexes = append(indexes, strs(`SELECT COALESCE(name, '') FROM pragma_index_info(?) ORDER BY seqno`, ix))
		}
		fks := map[int][]string{}
		rows, err := db.w.QueryContext(ctx, `SELECT id, "from" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table)
		require.NoError(t, err)
		for rows.Next() {
			var id int
			var col string
			require.NoError(t, rows.Scan(&id, &col))
			fks[id] = append(fks[id], col)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		for _, cols := range fks {
			covered := slices.ContainsFunc(indexes, func(ix []string) bool {
				return len(ix) >= len(cols) && slices.Equal(slices.Sorted(slices.Values(ix[:len(cols)])), slices.Sorted(slices.Values(cols)))
			})
			if !covered {
				t.Errorf("foreign key %s(%s) has no index starting with its columns", table, strings.Join(cols, ", "))
			}
		}
	}
}

// schema is a database's tables with their columns, and its indexes, as
// the migrations declare them (constraints' own indexes left out: their
// names differ by dialect).
type schema struct {
	Columns map[string][]string // table → sorted column names
	Indexes map[string]string   // index → "table unique|plain"
}

// readSchema reads a schema with two queries: one answering (table,
// column) rows, one answering (index, table, unique) rows.
func readSchema(t *testing.T, db *DB, columns, indexes string) schema {
	ctx := t.Context()
	s := schema{Columns: map[string][]string{}, Indexes: map[string]string{}}
	rows, err := db.w.QueryContext(ctx, columns)
	require.NoError(t, err)
	for rows.Next() {
		var table, col string
		require.NoError(t, rows.Scan(&table, &col))
		s.Columns[table] = append(s.Columns[table], col)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, cols := range s.Columns {
		slices.Sort(cols)
	}
	rows, err = db.w.QueryContext(ctx, indexes)
	require.NoError(t, err)
	for rows.Next() {
		var name, table string
		var unique bool
		require.NoError(t, rows.Scan(&name, &table, &unique))
		s.Indexes[name] = indexKind(table, unique)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	return s
}

func sqliteSchema(t *testing.T, db *DB) schema {
	return readSchema(t, db,
		`SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'`,
		`SELECT m.name, m.tbl_name, l."unique" FROM sqlite_master m, pragma_index_list(m.tbl_name) l
		WHERE m.type = 'index' AND m.sql IS NOT NULL AND l.name = m.name`)
}

// postgresSchema reads PostgreSQL's schema. Indexes that back a primary
// key, unique or exclusion constraint are the constraint's own and left
// out; a foreign key also names the unique index it references (conindid),
// which stays listed.
func postgresSchema(t *testing.T, db *DB) schema {
	return readSchema(t, db,
		`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`,
		`SELECT i.relname, t.relname, x.indisunique FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = 'public' AND t.relname <> 'goose_db_version'
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))`)
}

func indexKind(table string, unique bool) string {
	if unique {
		return fmt.Sprintf("%s unique", table)
	}
	return fmt.Sprintf("%s plain", table)
}

// TestSchemasMatch: the two dialects' migrations build the same tables,
// columns and indexes, as the migration files promise.
func TestSchemasMatch(t *testing.T) {
	pg := open(t, NewPostgresDSN(t))
	lite := open(t, NewSQLiteDSN(t))
	want, got := sqliteSchema(t, lite), postgresSchema(t, pg)
	require.NotEmpty(t, want.Indexes)
	require.Equal(t, want, got, "SQLite (expected) and PostgreSQL (actual) schemas differ")
}
