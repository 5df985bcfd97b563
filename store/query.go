package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// Directory queries (orgmodel.Query) become one SQL statement scoped to an
// organization. Each condition on a term becomes a sub-select on the
// user_terms index (org_sid, path, key); a value path becomes a sub-select
// driven by its most selective part and checking the others on the same
// element. On SQLite, which keeps no statistics unless analysed, a
// selective term condition is made to drive the join explicitly (CROSS
// JOIN), so that a large organization is never scanned for it.

// maxRune bounds a prefix range: every string that starts with p sorts
// before p+maxRune (U+10FFFF is a noncharacter: no text holds it).
const maxRune = "\U0010FFFF"

// sqlb builds one dynamic statement.
type sqlb struct {
	d    *dialect
	b    strings.Builder
	args []any
	org  orgmodel.OrgSID
}

func (q *sqlb) w(ss ...string) {
	for _, s := range ss {
		q.b.WriteString(s)
	}
}

func (q *sqlb) arg(v any) {
	q.b.WriteByte('?')
	q.args = append(q.args, v)
}

// collate makes a comparison or an order on a column of the original
// schema (default collation) compare by code point on PostgreSQL.
func (q *sqlb) collate(expr string) string {
	if q.d.name == "postgres" {
		return expr + ` COLLATE "C"`
	}
	return expr
}

// text writes expr op v for a text expression; v is already folded as
// the expression is.
func (q *sqlb) text(expr string, op orgmodel.Op, v string) {
	switch op {
	case orgmodel.OpEq:
		q.w(expr, " = ")
		q.arg(v)
	case orgmodel.OpNe:
		q.w(expr, " <> ")
		q.arg(v)
	case orgmodel.OpSw:
		q.w("(", expr, " >= ")
		q.arg(v)
		q.w(" AND ", expr, " < ")
		q.arg(v + maxRune)
		q.w(")")
	case orgmodel.OpCo:
		if q.d.name == "postgres" {
			q.w("strpos(", expr, ", ")
		} else {
			q.w("instr(", expr, ", ")
		}
		q.arg(v)
		q.w(") > 0")
	case orgmodel.OpEw:
		if v == "" {
			q.w("1 = 1")
			return
		}
		if q.d.name == "postgres" {
			q.w("right(", expr, ", ")
		} else {
			q.w("substr(", expr, ", -")
		}
		q.arg(int64(len([]rune(v))))
		q.w(") = ")
		q.arg(v)
	case orgmodel.OpGt:
		q.w(expr, " > ")
		q.arg(v)
	case orgmodel.OpGe:
		q.w(expr, " >= ")
		q.arg(v)
	case orgmodel.OpLt:
		q.w(expr, " < ")
		q.arg(v)
	case orgmodel.OpLe:
		q.w(expr, " <= ")
		q.arg(v)
	default:
		q.w("1 = 0")
	}
}

// num writes expr op v for an integer expression (times).
func (q *sqlb) num(expr string, op orgmodel.Op, v int64) {
	ops := map[orgmodel.Op]string{orgmodel.OpEq: " = ", orgmodel.OpNe: " <> ", orgmodel.OpGt: " > ",
		orgmodel.OpGe: " >= ", orgmodel.OpLt: " < ", orgmodel.OpLe: " <= "}
	s, ok := ops[op]
	if !ok {
		q.w("1 = 0")
		return
	}
	q.w(expr, s)
	q.arg(v)
}

// relation is what a condition tree is about.
type relation int

const (
	relUsers relation = iota
	relGroups
)

