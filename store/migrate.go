package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationFS embed.FS

// migrate applies the dialect's pending migrations, each in its own
// transaction. On PostgreSQL a session advisory lock makes replicas that
// start together migrate once.
// Go migrations, beside the SQL files of migrations/{sqlite,postgres}.
const chainAuditVersion = 61 // chainAudit: hash the audit events written before 00060

var goMigrationVersions = []int64{chainAuditVersion}

func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	sub, err := fs.Sub(migrationFS, "migrations/"+d.name)
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	// Migration numbers are reserved in ranges per area (0001x SCIM, 0002x
	// login, 0003x API, …), so a database migrated by an earlier build may
	// lack a lower number that a later build adds; apply it then rather
	// than refuse to start. Each area's migrations only touch its own tables.
	opts = append(opts, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true),
		goose.WithGoMigrations(goose.NewGoMigration(chainAuditVersion, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return chainAudit(ctx, tx, d)
		}}, nil)))
	if d.name == "postgres" {
		gd = goose.DialectPostgres
		// Probe every second (goose waits 5 s between tries by default, so
		// replicas starting together waited 5–10 s); give up after 5 min.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	return nil
}
