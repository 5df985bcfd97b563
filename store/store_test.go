package store

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// Store-specific tests; the behaviour every orgmodel.Store shares is in
// storetest, run by sqlite_test.go and postgres_test.go.

var discard = slog.New(slog.DiscardHandler)

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn, discard)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// dialects runs fn on a fresh SQLite file and, when ORGD_TEST_POSTGRES is
// set, on a fresh PostgreSQL database.
func dialects(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, NewSQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewPostgresDSN(t)) })
}

// TestRule_AUDIT_1_AuditLogIsAppendOnly shows that the audit table refuses
// changes even from SQL that bypasses the store.
func TestRule_AUDIT_1_AuditLogIsAppendOnly(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		db := open(t, dsn)
		ev := &orgmodel.AuditEvent{OrgSID: "ORaudit", Actor: "operator", Via: "cli", Action: "org.rename", Target: "x",
			Before: `{"n":1}`, After: `{"n":2}`, At: time.UnixMilli(1_700_000_000_000).UTC()}
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.AppendAudit(ctx, ev) }))
		stmts := []string{
			`UPDATE audit_events SET actor = 'mallory'`,
			`UPDATE audit_events SET after_json = '' WHERE seq = 1`,
			`DELETE FROM audit_events`,
			`DELETE FROM audit_events WHERE org_sid = 'ORaudit'`,
		}
		if db.Dialect() == "postgres" {
			stmts = append(stmts, `TRUNCATE audit_events`)
		}
		for _, q := range stmts {
			_, err := db.w.ExecContext(ctx, q)
			require.Error(t, err, q)
			require.Contains(t, err.Error(), "R-AUDIT-1", q)
		}
		var got []*orgmodel.AuditEvent
		require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) (err error) {
			got, err = tx.ListAudit(ctx, orgmodel.AuditFilter{})
			return err
		}))
		require.Equal(t, []*orgmodel.AuditEvent{ev}, got, "the event is intact")
		// Appending still works.
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			return tx.AppendAudit(ctx, &orgmodel.AuditEvent{Actor: "operator", Via: "cli", Action: "x", Target: "y", At: ev.At})
		}))
	})
}