// cond writes a condition on the current row (u for users, g for groups).
func (q *sqlb) cond(rel relation, c orgmodel.Cond) error {
	switch c := c.(type) {
	case nil:
		q.w("1 = 1")
	case orgmodel.Const:
		if c {
			q.w("1 = 1")
		} else {
			q.w("1 = 0")
		}
	case orgmodel.And:
		return q.join(rel, []orgmodel.Cond(c), " AND ", "1 = 1")
	case orgmodel.Or:
		return q.join(rel, []orgmodel.Cond(c), " OR ", "1 = 0")
	case orgmodel.Not:
		q.w("NOT (")
		if err := q.cond(rel, c.C); err != nil {
			return err
		}
		q.w(")")
	case orgmodel.ColCond:
		if rel == relUsers {
			return q.userCol(c)
		}
		return q.groupCol(c)
	case orgmodel.TermCond:
		if rel != relUsers {
			return fmt.Errorf("store: groups have no terms")
		}
		neg := c.Op == orgmodel.OpNe
		if neg {
			c.Op = orgmodel.OpEq
			q.w("u.sid NOT IN (")
		} else {
			q.w("u.sid IN (")
		}
		q.w("SELECT t.user_sid FROM user_terms t WHERE t.org_sid = ")
		q.arg(string(q.org))
		q.w(" AND t.path = ")
		q.arg(c.Path)
		q.w(" AND ")
		q.termCmp("t", c)
		q.w(")")
	case orgmodel.ElemCond:
		switch c.Attr {
		case orgmodel.RelGroups:
			q.w("u.sid IN (SELECT m.user_sid FROM group_members m JOIN scim_groups mg ON mg.sid = m.group_sid WHERE mg.org_sid = ")
			q.arg(string(q.org))
			q.w(" AND (")
			if err := q.relElem(c.C, "m.group_sid", "mg.display_key", false); err != nil {
				return err
			}
			q.w("))")
		case orgmodel.RelMembers:
			q.w("EXISTS (SELECT 1 FROM group_members m JOIN users mu ON mu.sid = m.user_sid WHERE m.group_sid = g.sid AND (")
			if err := q.relElem(c.C, "m.user_sid", q.collate("mu.email_key"), true); err != nil {
				return err
			}
			q.w("))")
		default:
			q.w("u.sid IN (")
			if err := q.termElem(c); err != nil {
				return err
			}
			q.w(")")
		}
	default:
		return fmt.Errorf("store: unknown condition %T", c)
	}
	return nil
}

func (q *sqlb) join(rel relation, cs []orgmodel.Cond, sep, empty string) error {
	if len(cs) == 0 {
		q.w(empty)
		return nil
	}
	q.w("(")
	for i, c := range cs {
		if i > 0 {
			q.w(sep)
		}
		if err := q.cond(rel, c); err != nil {
			return err
		}
	}
	q.w(")")
	return nil
}

func (q *sqlb) userCol(c orgmodel.ColCond) error {
	if c.Op == orgmodel.OpPr {
		if c.Col == orgmodel.UserColExternalID {
			q.w("u.external_id <> ''")
		} else {
			q.w("1 = 1")
		}
		return nil
	}
	switch c.Col {
	case orgmodel.UserColSID:
		q.text(q.collate("u.sid"), c.Op, str(c.Value))
	case orgmodel.UserColEmail:
		// Equality uses the unique index users_email_key (any deterministic
		// collation compares bytes); order compares by code point.
		expr := "u.email_key"
		if c.Op != orgmodel.OpEq && c.Op != orgmodel.OpNe {
			expr = q.collate(expr)
		}
		q.text(expr, c.Op, orgmodel.EmailKey(str(c.Value)))
	case orgmodel.UserColExternalID:
		q.text(q.collate("u.external_id"), c.Op, str(c.Value))
	case orgmodel.UserColActive:
		b, _ := c.Value.(bool)
		if c.Op == orgmodel.OpNe {
			b = !b
		}
		if b {
			q.w("u.status = 'active'")
		} else {
			q.w("u.status <> 'active'")
		}
	case orgmodel.UserColCreated:
		q.num("u.created_at", c.Op, msOf(c.Value))
	case orgmodel.UserColUpdated:
		q.num("u.updated_at", c.Op, msOf(c.Value))
	default:
		return fmt.Errorf("store: users have no column %q", c.Col)
	}
	return nil
}

func (q *sqlb) groupCol(c orgmodel.ColCond) error {
	if c.Op == orgmodel.OpPr {
		if c.Col == orgmodel.GroupColExternalID {
			q.w("g.external_id <> ''")
		} else {
			q.w("1 = 1")
		}
		return nil
	}
	switch c.Col {
	case orgmodel.GroupColSID:
		q.text(q.collate("g.sid"), c.Op, str(c.Value))
	case orgmodel.GroupColName:
		q.text("g.display_key", c.Op, orgmodel.FoldKey(str(c.Value)))
	case orgmodel.GroupColExternalID:
		q.text("g.external_id", c.Op, str(c.Value))
	case orgmodel.GroupColCreated:
		q.num("g.created_at", c.Op, msOf(c.Value))
	case orgmodel.GroupColUpdated:
		q.num("g.updated_at", c.Op, msOf(c.Value))
	default:
		return fmt.Errorf("store: groups have no column %q", c.Col)
	}
	return nil
}

