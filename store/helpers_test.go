package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Test helpers shared by the package's internal and external tests.

// PostgresEnv names the variable that enables the PostgreSQL tests.
const PostgresEnv = "ORGD_TEST_POSTGRES"

// NewSQLiteDSN returns the DSN of a new SQLite file in a directory removed
// when t ends.
func NewSQLiteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "orgd.db")
}

var pgAdmin = sync.OnceValues(func() (*sql.DB, error) {
	return sql.Open("pgx", os.Getenv(PostgresEnv))
})

// PostgresServer returns the server ORGD_TEST_POSTGRES names, or skips t
// when the variable is unset.
func PostgresServer(t testing.TB) string {
	t.Helper()
	server := os.Getenv(PostgresEnv)
	if server == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (for example postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)", PostgresEnv)
	}
	return server
}

// NewPostgresDSN creates an empty database on the server ORGD_TEST_POSTGRES
// names, drops it (with its connections) when t ends, and returns its DSN.
// It skips t when the variable is unset.
func NewPostgresDSN(t testing.TB) string {
	t.Helper()
	server := PostgresServer(t)
	admin, err := pgAdmin()
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s is not a URL", PostgresEnv)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
