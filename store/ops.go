package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orgd/orgd/orgmodel"
)

// Operations on whole databases: online backups of SQLite files, their
// restoration, and copying a SQLite database into PostgreSQL.

// FileReport describes a SQLite database file that was checked.
type FileReport struct {
	Path          string           `json:"path"`
	Bytes         int64            `json:"bytes"`
	SchemaVersion int64            `json:"schema_version"`
	Integrity     string           `json:"integrity"` // "ok": PRAGMA integrity_check and foreign_key_check passed
	Rows          map[string]int64 `json:"rows"`
}

// gooseTable is where goose records the migrations applied.
const gooseTable = "goose_db_version"

// LatestSchemaVersion is the highest migration this build has for dialect
// ("sqlite" or "postgres").
func LatestSchemaVersion(dialect string) int64 {
	vs := MigrationVersions(dialect)
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1]
}

// MigrationVersions is every migration this build has for dialect, SQL
// files and Go migrations, in ascending order.
func MigrationVersions(dialect string) []int64 {
	var out []int64
	ents, _ := fs.ReadDir(migrationFS, "migrations/"+dialect)
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(num, 10, 64); ok && err == nil {
			out = append(out, v)
		}
	}
	if len(out) > 0 {
		out = append(out, goMigrationVersions...)
	}
	slices.Sort(out)
	return out
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// schemaVersion is the highest migration applied, 0 when there is none.
func schemaVersion(ctx context.Context, q querier) (int64, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(version_id) FROM `+gooseTable+` WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, err
	}
	return v.Int64, nil
}

// SchemaVersion is the highest migration applied to the database.
func (s *DB) SchemaVersion(ctx context.Context) (int64, error) {
	return schemaVersion(ctx, s.r)
}

