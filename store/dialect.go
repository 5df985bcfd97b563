package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/orgd/orgd/orgmodel"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name       string
	forUpdate  string // row lock on a SELECT
	skipLocked string // row lock that skips rows other transactions hold
	// insertRows begins an INSERT of several rows whose caller fails as a
	// whole when one row does (its transaction or savepoint is rolled
	// back): SQLite's OR FAIL keeps the rows before the failing one
	// instead of journalling every page the statement touches to undo it
	// alone (a statement journal, 8% of a user's terms insert).
	insertRows string
	rebind     func(string) string
}

var sqliteDialect = &dialect{
	name:       "sqlite",
	insertRows: "INSERT OR FAIL INTO ",
	rebind:     func(q string) string { return q },
}

var postgresDialect = &dialect{
	name:       "postgres",
	forUpdate:  " FOR UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	insertRows: "INSERT INTO ",
	rebind:     rebindDollar,
}

var rebound sync.Map // query text → $n form

// rebindDollar turns ? placeholders into $1, $2, … (the statements hold no
// ? inside string literals). Results are cached: the set of statements is fixed.
func rebindDollar(q string) string {
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	out := b.String()
	rebound.Store(q, out)
	return out
}

// constraintRules names the rule each backstop constraint enforces, so a
// lost race still reports the rule id.
var constraintRules = map[string]struct{ rule, msg string }{
	"one_owner_per_org":            {"R-ROLE-1", "the organization already has an Owner"},
	"users_email_key":              {"R-USER-2", "a user with this email already exists; a person belongs to one organization"},
	"one_exclusive_org_per_domain": {"R-DOM-4", "another organization already sets Auto-enrollment or enforces SSO for this domain"},
	"domains_org_name":             {"R-DOM-1", "the domain is already registered by this organization"},
}

// sqliteUnique names the unique indexes of constraintRules by the columns
// SQLite reports instead of the name ("UNIQUE constraint failed:
// users.org_sid"); each column list belongs to one unique index. SQLite
// serialises writers, so the service's own checks usually refuse first,
// but a write that reaches the index (a Tx used directly, a check missed)
// still reports the rule, as on PostgreSQL.
var sqliteUnique = map[string]string{
	"users.org_sid":                 "one_owner_per_org",
	"users.email_key":               "users_email_key",
	"domains.name":                  "one_exclusive_org_per_domain",
	"domains.org_sid, domains.name": "domains_org_name",
}

// byConstraint returns the error for a violated uniqueness constraint:
// the rule it backs, or ErrConflict with the driver's detail.
func byConstraint(name, detail string) error {
	if r, ok := constraintRules[name]; ok {
		return orgmodel.Breaks(r.rule, orgmodel.KindConflict, "%s", r.msg)
	}
	return fmt.Errorf("%w: %s", orgmodel.ErrConflict, detail)
}

// sqliteConstraint finds the constraint named by a SQLite uniqueness error.
func sqliteConstraint(msg string) string {
	const marker = "UNIQUE constraint failed: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	cols := msg[i+len(marker):]
	if j := strings.LastIndex(cols, " ("); j >= 0 { // the driver appends " (2067)"
		cols = cols[:j]
	}
	return sqliteUnique[cols]
}

// translate turns driver errors into orgmodel errors: backstop constraints
// into their rule, other uniqueness failures into ErrConflict, contention
// into ErrRetry. Other errors pass through wrapped.
func (d *dialect) translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return byConstraint(pg.ConstraintName, pg.ConstraintName)
		case "23503":
			return fmt.Errorf("%w: still referenced (%s)", orgmodel.ErrConflict, pg.ConstraintName)
		case "40001", "40P01", "55P03":
			return fmt.Errorf("%w: %s", orgmodel.ErrRetry, pg.Code)
		}
		return fmt.Errorf("store: postgres %s: %w", pg.Code, err)
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch code := lite.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return byConstraint(sqliteConstraint(lite.Error()), lite.Error())
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: still referenced", orgmodel.ErrConflict)
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: database busy", orgmodel.ErrRetry)
		}
		return fmt.Errorf("store: sqlite: %w", err)
	}
	return err
}