// relElem writes a condition on one membership row: value is the other
// side's SID, display its (folded) name.
func (q *sqlb) relElem(c orgmodel.Cond, value, display string, emailKey bool) error {
	switch c := c.(type) {
	case nil:
		q.w("1 = 1")
	case orgmodel.Const:
		if c {
			q.w("1 = 1")
		} else {
			q.w("1 = 0")
		}
	case orgmodel.And, orgmodel.Or:
		cs, sep, empty := []orgmodel.Cond(nil), " AND ", "1 = 1"
		if a, ok := c.(orgmodel.And); ok {
			cs = a
		} else {
			cs, sep, empty = c.(orgmodel.Or), " OR ", "1 = 0"
		}
		if len(cs) == 0 {
			q.w(empty)
			return nil
		}
		q.w("(")
		for i, x := range cs {
			if i > 0 {
				q.w(sep)
			}
			if err := q.relElem(x, value, display, emailKey); err != nil {
				return err
			}
		}
		q.w(")")
	case orgmodel.Not:
		q.w("NOT (")
		if err := q.relElem(c.C, value, display, emailKey); err != nil {
			return err
		}
		q.w(")")
	case orgmodel.ColCond:
		if c.Op == orgmodel.OpPr {
			q.w("1 = 1")
			return nil
		}
		switch c.Col {
		case orgmodel.ElemColValue:
			q.text(q.collate(value), c.Op, str(c.Value))
		case orgmodel.ElemColDisplay:
			v := orgmodel.FoldKey(str(c.Value))
			if emailKey {
				v = orgmodel.EmailKey(str(c.Value))
			}
			q.text(display, c.Op, v)
		default:
			return fmt.Errorf("store: a membership has no column %q", c.Col)
		}
	default:
		return fmt.Errorf("store: %T inside a membership condition", c)
	}
	return nil
}

// termCmp compares one term row (alias a) with c's value.
func (q *sqlb) termCmp(a string, c orgmodel.TermCond) {
	if c.Op == orgmodel.OpPr {
		q.w(a, ".value <> ''")
		return
	}
	if !c.Exact {
		q.text(a+".key", c.Op, orgmodel.TermKey(c.Value))
		return
	}
	switch c.Op {
	case orgmodel.OpEq:
		// The folded key narrows on the index; the value decides.
		q.w(a, ".key = ")
		q.arg(orgmodel.TermKey(c.Value))
		q.w(" AND ")
		q.text(a+".value", c.Op, c.Value)
	case orgmodel.OpSw:
		q.text(a+".key", c.Op, orgmodel.TermKey(c.Value))
		q.w(" AND ")
		q.text(a+".value", c.Op, c.Value)
	default:
		q.text(a+".value", c.Op, c.Value)
	}
}

// selective reports whether a term comparison can drive from the key index.
func selective(op orgmodel.Op) bool {
	switch op {
	case orgmodel.OpEq, orgmodel.OpSw, orgmodel.OpGt, orgmodel.OpGe, orgmodel.OpLt, orgmodel.OpLe:
		return true
	}
	return false
}

// driverOf picks, among the top-level conjuncts of c, the term comparison
// that best drives an element search: equality first, and a value before
// a type or a primary flag (which most elements share).
func driverOf(c orgmodel.Cond) (orgmodel.TermCond, int, bool) {
	var cs []orgmodel.Cond
	switch x := c.(type) {
	case orgmodel.And:
		cs = x
	case orgmodel.TermCond:
		cs = []orgmodel.Cond{x}
	}
	best, at, score := orgmodel.TermCond{}, -1, 0
	for i, x := range cs {
		t, ok := x.(orgmodel.TermCond)
		if !ok || !selective(t.Op) {
			continue
		}
		s := 1
		if t.Op == orgmodel.OpEq {
			s += 2
		}
		if !strings.HasSuffix(t.Path, ".type") && !strings.HasSuffix(t.Path, ".primary") {
			s += 4
		}
		if s > score {
			best, at, score = t, i, s
		}
	}
	return best, at, at >= 0
}