// tableOrder lists the application tables (every table but goose's) so
// that each comes after the tables its foreign keys reference; ties in
// name order. Self-references do not count.
func tableOrder(ctx context.Context, q querier, dialect string) ([]string, error) {
	var tablesQ, refsQ string
	switch dialect {
	case "sqlite":
		tablesQ = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> '` + gooseTable + `'`
		refsQ = `SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
	default:
		tablesQ = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '` + gooseTable + `'`
		refsQ = `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
			WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`
	}
	names, err := strings1(ctx, q, tablesQ)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	rows, err := q.QueryContext(ctx, refsQ)
	if err != nil {
		return nil, err
	}
	refs := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return nil, err
		}
		if from != to {
			refs[from] = append(refs[from], to)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	done := map[string]bool{}
	for len(out) < len(names) {
		progress := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, r := range refs[n] {
				if !done[r] && slices.Contains(names, r) {
					ready = false
				}
			}
			if ready {
				out, done[n], progress = append(out, n), true, true
			}
		}
		if !progress {
			return nil, errors.New("store: the tables' foreign keys form a cycle")
		}
	}
	return out, nil
}

func strings1(ctx context.Context, q querier, query string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// rowCounts counts the rows of each table.
func rowCounts(ctx context.Context, q querier, tables []string) (map[string]int64, error) {
	out := make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Backup writes a consistent copy of the SQLite database to path with
// VACUUM INTO, which reads one snapshot while writers carry on, then
// checks the copy. path must not exist.
func (s *DB) Backup(ctx context.Context, path string) (*FileReport, error) {
	if s.d.name != "sqlite" {
		return nil, &orgmodel.RuleError{Kind: orgmodel.KindInvalid, Field: "db",
			Msg: "orgd backup copies SQLite databases; back up PostgreSQL with pg_dump (see the README's \"Scale out\")"}
	}
	if _, err := os.Stat(path); err == nil {
		return nil, &orgmodel.RuleError{Kind: orgmodel.KindConflict, Field: "out", Msg: fmt.Sprintf("--out %s already exists; a backup never overwrites a file", path)}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: backup: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: backup: %w", err)
	}
	if err := dirExists("out", abs); err != nil {
		return nil, err
	}
	if _, err := s.w.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		_ = os.Remove(abs)
		return nil, fmt.Errorf("store: backup: VACUUM INTO %s: %w", abs, err)
	}
	if err := syncFile(abs); err != nil {
		return nil, fmt.Errorf("store: backup: %w", err)
	}
	rep, err := InspectSQLite(ctx, abs)
	if err != nil {
		return nil, fmt.Errorf("store: backup: the copy does not check out: %w", err)
	}
	return rep, nil
}

// openSQLiteRO opens the SQLite file at path read-only.
func openSQLiteRO(path string) (*sql.DB, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, errors.New("the path must not contain ? or #")
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// InspectSQLite checks the orgd SQLite database at path without changing
// it: integrity, foreign keys, schema version (not newer than this build's)
// and row counts. A file that is not such a database is KindInvalid.
func InspectSQLite(ctx context.Context, path string) (*FileReport, error) {
	bad := func(format string, args ...any) error {
		return &orgmodel.RuleError{Kind: orgmodel.KindInvalid, Msg: path + ": " + fmt.Sprintf(format, args...)}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, bad("cannot read it: %v", errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() || st.Size() == 0 {
		return nil, bad("not a SQLite database (an empty or special file)")
	}
	db, err := openSQLiteRO(path)
	if err != nil {
		return nil, bad("%v", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, bad("not a SQLite database: %v", err)
	}
	defer conn.Close()
	var ok string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check(1)`).Scan(&ok); err != nil {
		return nil, bad("not a SQLite database: %v", err)
	}
	if ok != "ok" {
		return nil, bad("damaged: integrity_check says %q", ok)
	}
	rows, err := conn.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, bad("foreign_key_check: %v", err)
	}
	broken := rows.Next()
	rows.Close()
	if broken {
		return nil, bad("damaged: rows reference rows that are missing (PRAGMA foreign_key_check)")
	}
	// user_terms refers to its user through triggers, not a foreign key
	// (migration 00070): the same check, by hand (a backup older than
	// SCIM has no such table: the query fails and there is nothing to check).
	var orphans int
	err = conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM user_terms t WHERE NOT EXISTS
		(SELECT 1 FROM users u WHERE u.sid = t.user_sid AND u.org_sid = t.org_sid))`).Scan(&orphans)
	if err == nil && orphans != 0 {
		return nil, bad("damaged: searchable terms (user_terms) refer to users that are missing")
	}
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return nil, bad("not an orgd database (no migration record)")
	}
	if latest := LatestSchemaVersion("sqlite"); v > latest {
		return nil, bad("made by a newer orgd (schema version %d; this one knows up to %d)", v, latest)
	}
	tables, err := tableOrder(ctx, conn, "sqlite")
	if err != nil {
		return nil, bad("%v", err)
	}
	if !slices.Contains(tables, "orgs") {
		return nil, bad("not an orgd database (no orgs table)")
	}
	counts, err := rowCounts(ctx, conn, tables)
	if err != nil {
		return nil, bad("%v", err)
	}
	return &FileReport{Path: path, Bytes: st.Size(), SchemaVersion: v, Integrity: "ok", Rows: counts}, nil
}

// RestoreSQLite replaces the SQLite database at dst by a copy of the backup
// at src, after checking the backup (InspectSQLite). A dst that holds rows
// is replaced only with force; one some process has open (orgd serve) is
// never replaced. The restored database is migrated to this build's schema
// by the next Open. It returns the backup's report.
func RestoreSQLite(ctx context.Context, src, dst string, force bool) (*FileReport, error) {
	rep, err := InspectSQLite(ctx, src)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(dst); err == nil && st.Size() > 0 {
		if err := checkReplaceable(ctx, dst, force); err != nil {
			return nil, err
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := dirExists("db", dst); err != nil {
		return nil, err
	}
	tmp := dst + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	for _, side := range []string{dst + "-wal", dst + "-shm", dst + "-journal"} {
		if err := os.Remove(side); err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = os.Remove(tmp)
			return nil, fmt.Errorf("store: restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return rep, nil
}

// checkReplaceable refuses to replace dst while a process has it open,
// and without force when it holds rows (or is not an orgd database).
func checkReplaceable(ctx context.Context, dst string, force bool) error {
	refuse := func(format string, args ...any) error {
		return &orgmodel.RuleError{Kind: orgmodel.KindConflict, Field: "db", Msg: fmt.Sprintf(format, args...)}
	}
	// Leaving WAL mode needs the only connection to the file: it fails
	// while a server has it open, and checkpoints the WAL otherwise.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: dst}).EscapedPath()+"?_pragma=busy_timeout(2000)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var was, mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&was); err != nil {
		if force {
			return nil
		}
		return refuse("%s exists and is not a SQLite database (%v); give --force to replace it", dst, err)
	}
	err = db.QueryRowContext(ctx, `PRAGMA journal_mode=DELETE`).Scan(&mode)
	if err != nil || !strings.EqualFold(mode, "delete") {
		return refuse("%s is in use (stop orgd serve and every other process using it, then restore)", dst)
	}
	if force {
		return nil
	}
	var data error
	rep, err := InspectSQLite(ctx, dst)
	if err != nil {
		data = refuse("%s exists and is not an empty orgd database (%v); give --force to replace it", dst, err)
	} else {
		var n int64
		for _, c := range rep.Rows {
			n += c
		}
		if n > 0 {
			data = refuse("%s holds data (organizations: %d, users: %d, rows in all: %d); give --force to replace it", dst, rep.Rows["orgs"], rep.Rows["users"], n)
		}
	}
	if data != nil && !strings.EqualFold(was, mode) {
		// Refused: leave the file as it was.
		_, _ = db.ExecContext(ctx, `PRAGMA journal_mode=`+was)
	}
	return data
}

// dirExists checks that the directory of the file that flag names exists.
func dirExists(flag, file string) error {
	dir := filepath.Dir(file)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return &orgmodel.RuleError{Kind: orgmodel.KindInvalid, Field: flag, Msg: fmt.Sprintf("--%s: the directory %s does not exist", flag, dir)}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CopyReport is what CopyData copied.
type CopyReport struct {
	SchemaVersion int64            `json:"schema_version"`
	Tables        []string         `json:"tables"` // in the order copied
	Rows          map[string]int64 `json:"rows"`
}

// CopyData copies every row of src, a SQLite database, into dst, an empty
// PostgreSQL database at the same schema version (both opened, and so
// migrated, by this build), in one PostgreSQL transaction: tables in
// foreign-key order with COPY, sequences moved past the copied ids, and
// each table's row count checked before it commits. src is read in one
// snapshot, so a server may keep running on it (its later writes are not
// copied). A dst that holds any row is refused.
func CopyData(ctx context.Context, src, dst *DB) (*CopyReport, error) {
	if src.d.name != "sqlite" || dst.d.name != "postgres" {
		return nil, &orgmodel.RuleError{Kind: orgmodel.KindInvalid, Msg: "migrate-data copies a SQLite database (--from sqlite:PATH) into PostgreSQL (--to postgres://…)"}
	}
	stx, err := src.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: %w", err)
	}
	defer func() { _ = stx.Rollback() }()
	srcVersion, err := schemaVersion(ctx, stx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: source: %w", err)
	}
	dstVersion, err := schemaVersion(ctx, dst.r)
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: target: %w", err)
	}
	if srcVersion != dstVersion {
		return nil, &orgmodel.RuleError{Kind: orgmodel.KindConflict,
			Msg: fmt.Sprintf("the source is at schema version %d and the target at %d; run the same orgd on both", srcVersion, dstVersion)}
	}
	srcTables, err := tableOrder(ctx, stx, "sqlite")
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: source: %w", err)
	}
	tables, err := tableOrder(ctx, dst.r, "postgres")
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: target: %w", err)
	}
	if a, b := slices.Sorted(slices.Values(srcTables)), slices.Sorted(slices.Values(tables)); !slices.Equal(a, b) {
		return nil, fmt.Errorf("store: migrate-data: the source's tables %v differ from the target's %v", a, b)
	}
	want, err := rowCounts(ctx, stx, tables)
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: source: %w", err)
	}

	conn, err := dst.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate-data: target: %w", err)
	}
	defer conn.Close()
	rep := &CopyReport{SchemaVersion: srcVersion, Tables: tables, Rows: want}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		// Lock every table first: a copy racing another one, or a server
		// started early, cannot interleave.
		quoted := make([]string, len(tables))
		for i, t := range tables {
			quoted[i] = quoteIdent(t)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(quoted, ", ")+` IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		for _, t := range tables {
			var has bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(t)+`)`).Scan(&has); err != nil {
				return err
			}
			if has {
				return &orgmodel.RuleError{Kind: orgmodel.KindConflict, Field: "to",
					Msg: fmt.Sprintf("the target database already holds data (table %s has rows); migrate-data copies into an empty database only", t)}
			}
		}
		for _, t := range tables {
			if _, ok := derivedTables[t]; ok {
				continue
			}
			n, err := copyTable(ctx, stx, tx, t)
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			if n != want[t] {
				return fmt.Errorf("table %s: copied %d rows of %d", t, n, want[t])
			}
			var got int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t)).Scan(&got); err != nil {
				return err
			}
			if got != want[t] {
				return fmt.Errorf("table %s: the target holds %d rows, the source %d", t, got, want[t])
			}
			if err := advanceSequences(ctx, tx, t); err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
		}
		// Tables kept by triggers were filled as their sources were
		// copied (COPY fires them); they are rebuilt from what was copied.
		for t, rebuild := range derivedTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+quoteIdent(t)); err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			if _, err := tx.Exec(ctx, rebuild); err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			var n int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
				return err
			}
			rep.Rows[t] = n
		}
		var users, counted int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM users), (SELECT COALESCE(SUM(n), 0) FROM user_counts)`).Scan(&users, &counted); err != nil {
			return err
		}
		if users != counted {
			return fmt.Errorf("user_counts: counts %d users of %d", counted, users)
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		var re *orgmodel.RuleError
		if errors.As(err, &re) {
			return nil, re
		}
		return nil, fmt.Errorf("store: migrate-data: nothing was copied: %w", err)
	}
	return rep, nil
}

// copyTable copies the rows of table from the SQLite transaction into the
// PostgreSQL one with COPY, converting SQLite's storage classes to the
// column types (0/1 to booleans).
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, table string) (int64, error) {
	rows, err := dst.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return 0, err
	}
	var cols, types []string
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			rows.Close()
			return 0, err
		}
		cols, types = append(cols, c), append(types, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	// In primary-key order: the audit log and the outbox go in as they were
	// written.
	pk, err := dst.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey::int2[], a.attnum)`, quoteIdent(table))
	if err != nil {
		return 0, err
	}
	var order []string
	for pk.Next() {
		var c string
		if err := pk.Scan(&c); err != nil {
			pk.Close()
			return 0, err
		}
		order = append(order, quoteIdent(c))
	}
	pk.Close()
	if err := pk.Err(); err != nil {
		return 0, err
	}
	q := `SELECT ` + strings.Join(quoted, ", ") + ` FROM ` + quoteIdent(table)
	if len(order) > 0 {
		q += ` ORDER BY ` + strings.Join(order, ", ")
	}
	srows, err := src.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("reading the source: %w", err)
	}
	defer srows.Close()
	return dst.CopyFrom(ctx, pgx.Identifier{table}, cols, &sqliteRows{rows: srows, types: types})
}

