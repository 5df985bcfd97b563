package scim_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/store"
)

// database is one of the databases the store runs on.
type database struct {
	name string
	open func(t testing.TB) *store.DB
}

// databases lists SQLite always and PostgreSQL when ORGD_TEST_POSTGRES
// names a server (each test gets a database of its own, dropped after).
func databases(t testing.TB) []database {
	dbs := []database{{"sqlite", func(t testing.TB) *store.DB {
		db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}}}
	dsn := os.Getenv("ORGD_TEST_POSTGRES")
	if dsn == "" {
		t.Log("PostgreSQL not tested: set ORGD_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
		return dbs
	}
	return append(dbs, database{"postgres", func(t testing.TB) *store.DB { return openPostgres(t, dsn) }})
}

func openPostgres(t testing.TB, dsn string) *store.DB {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer admin.Close()
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.Path = "/" + name
	db, err := store.Open(ctx, u.String(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db
}