// termElem writes the sub-select of the users one of whose c.Attr
// elements satisfies c.C.
func (q *sqlb) termElem(c orgmodel.ElemCond) error {
	q.w("SELECT e.user_sid FROM user_terms e WHERE e.org_sid = ")
	q.arg(string(q.org))
	rest := c.C
	if d, at, ok := driverOf(c.C); ok {
		q.w(" AND e.path = ")
		q.arg(d.Path)
		q.w(" AND ")
		q.termCmp("e", d)
		if and, isAnd := c.C.(orgmodel.And); isAnd {
			r := make(orgmodel.And, 0, len(and)-1)
			r = append(r, and[:at]...)
			rest = append(r, and[at+1:]...)
		} else {
			rest = nil
		}
	} else {
		// Every element, by the terms of its sub-attributes ("emails.…").
		q.w(" AND e.path > ")
		q.arg(c.Attr + ".")
		q.w(" AND e.path < ")
		q.arg(c.Attr + "/")
	}
	if rest != nil {
		q.w(" AND ")
		return q.inElem(rest)
	}
	return nil
}

// inElem writes a condition on the element (e.user_sid, e.elem).
func (q *sqlb) inElem(c orgmodel.Cond) error {
	switch c := c.(type) {
	case nil:
		q.w("1 = 1")
	case orgmodel.Const:
		if c {
			q.w("1 = 1")
		} else {
			q.w("1 = 0")
		}
	case orgmodel.And, orgmodel.Or:
		cs, sep, empty := []orgmodel.Cond(nil), " AND ", "1 = 1"
		if a, ok := c.(orgmodel.And); ok {
			cs = a
		} else {
			cs, sep, empty = c.(orgmodel.Or), " OR ", "1 = 0"
		}
		if len(cs) == 0 {
			q.w(empty)
			return nil
		}
		q.w("(")
		for i, x := range cs {
			if i > 0 {
				q.w(sep)
			}
			if err := q.inElem(x); err != nil {
				return err
			}
		}
		q.w(")")
	case orgmodel.Not:
		q.w("NOT (")
		if err := q.inElem(c.C); err != nil {
			return err
		}
		q.w(")")
	case orgmodel.TermCond:
		neg := c.Op == orgmodel.OpNe
		if neg {
			c.Op = orgmodel.OpEq
			q.w("NOT ")
		}
		q.w("EXISTS (SELECT 1 FROM user_terms x WHERE x.user_sid = e.user_sid AND x.org_sid = e.org_sid AND x.path = ")
		q.arg(c.Path)
		q.w(" AND x.elem = e.elem AND ")
		q.termCmp("x", c)
		q.w(")")
	default:
		return fmt.Errorf("store: %T inside an element condition", c)
	}
	return nil
}

// userDriver finds a top-level conjunct of c that selects few users
// through the term index, to drive the statement from on SQLite.
func userDriver(c orgmodel.Cond) (orgmodel.Cond, orgmodel.Cond, bool) {
	cs := []orgmodel.Cond{c}
	if a, ok := c.(orgmodel.And); ok {
		cs = a
	}
	for _, x := range cs {
		if _, ok := x.(orgmodel.ColCond); ok {
			col := x.(orgmodel.ColCond)
			if (col.Col == orgmodel.UserColEmail || col.Col == orgmodel.UserColSID || col.Col == orgmodel.UserColExternalID) && selective(col.Op) {
				return nil, c, false // the users table's own indexes serve it
			}
		}
	}
	for i, x := range cs {
		ok := false
		switch t := x.(type) {
		case orgmodel.TermCond:
			ok = selective(t.Op)
		case orgmodel.ElemCond:
			_, _, ok = driverOf(t.C)
			ok = ok && t.Attr != orgmodel.RelGroups && t.Attr != orgmodel.RelMembers
		}
		if ok {
			rest := make(orgmodel.And, 0, len(cs)-1)
			rest = append(rest, cs[:i]...)
			rest = append(rest, cs[i+1:]...)
			return x, rest, true
		}
	}
	return nil, c, false
}