// migrationVersions lists the versions goose recorded as applied.
func migrationVersions(t *testing.T, db *DB) []int64 {
	t.Helper()
	rows, err := db.w.QueryContext(t.Context(), `SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}

// wantVersions is every migration of the dialect, in order.
func wantVersions(t *testing.T, dialect string) []int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrationFS, "migrations/"+dialect)
	require.NoError(t, err)
	var out []int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		require.True(t, ok, e.Name())
		v, err := strconv.ParseInt(num, 10, 64)
		require.NoError(t, err, e.Name())
		out = append(out, v)
	}
	out = append(out, goMigrationVersions...)
	slices.Sort(out)
	return out
}

func TestMigrationsAreIdempotent(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		first := open(t, dsn)
		o := &orgmodel.Org{SID: orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), FriendlyName: "kept", OwnerSID: "US1", AccountLimit: 1,
			CreatedAt: time.UnixMilli(1).UTC(), UpdatedAt: time.UnixMilli(2).UTC()}
		require.NoError(t, first.InTx(ctx, func(tx orgmodel.Tx) error { return tx.CreateOrg(ctx, o) }))
		require.NoError(t, first.Close())

		again := open(t, dsn) // applies nothing, fails nothing
		require.NoError(t, again.Ping(ctx))
		require.Equal(t, wantVersions(t, again.Dialect()), migrationVersions(t, again), "each migration applied once")
		require.NoError(t, again.Read(ctx, func(tx orgmodel.Tx) error {
			got, err := tx.GetOrg(ctx, o.SID)
			require.NoError(t, err)
			require.Equal(t, o, got, "data survives reopening")
			return nil
		}))
	})
}

// TestOpenRacesMigrateOnce starts replicas together on one fresh
// PostgreSQL database: all open, and goose's advisory lock lets one migrate.
func TestOpenRacesMigrateOnce(t *testing.T) {
	dsn := NewPostgresDSN(t)
	const replicas = 4
	dbs := make([]*DB, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(t.Context(), dsn, discard)
		})
	}
	close(start)
	wg.Wait()
	for i := range replicas {
		require.NoError(t, errs[i], "replica %d", i)
		t.Cleanup(func() { dbs[i].Close() })
		require.NoError(t, dbs[i].Ping(t.Context()))
	}
	require.Equal(t, wantVersions(t, "postgres"), migrationVersions(t, dbs[0]), "the schema was migrated once")
}

func TestOpenRefusesBadDSNs(t *testing.T) {
	ctx := t.Context()
	for _, dsn := range []string{"", "mysql://root@localhost/orgd", "sqlite:", "sqlite:/tmp/orgd.db?mode=memory", "sqlite:/tmp/a#b.db"} {
		_, err := Open(ctx, dsn, discard)
		require.Error(t, err, "%q", dsn)
		require.True(t, strings.HasPrefix(err.Error(), "store: "), "%q: %v", dsn, err)
	}
	_, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "missing", "dir", "orgd.db"), discard)
	require.Error(t, err, "a file in a directory that does not exist")
}

// TestOpenErrorHidesPassword: a DSN's password never reaches the error
// (which cmd/orgd prints and logs).
func TestOpenErrorHidesPassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there any more
	dsns := []string{
		"postgres://orgd:" + secret + "@" + closed + "/orgd?sslmode=disable&connect_timeout=5",
		"postgresql://orgd:" + secret + "@" + closed + "/orgd?sslmode=disable&connect_timeout=5",
		"postgres://orgd:" + secret + "@[::1/orgd",                               // not a URL
		"postgres://orgd:" + secret + "@" + closed + "/orgd?sslmode=bogus",       // a bad option
		"postgres://orgd:" + secret + "@" + closed + "/orgd?connect_timeout=abc", // a bad value
	}
	if server := os.Getenv(PostgresEnv); server != "" {
		// A server that answers, and refuses the database.
		u, err := url.Parse(server)
		require.NoError(t, err)
		u.User, u.Path = url.UserPassword(u.User.Username(), secret), "/no_such_database"
		dsns = append(dsns, u.String())
	}
	for _, dsn := range dsns {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		_, err := Open(ctx, dsn, discard)
		cancel()
		require.Error(t, err, "%s", dsn)
		require.NotContains(t, err.Error(), secret, "the error echoes the password")
		require.NotContains(t, err.Error(), "://", "the error echoes the DSN")
	}
}

func TestSQLitePathWithSpacesAndUnicode(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "my data", "orgd ✓ 100%")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "org d.db")
	for _, dsn := range []string{"sqlite:" + path, path, "sqlite:file:" + path} {
		db := open(t, dsn)
		require.NoError(t, db.Ping(ctx))
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			return tx.AppendAudit(ctx, &orgmodel.AuditEvent{Actor: "operator", Via: "cli", Action: "x", Target: dsn, At: time.UnixMilli(1)})
		}))
		require.NoError(t, db.Close())
	}
	st, err := os.Stat(path)
	require.NoError(t, err, "the database is at the path given, not an escaped one")
	require.True(t, st.Mode().IsRegular())
	db := open(t, "sqlite:"+path)
	require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
		evs, err := tx.ListAudit(ctx, orgmodel.AuditFilter{Action: "x"})
		require.Len(t, evs, 3, "the three DSN forms name one file")
		return err
	}))
}

// TestSQLiteReadPoolRefusesWrites: the read pool's connections are
// query-only, whatever runs on them.
func TestSQLiteReadPoolRefusesWrites(t *testing.T) {
	ctx := t.Context()
	db := open(t, NewSQLiteDSN(t))
	require.NotSame(t, db.w, db.r, "SQLite reads have a pool of their own")
	_, err := db.r.ExecContext(ctx, `INSERT INTO orgs (sid, friendly_name, owner_sid, account_limit, created_at, updated_at) VALUES ('OR1', 'x', 'US1', 1, 0, 0)`)
	require.Error(t, err)
	_, err = db.r.ExecContext(ctx, `CREATE TABLE sneaky (x INTEGER)`)
	require.Error(t, err)
	var n int
	require.NoError(t, db.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n), "reads work")
}

func TestRebindDollar(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                                    `SELECT 1`,
		`SELECT * FROM t WHERE a = ?`:                 `SELECT * FROM t WHERE a = $1`,
		`INSERT INTO t (a, b, c) VALUES (?, ?, ?)`:    `INSERT INTO t (a, b, c) VALUES ($1, $2, $3)`,
		`UPDATE t SET a = ? WHERE b = ? AND c IN (?)`: `UPDATE t SET a = $1 WHERE b = $2 AND c IN ($3)`,
		strings.Repeat("?,", 11) + "?":                "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12",
	} {
		require.Equal(t, want, rebindDollar(in), in)
		require.Equal(t, want, rebindDollar(in), "%s (cached)", in)
	}
	require.Equal(t, "", rebindDollar(""))
}

// TestSQLiteConstraintNames: every unique index that backs a rule is
// found from SQLite's message, which names columns, not indexes.
func TestSQLiteConstraintNames(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	for cols, name := range sqliteUnique {
		var def string
		require.NoError(t, db.w.QueryRowContext(t.Context(), `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&def), name)
		table, _, _ := strings.Cut(cols, ".")
		var list []string
		for _, c := range strings.Split(cols, ", ") {
			list = append(list, strings.TrimPrefix(c, table+"."))
		}
		require.Contains(t, def, "ON "+table+" ("+strings.Join(list, ", ")+")", "%s indexes %s", name, cols)
		require.Contains(t, def, "UNIQUE")
		_, ok := constraintRules[name]
		require.True(t, ok, "%s maps to a rule", name)
	}
	require.Equal(t, "one_owner_per_org", sqliteConstraint("constraint failed: UNIQUE constraint failed: users.org_sid (2067)"))
	require.Equal(t, "domains_org_name", sqliteConstraint("UNIQUE constraint failed: domains.org_sid, domains.name"))
	require.Equal(t, "", sqliteConstraint("UNIQUE constraint failed: orgs.sid (1555)"))
	require.Equal(t, "", sqliteConstraint("no such table"))
	err := sqliteDialect.translate(errors.New("not a driver error"))
	require.EqualError(t, err, "not a driver error")
}