// derivedTables are kept by triggers on other tables: migrate-data does
// not copy them but rebuilds them (on PostgreSQL) once their sources are in.
var derivedTables = map[string]string{
	"user_counts": `INSERT INTO user_counts (org_sid, shard, n)
		SELECT org_sid, ascii(right(sid, 1)) % 8, COUNT(*) FROM users GROUP BY org_sid, ascii(right(sid, 1)) % 8`,
}

// sqliteRows feeds pgx's COPY from SQLite rows.
type sqliteRows struct {
	rows  *sql.Rows
	types []string
	vals  []any
	err   error
}

func (r *sqliteRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	raw := make([]any, len(r.types))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	for i, v := range raw {
		raw[i], r.err = convert(v, r.types[i])
		if r.err != nil {
			return false
		}
	}
	r.vals = raw
	return true
}

func (r *sqliteRows) Values() ([]any, error) { return r.vals, r.err }

func (r *sqliteRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// convert turns a value SQLite returned into one for a PostgreSQL column
// of type typ.
func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("a %T value does not fit a %s column", v, typ)
}

// advanceSequences moves the sequences of table's serial columns past the
// highest copied value, so that new rows get fresh ids.
func advanceSequences(ctx context.Context, tx pgx.Tx, table string) error {
	rows, err := tx.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_default LIKE 'nextval(%'`, table)
	if err != nil {
		return err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(`+quoteIdent(c)+`), 0) + 1, false) FROM `+quoteIdent(table),
			quoteIdent(table), c)
		if err != nil {
			return err
		}
	}
	return nil
}