// driverSelect writes the sub-select of the user SIDs a driving condition selects.
func (q *sqlb) driverSelect(d orgmodel.Cond) error {
	switch t := d.(type) {
	case orgmodel.TermCond:
		q.w("SELECT DISTINCT t.user_sid FROM user_terms t WHERE t.org_sid = ")
		q.arg(string(q.org))
		q.w(" AND t.path = ")
		q.arg(t.Path)
		q.w(" AND ")
		q.termCmp("t", t)
		return nil
	case orgmodel.ElemCond:
		q.w("SELECT DISTINCT e.user_sid FROM (")
		if err := q.termElem(t); err != nil {
			return err
		}
		q.w(") e")
		return nil
	}
	return fmt.Errorf("store: %T cannot drive", d)
}

// usersFrom writes FROM … WHERE … for org's users satisfying c.
func (q *sqlb) usersFrom(c orgmodel.Cond) error {
	if q.d.name == "sqlite" {
		if d, rest, ok := userDriver(c); ok {
			q.w(" FROM (")
			if err := q.driverSelect(d); err != nil {
				return err
			}
			q.w(") d CROSS JOIN users u ON u.sid = d.user_sid WHERE u.org_sid = ")
			q.arg(string(q.org))
			q.w(" AND ")
			return q.cond(relUsers, rest)
		}
	}
	q.w(" FROM users u WHERE u.org_sid = ")
	q.arg(string(q.org))
	q.w(" AND ")
	return q.cond(relUsers, c)
}

// order writes ORDER BY for s; missing values last ascending, first
// descending (RFC 7644 §3.4.2.3), ties by SID.
func (q *sqlb) order(rel relation, s orgmodel.Sort) error {
	dir := " ASC"
	if s.Desc {
		dir = " DESC"
	}
	alias := "u"
	if rel == relGroups {
		alias = "g"
	}
	var expr string
	nullable := false
	switch {
	case s.Path != "":
		q.w(" ORDER BY (CASE WHEN (SELECT MIN(o.key) FROM user_terms o WHERE o.user_sid = u.sid AND o.org_sid = u.org_sid AND o.path = ")
		q.arg(s.Path)
		q.w(" AND o.value <> '') IS NULL THEN 1 ELSE 0 END)", dir, ", (SELECT MIN(o.key) FROM user_terms o WHERE o.user_sid = u.sid AND o.org_sid = u.org_sid AND o.path = ")
		q.arg(s.Path)
		q.w(" AND o.value <> '')", dir, ", ", q.collate(alias+".sid"), dir)
		return nil
	case s.Col == "" || s.Col == orgmodel.UserColSID:
		// SIDs are two capitals and lower-case hex digits, in the same order
		// under every collation: no COLLATE, so that the (org_sid, sid)
		// index gives the order (and a keyset seek) on PostgreSQL too.
		q.w(" ORDER BY ", alias+".sid", dir)
		return nil
	case rel == relUsers:
		switch s.Col {
		case orgmodel.UserColEmail:
			expr = q.collate("u.email_key")
		case orgmodel.UserColExternalID:
			expr, nullable = q.collate("NULLIF(u.external_id, '')"), true
		case orgmodel.UserColActive:
			expr = "(CASE WHEN u.status = 'active' THEN 1 ELSE 0 END)"
		case orgmodel.UserColCreated:
			expr = "u.created_at"
		case orgmodel.UserColUpdated:
			expr = "u.updated_at"
		default:
			return fmt.Errorf("store: cannot sort users by %q", s.Col)
		}
	default:
		switch s.Col {
		case orgmodel.GroupColName:
			expr = "g.display_key"
		case orgmodel.GroupColExternalID:
			expr, nullable = "NULLIF(g.external_id, '')", true
		case orgmodel.GroupColCreated:
			expr = "g.created_at"
		case orgmodel.GroupColUpdated:
			expr = "g.updated_at"
		default:
			return fmt.Errorf("store: cannot sort groups by %q", s.Col)
		}
	}
	q.w(" ORDER BY ")
	if nullable {
		q.w("(CASE WHEN ", expr, " IS NULL THEN 1 ELSE 0 END)", dir, ", ")
	}
	q.w(expr, dir, ", ", q.collate(alias+".sid"), dir)
	return nil
}

