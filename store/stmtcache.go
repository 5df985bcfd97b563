package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each statement text once per pool; database/sql then
// prepares it once on each connection and reuses it there (Tx.StmtContext),
// so SQLite parses a query once per connection instead of on every call,
// which was a quarter of the CPU of a simple read. pgx caches prepared
// statements on its own, so PostgreSQL pools have none.
//
// A statement is prepared on the pool in the background after its first
// use: preparing it in the transaction that first needs it would wait for
// a free connection while holding one, which deadlocks SQLite's
// single-connection write pool (and a busy read pool).
type stmtCache struct {
	db      *sql.DB
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

// maxCachedStmts bounds the cache: the statements are fixed texts, but
// list queries vary with their filters and limits.
const maxCachedStmts = 1024

func newStmtCache(db *sql.DB) *stmtCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &stmtCache{db: db, ctx: ctx, cancel: cancel, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the pool's statement for q, or nil when q runs as text this
// time (it is being prepared, the cache is full, or q does not prepare:
// running it reports why).
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[q]; ok {
		return s
	}
	if c.closed || c.pending[q] || len(c.m)+len(c.pending) >= maxCachedStmts {
		return nil
	}
	c.pending[q] = true
	c.wg.Add(1)
	go c.prepare(q)
	return nil
}

func (c *stmtCache) prepare(q string) {
	defer c.wg.Done()
	s, err := c.db.PrepareContext(c.ctx, q)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
	switch {
	case err != nil:
		c.m[q] = nil // runs as text from now on; counts toward the bound
	case c.closed:
		_ = s.Close()
	default:
		c.m[q] = s
	}
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		if s != nil {
			_ = s.Close()
		}
		delete(c.m, q)
	}
}

// prepared returns q (already rebound) prepared on t's connection, or nil
// to run it as text.
func (t *tx) prepared(ctx context.Context, q string) *sql.Stmt {
	s := t.stmts.get(q)
	if s == nil {
		return nil
	}
	return t.q.StmtContext(ctx, s)
}
