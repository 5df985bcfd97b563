package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
)

// Whole-database operations: they open what they need themselves (raw),
// since restore must not create the database it is about to replace.
var dataCommands = []*command{
	{
		name: "backup", synopsis: "--out FILE [--db sqlite:PATH]", noActor: true, raw: true,
		summary: "write a consistent copy of the SQLite database to a new file, also while orgd serve runs, and check it",
		setup: func(f *flagSet) action {
			out := f.str("out", "the backup `FILE` to create (never overwritten)", true)
			return func(ctx context.Context, c *call) (any, error) {
				path, err := sqlitePath("--db", c.opts.db)
				if err != nil {
					return nil, err
				}
				if _, err := os.Stat(path); err != nil {
					return nil, &orgmodel.RuleError{Kind: orgmodel.KindNotFound, Field: "db", Msg: fmt.Sprintf("--db: there is no database at %s", path)}
				}
				db, err := store.Open(ctx, c.opts.db, slog.New(slog.DiscardHandler))
				if err != nil {
					return nil, &operatorError{"cannot open the database: " + err.Error()}
				}
				defer db.Close()
				rep, err := db.Backup(ctx, *out)
				if err != nil {
					return nil, err
				}
				res := map[string]any{"status": "backed-up", "db": c.opts.db, "out": rep.Path, "bytes": rep.Bytes,
					"schema_version": rep.SchemaVersion, "integrity": rep.Integrity, "rows": rep.Rows}
				// The sealed secrets in the copy open only with the secret
				// key: a copy of the key file goes beside it, to be kept
				// apart from the backup (README, "Backup and restore").
				if keys := keyFileOf(c.opts.keyFile, path); fileExists(keys) {
					if err := store.CopyKeyFile(keys, rep.Path+".key"); err != nil {
						return nil, &operatorError{"the backup was written, but not a copy of its secret key: " + err.Error()}
					}
					res["secret_key_file"] = rep.Path + ".key"
				}
				return printed(c, res)
			}
		},
	},
	{
		name: "restore", synopsis: "--in FILE --db sqlite:PATH [--force]", noActor: true, raw: true,
		summary: "replace the SQLite database by a checked backup (refused while a server has it open, and over data without --force)",
		setup: func(f *flagSet) action {
			in := f.str("in", "the backup `FILE` made by orgd backup", true)
			force := f.boolean("force", "replace a database that holds data")
			return func(ctx context.Context, c *call) (any, error) {
				dst, err := sqlitePath("--db", c.opts.db)
				if err != nil {
					return nil, err
				}
				from, err := store.RestoreSQLite(ctx, *in, dst, *force)
				if err != nil {
					return nil, err
				}
				// The backup's secret key (orgd backup wrote it beside the
				// backup) joins the restored database's key file, so that
				// the secrets sealed in the backup open.
				keys := keyFileOf(c.opts.keyFile, dst)
				if fileExists(*in + ".key") {
					if err := store.MergeKeyFile(*in+".key", keys); err != nil {
						return nil, &operatorError{"the backup was restored, but its secret key was not: " + err.Error()}
					}
				}
				// Open migrates a backup of an older orgd to this one's schema.
				db, err := store.Open(ctx, c.opts.db, slog.New(slog.DiscardHandler))
				if err != nil {
					return nil, &operatorError{"the backup was restored but does not open: " + err.Error()}
				}
				db.Close()
				rep, err := store.InspectSQLite(ctx, dst)
				if err != nil {
					return nil, &operatorError{"the backup was restored but does not check out: " + err.Error()}
				}
				res := map[string]any{"status": "restored", "db": c.opts.db, "in": *in,
					"backup_schema_version": from.SchemaVersion, "schema_version": rep.SchemaVersion,
					"integrity": rep.Integrity, "rows": rep.Rows}
				if fileExists(keys) {
					res["secret_key_file"] = keys
				}
				return printed(c, res)
			}
		},
	},
	{
		name: "migrate-data", synopsis: "--from sqlite:PATH --to postgres://…", noActor: true, raw: true,
		summary: "copy every row of a SQLite database into an empty PostgreSQL database, in one transaction, checking row counts",
		setup: func(f *flagSet) action {
			from := f.str("from", "the SQLite database to copy, `sqlite:PATH`", true)
			to := f.str("to", "the PostgreSQL database to fill, `postgres://…` (created empty; migrated here)", true)
			f.check(func() error {
				if _, err := sqlitePath("--from", *from); err != nil {
					return err
				}
				if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
					return f.usageErr("--to must be a postgres:// DSN")
				}
				return nil
			})
			return func(ctx context.Context, c *call) (any, error) {
				path, _ := sqlitePath("--from", *from)
				if _, err := os.Stat(path); err != nil {
					return nil, &orgmodel.RuleError{Kind: orgmodel.KindNotFound, Field: "from", Msg: fmt.Sprintf("--from: there is no database at %s", path)}
				}
				src, err := store.Open(ctx, *from, slog.New(slog.DiscardHandler))
				if err != nil {
					return nil, &operatorError{"cannot open the source database: " + err.Error()}
				}
				defer src.Close()
				dst, err := store.Open(ctx, *to, slog.New(slog.DiscardHandler))
				if err != nil {
					return nil, &operatorError{"cannot open the target database: " + err.Error()}
				}
				defer dst.Close()
				rep, err := store.CopyData(ctx, src, dst)
				if err != nil {
					return nil, err
				}
				var total int64
				for _, n := range rep.Rows {
					total += n
				}
				res := map[string]any{"status": "copied", "from": *from, "to": "postgres",
					"schema_version": rep.SchemaVersion, "tables": rep.Tables, "rows": rep.Rows, "total_rows": total}
				// Sealed secrets are copied sealed: every PostgreSQL replica
				// must be started with the SQLite database's key file.
				if keys := keyFileOf(c.opts.keyFile, path); fileExists(keys) {
					res["secret_key_file"] = keys
					res["next"] = "start every PostgreSQL replica with --secret-key-file " + keys + " (or a copy of it)"
				}
				return printed(c, res)
			}
		},
	},
}

// keyFileOf is the secret key file of the SQLite database at path: the one
// --secret-key-file names, or the default beside the database.
func keyFileOf(given, path string) string {
	if given != "" {
		return given
	}
	return path + ".key"
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// printed writes a raw verb's result as the CLI's one JSON object.
func printed(c *call, v any) (any, error) {
	return v, writeJSON(c.stdout, v)
}

// sqlitePath is the file of a sqlite:PATH (or bare path) DSN; flag names
// the setting in the error for anything else.
func sqlitePath(flag, dsn string) (string, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "", &usageError{fmt.Sprintf("%s is a PostgreSQL database; this verb works on SQLite files (back up PostgreSQL with pg_dump, see the README's \"Scale out\")", flag)}
	case strings.Contains(dsn, "://"):
		return "", &usageError{fmt.Sprintf("%s must be sqlite:PATH", flag)}
	}
	p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if p == "" {
		return "", &usageError{fmt.Sprintf("%s names no file", flag)}
	}
	return filepath.Clean(p), nil
}