func (q *sqlb) page(offset, limit int) {
	q.w(" LIMIT ")
	q.arg(int64(limit))
	if offset > 0 {
		q.w(" OFFSET ")
		q.arg(int64(offset))
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func msOf(v any) int64 {
	if t, ok := v.(time.Time); ok {
		return t.UnixMilli()
	}
	return 0
}

// rebindOnce rebinds a dynamic statement for PostgreSQL without caching
// it: the statements a filter makes are unbounded in number.
func (d *dialect) rebindOnce(q string) string {
	if d.name != "postgres" {
		return q
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
	return b.String()
}

func (t *tx) dynQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	rows, err := t.q.QueryContext(ctx, t.d.rebindOnce(q), args...)
	return rows, t.d.translate(err)
}

func (t *tx) dynExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	r, err := t.q.ExecContext(ctx, t.d.rebindOnce(q), args...)
	return r, t.d.translate(err)
}

func (t *tx) dynCount(ctx context.Context, q string, args ...any) (int, error) {
	ctx = t.ctx(ctx)
	var n int
	err := t.q.QueryRowContext(ctx, t.d.rebindOnce(q), args...).Scan(&n)
	return n, t.d.translate(err)
}

func dynAll[T any](ctx context.Context, t *tx, scan func(scanner) (*T, error), q string, args ...any) ([]*T, error) {
	rows, err := t.dynQuery(ctx, q, args...)
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

// userColsU is userCols qualified by the alias u.
var userColsU = qualify("u", userCols)

func qualify(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func (t *tx) SearchUsers(ctx context.Context, org orgmodel.OrgSID, q orgmodel.Query) ([]*orgmodel.User, error) {
	stmt, args, put, err := t.usersPage(org, q)
	if err != nil {
		return nil, err
	}
	out, err := dynAll(ctx, t, t.scanUser, stmt, args...)
	if err == nil && len(out) > 0 && put != nil {
		put(string(out[len(out)-1].SID), len(out))
	}
	return out, err
}

// usersPage writes the statement of one page of users. In SID order (the
// default) a page whose position some earlier page ended at seeks past
// that page's last SID instead of walking an OFFSET (cursor.go); put
// remembers where a page read with it ended.
func (t *tx) usersPage(org orgmodel.OrgSID, q orgmodel.Query) (string, []any, func(last string, n int), error) {
	b := &sqlb{d: t.d, org: org}
	b.w("SELECT ", userColsU)
	if err := b.usersFrom(q.Cond); err != nil {
		return "", nil, nil, err
	}
	offset := q.Offset
	var put func(string, int)
	if t.cursors != nil && q.Sort.Path == "" && (q.Sort.Col == "" || q.Sort.Col == orgmodel.UserColSID) {
		stmt := fmt.Sprintf("%s %q", b.b.String(), b.args)
		if offset > 0 {
			if after, ok := t.cursors.get(cursorKey{stmt: stmt, pos: offset, desc: q.Sort.Desc}); ok {
				if q.Sort.Desc {
					b.w(" AND u.sid < ")
				} else {
					b.w(" AND u.sid > ")
				}
				b.arg(after)
				offset = 0
			}
		}
		put = func(last string, n int) {
			t.cursors.put(cursorKey{stmt: stmt, pos: q.Offset + n, desc: q.Sort.Desc}, last)
		}
	}
	if err := b.order(relUsers, q.Sort); err != nil {
		return "", nil, nil, err
	}
	b.page(offset, q.Limit)
	return b.b.String(), b.args, put, nil
}

func (t *tx) CountUsersWhere(ctx context.Context, org orgmodel.OrgSID, c orgmodel.Cond) (int, error) {
	if all, ok := c.(orgmodel.Const); c == nil || (ok && bool(all)) {
		// Every user: the count user_counts keeps (with this batch's creates).
		if err := t.counts.flush(ctx, t); err != nil {
			return 0, err
		}
		return t.count(ctx, `SELECT COALESCE(SUM(n), 0) FROM user_counts WHERE org_sid = ?`, org)
	}
	b := &sqlb{d: t.d, org: org}
	b.w("SELECT COUNT(*)")
	if err := b.usersFrom(c); err != nil {
		return 0, err
	}
	return t.dynCount(ctx, b.b.String(), b.args...)
}
