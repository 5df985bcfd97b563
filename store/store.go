// Package store implements orgmodel.Store on SQLite (modernc.org/sqlite,
// pure Go) and PostgreSQL (pgx), with one set of SQL statements written
// with ? placeholders and rebound for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/orgd/orgd/orgmodel"
)

// DB implements orgmodel.Store.
type DB struct {
	w   *sql.DB // writes: SQLite holds one connection so that writers queue in Go, not on the file lock
	r   *sql.DB // reads: a pool of read-only connections (the same pool as w on PostgreSQL)
	d   *dialect
	log *slog.Logger
	// ws and rs cache w's and r's prepared statements (SQLite only).
	ws, rs *stmtCache
	// keys seal secrets (UseKeys); nil: they are written in clear.
	keys *Keyring
	// cursors turns a walk through a list of users into keyset reads (cursor.go).
	cursors *cursorCache
	// stopCk stops SQLite's checkpointer (nil on PostgreSQL).
	stopCk func()
	// jobs feed SQLite's group commit (batch.go; nil on PostgreSQL).
	jobs        chan *writeJob
	quit        chan struct{}
	batcherDone chan struct{}
	quitOnce    sync.Once
	// largestBatch is the most writes one transaction has carried (tests).
	largestBatch atomic.Int64
	stats        writerStats
	// walLong asks the writer to restart the WAL between two batches.
	walLong atomic.Bool
	ckOnce  sync.Once
}

var _ orgmodel.Store = (*DB)(nil)

// Open connects to dsn — "sqlite:PATH" (or a bare path) or
// "postgres://…" — and applies pending migrations. Replicas starting
// together on PostgreSQL migrate once (an advisory lock serialises them).
func Open(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var s *DB
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case dsn == "":
		return nil, errors.New("store: no database given (set --db or ORGD_DB)")
	case strings.Contains(dsn, "://"):
		return nil, errors.New("store: the database must be sqlite:PATH or postgres://… (other schemes are not supported)")
	default:
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	s.log = log
	s.cursors = newCursorCache()

	return s, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	path = strings.TrimPrefix(path, "file:")
	if path == "" {
		return nil, errors.New("store: sqlite: no file path given")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, errors.New("store: sqlite: the path must not contain ? or #")
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	// Migrate on a connection of its own first: goose may use more than one.
	mdb, err := sql.Open("sqlite", base+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	if err := migrate(ctx, mdb, sqliteDialect); err != nil {
		mdb.Close()
		return nil, err
	}
	mdb.Close()
	// The writer never checkpoints (see checkpointer), keeps the savepoints
	// of a batch (batch.go) in memory rather than a temporary file, writes
	// its log through walVFS (walvfs.go: a few system calls a commit), and
	// has a larger page cache: each write touches a random leaf of every
	// index of a large table, and each page missing from the cache is a read.
	if err := registerWALVFS(); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", base+"?vfs="+walVFSName+"&"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(MEMORY)&_pragma=cache_size(%d)&_pragma=journal_size_limit(%d)", writerCacheKiB, walSizeLimit))
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"?"+common+"&_pragma=query_only(1)&_txlock=deferred")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	db := &DB{w: w, r: r, d: sqliteDialect, ws: newStmtCache(w), rs: newStmtCache(r)}
	stop, err := startCheckpointer(path, base+"?"+common, nil, func() { db.walLong.Store(true) })
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	db.stopCk = stop
	db.startBatcher()
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, errors.New("store: postgres: the DSN is not valid")
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: postgres: cannot connect: %w", redact(err))
	}
	if err := migrate(ctx, db, postgresDialect); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{w: db, r: db, d: postgresDialect}, nil
}

// redact keeps a connection error's kind without echoing the DSN.
func redact(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		return errors.New("connection failed (details withheld: they name the DSN)")
	}
	return errors.New(msg)
}

// Close closes both pools.
func (s *DB) Close() error {
	s.stopBatcher()
	if s.stopCk != nil {
		s.ckOnce.Do(s.stopCk)
	}
	s.ws.close()
	s.rs.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Dialect is "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.d.name }

// Ping checks that the database answers and that the migrations are applied.
func (s *DB) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs WHERE 1 = 0`).Scan(&n); err != nil {
		return fmt.Errorf("store: not ready: %w", err)
	}
	return nil
}

// maxAttempts bounds InTx's retries after a lost race.
const maxAttempts = 8

// InTx runs fn in a read-write transaction (BEGIN IMMEDIATE on SQLite; READ
// COMMITTED with row locks on PostgreSQL) and retries it on serialization
// failures, deadlocks and busy databases.
func (s *DB) InTx(ctx context.Context, fn func(orgmodel.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if s.jobs != nil {
			err = s.batched(ctx, fn)
		} else {
			err = s.runTx(ctx, s.w, false, fn)
		}
		if !errors.Is(err, orgmodel.ErrRetry) || attempt == maxAttempts || ctx.Err() != nil {
			break
		}
		backoff := time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(5))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if errors.Is(err, orgmodel.ErrRetry) {
		return fmt.Errorf("store: gave up after %d attempts: %w", maxAttempts, err)
	}
	return err
}

// Read runs fn in a read-only transaction on the read pool.
func (s *DB) Read(ctx context.Context, fn func(orgmodel.Tx) error) error {
	return s.runTx(ctx, s.r, true, fn)
}

func (s *DB) runTx(ctx context.Context, db *sql.DB, readOnly bool, fn func(orgmodel.Tx) error) (err error) {
	var opts *sql.TxOptions
	if readOnly && s.d.name == "postgres" {
		opts = &sql.TxOptions{ReadOnly: true}
	}
	sqlTx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return s.d.translate(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	t := &tx{q: sqlTx, d: s.d, stmts: s.ws, keys: s.keys, cursors: s.cursors}
	if db == s.r && s.r != s.w {
		t.stmts = s.rs
	}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return s.d.translate(err)
	}
	return nil
}
