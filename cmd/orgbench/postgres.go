package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// freshPostgres creates a database orgbench_<random> on the server of dsn
// and returns its DSN and how to drop it.
func freshPostgres(ctx context.Context, dsn string) (string, func(), error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return "", nil, errors.New("--fresh-postgres needs a postgres:// --db")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, errors.New("--db is not a valid PostgreSQL URL")
	}
	if err := checkLoopback("http://" + u.Host); err != nil {
		return "", nil, errors.New("--fresh-postgres creates databases on this machine's server only")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "orgbench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}
