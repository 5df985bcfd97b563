package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// tx implements orgmodel.Tx on one database/sql transaction.
type tx struct {
	q     *sql.Tx
	d     *dialect
	stmts *stmtCache // nil: run statements as text
	keys  *Keyring   // seals secrets; nil: in clear
	// cursors remembers where pages of users ended (keyset paging; nil: OFFSET only).
	cursors *cursorCache
	// detached runs statements without their caller's cancellation: in a
	// batch of writes (batch.go) an interrupted statement would roll back
	// the other callers' writes too.
	detached bool
	// batchState: what t shares with the other callers of its batch of
	// writes (batch.go); zero: t writes through.
	batchState
}

// ctx is the context t's statements run under.
func (t *tx) ctx(ctx context.Context) context.Context {
	if t.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

var _ orgmodel.Tx = (*tx)(nil)

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	q = t.d.rebind(q)
	if s := t.prepared(ctx, q); s != nil {
		r, err := s.ExecContext(ctx, args...)
		return r, t.d.translate(err)
	}
	r, err := t.q.ExecContext(ctx, q, args...)
	return r, t.d.translate(err)
}

// execOne runs a statement that must change exactly one row.
func (t *tx) execOne(ctx context.Context, q string, args ...any) error {
	r, err := t.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return orgmodel.ErrNotFound
	}
	return nil
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	q = t.d.rebind(q)
	if s := t.prepared(ctx, q); s != nil {
		rows, err := s.QueryContext(ctx, args...)
		return rows, t.d.translate(err)
	}
	rows, err := t.q.QueryContext(ctx, q, args...)
	return rows, t.d.translate(err)
}

func (t *tx) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := t.queryRow(ctx, q, args...).Scan(&n)
	return n, t.d.translate(err)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	q = t.d.rebind(q)
	if s := t.prepared(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.q.QueryRowContext(ctx, q, args...)
}

type scanner interface{ Scan(dest ...any) error }

// getOne runs q and scans its single row with scan; no row is ErrNotFound.
func getOne[T any](ctx context.Context, t *tx, scan func(scanner) (*T, error), q string, args ...any) (*T, error) {
	v, err := scan(t.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orgmodel.ErrNotFound
	}
	return v, t.d.translate(err)
}

// getAll runs q and scans every row with scan.
func getAll[T any](ctx context.Context, t *tx, scan func(scanner) (*T, error), q string, args ...any) ([]*T, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.d.translate(err)
		}
		out = append(out, v)
	}
	return out, t.d.translate(rows.Err())
}

// where accumulates optional conditions of a list query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	s := " WHERE " + w.conds[0]
	for _, c := range w.conds[1:] {
		s += " AND " + c
	}
	return s
}

func limit(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", n)
}

// Times are stored as Unix milliseconds.

func ms(t time.Time) int64 { return t.UnixMilli() }

func nms(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// msTime scans a non-null millisecond column into a time.Time.
type msTime struct{ p *time.Time }

func (m msTime) Scan(v any) error {
	i, ok := v.(int64)
	if !ok {
		return fmt.Errorf("store: time column holds %T", v)
	}
	*m.p = time.UnixMilli(i).UTC()
	return nil
}

// msNull scans a nullable millisecond column into a *time.Time.
type msNull struct{ p **time.Time }

func (m msNull) Scan(v any) error {
	if v == nil {
		*m.p = nil
		return nil
	}
	i, ok := v.(int64)
	if !ok {
		return fmt.Errorf("store: time column holds %T", v)
	}
	t := time.UnixMilli(i).UTC()
	*m.p = &t
	return nil
}

// nullStr scans a nullable text column into a string ("" for NULL).
type nullStr struct{ p *string }

func (n nullStr) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n.p = ""
	case string:
		*n.p = x
	case []byte:
		*n.p = string(x)
	default:
		return fmt.Errorf("store: text column holds %T", v)
	}
	return nil
}

// orNull stores "" as NULL.
func orNull[S ~string](s S) any {
	if s == "" {
		return nil
	}
	return string(s)
}
