package store

import (
	"context"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

// termRowsPerInsert bounds one multi-row INSERT of terms (6 values a row,
// well under both databases' limits on bound parameters).
const termRowsPerInsert = 200

// preparedTermRows: inserts of up to this many terms (one user's, nearly
// always) are prepared statements, one text for each count.
const preparedTermRows = 32

// writeUserTerms makes u's stored terms equal orgmodel.UserTerms(u),
// touching only the rows that differ.
func (t *tx) writeUserTerms(ctx context.Context, u *orgmodel.User) error {
	want := orgmodel.UserTerms(u)
	type pe struct {
		p string
		e int
	}
	rows, err := t.query(ctx, `SELECT path, elem, value FROM user_terms WHERE user_sid = ? AND org_sid = ?`, u.SID, u.OrgSID)
	if err != nil {
		return err
	}
	have := map[pe]string{}
	for rows.Next() {
		var k pe
		var v string
		if err := rows.Scan(&k.p, &k.e, &v); err != nil {
			rows.Close()
			return t.d.translate(err)
		}
		have[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.d.translate(err)
	}
	var add []orgmodel.Term
	for _, tm := range want {
		k := pe{tm.Path, tm.Elem}
		if v, ok := have[k]; ok && v == tm.Value {
			delete(have, k)
			continue
		}
		add = append(add, tm)
	}
	for _, tm := range add {
		if _, ok := have[pe{tm.Path, tm.Elem}]; ok {
			if _, err := t.exec(ctx, `UPDATE user_terms SET value = ?, key = ? WHERE user_sid = ? AND org_sid = ? AND path = ? AND elem = ?`,
				tm.Value, tm.Key, u.SID, u.OrgSID, tm.Path, tm.Elem); err != nil {
				return err
			}
			delete(have, pe{tm.Path, tm.Elem})
		} else if err := t.insertTerms(ctx, u.SID, u.OrgSID, []orgmodel.Term{tm}); err != nil {
			return err
		}
	}
	for k := range have {
		if _, err := t.exec(ctx, `DELETE FROM user_terms WHERE user_sid = ? AND org_sid = ? AND path = ? AND elem = ?`, u.SID, u.OrgSID, k.p, k.e); err != nil {
			return err
		}
	}
	return nil
}

// insertTerms adds terms of user. A failure leaves some of them written:
// the caller's transaction (or savepoint) is rolled back with its error.
func (t *tx) insertTerms(ctx context.Context, user orgmodel.UserSID, org orgmodel.OrgSID, terms []orgmodel.Term) error {
	for len(terms) > 0 {
		n := min(len(terms), termRowsPerInsert)
		var b strings.Builder
		b.WriteString(t.d.insertRows + `user_terms (user_sid, org_sid, path, elem, value, key) VALUES `)
		args := make([]any, 0, 6*n)
		for i, tm := range terms[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, user, org, tm.Path, tm.Elem, tm.Value, tm.Key)
		}
		run := t.dynExec
		if n <= preparedTermRows {
			run = t.exec // a user's terms: a few texts, each parsed once
		}
		if _, err := run(ctx, b.String(), args...); err != nil {
			return err
		}
		terms = terms[n:]
	}
	return nil
}
