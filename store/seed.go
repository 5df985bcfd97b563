package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

// Seeding limits: rows per multi-row INSERT and users per transaction.
const (
	seedUsersPerInsert = 500
	seedUsersPerTx     = 50000
)

// SeedUsers inserts users of existing organizations, with their terms,
// in large multi-row INSERTs and few transactions. It is for benchmarks
// and load tests only: it applies no rule (uniqueness constraints still
// hold) and writes no audit event. Everything real goes through
// orgmodel.Service.
func (s *DB) SeedUsers(ctx context.Context, users []*orgmodel.User) error {
	for len(users) > 0 {
		n := min(len(users), seedUsersPerTx)
		if err := s.seedTx(ctx, users[:n]); err != nil {
			return err
		}
		users = users[n:]
	}
	return nil
}

func (s *DB) seedTx(ctx context.Context, users []*orgmodel.User) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.d.translate(err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.d.name == "sqlite" {
		// A large page cache while the indexes grow; the default again after.
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
			return s.d.translate(err)
		}
		defer func() {
			_, _ = s.w.ExecContext(context.Background(), `PRAGMA cache_size = `+strconv.Itoa(writerCacheKiB))
		}()
	}
	userStmt := map[int]*sql.Stmt{}
	prepare := func(cache map[int]*sql.Stmt, head, row string, n int) (*sql.Stmt, error) {
		if st, ok := cache[n]; ok {
			return st, nil
		}
		q := head + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
		st, err := tx.PrepareContext(ctx, s.d.rebindOnce(q))
		if err != nil {
			return nil, s.d.translate(err)
		}
		cache[n] = st
		return st, nil
	}
	termStmt := map[int]*sql.Stmt{}
	analyze := true
	for len(users) > 0 {
		n := min(len(users), seedUsersPerInsert)
		chunk := users[:n]
		users = users[n:]
		st, err := prepare(userStmt, `INSERT INTO users (`+userCols+`, email_key) VALUES `,
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", n)
		if err != nil {
			return err
		}
		args := make([]any, 0, 19*n)
		var terms []any
		rows := 0
		for _, u := range chunk {
			args = append(args, u.SID, u.Email, u.OrgSID, u.Role, u.Status, u.GivenName, u.FamilyName, u.DisplayName,
				u.ExternalID, u.Locale, u.Timezone, u.Extra, u.Version, u.PasswordHash, s.keys.seal("users.totp_secret", u.TOTPSecret), u.MFAEnrolRequired,
				ms(u.CreatedAt), ms(u.UpdatedAt), orgmodel.EmailKey(u.Email))
			for _, tm := range orgmodel.UserTerms(u) {
				terms = append(terms, u.SID, u.OrgSID, tm.Path, tm.Elem, tm.Value, tm.Key)
				rows++
			}
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: seeding users: %w", s.d.translate(err))
		}
		if analyze && s.d.name == "postgres" {
			// PostgreSQL plans the foreign-key check of each term (a user
			// looked up by (sid, org_sid)) from the users table's statistics;
			// taken while it was empty, they make it read every user for
			// every term: a seeding that slows down quadratically (100,000
			// users took over 15 minutes). ANALYZE counts this transaction's
			// rows, and the check is planned again with the index.
			if _, err := tx.ExecContext(ctx, `ANALYZE users`); err != nil {
				return fmt.Errorf("store: seeding users: %w", s.d.translate(err))
			}
			analyze = false
		}
		if s.d.name == "sqlite" { // counted by the store there (migration 00071)
			added := map[orgmodel.OrgSID]int64{}
			for _, u := range chunk {
				added[u.OrgSID]++
			}
			for org, n := range added {
				if _, err := tx.ExecContext(ctx, addUserCount, org, n); err != nil {
					return fmt.Errorf("store: seeding users: %w", s.d.translate(err))
				}
			}
		}
		// Terms in statements of at most 4 rows per user of a chunk.
		for rows > 0 {
			k := min(rows, 4*seedUsersPerInsert)
			ts, err := prepare(termStmt, `INSERT INTO user_terms (user_sid, org_sid, path, elem, value, key) VALUES `, "(?, ?, ?, ?, ?, ?)", k)
			if err != nil {
				return err
			}
			if _, err := ts.ExecContext(ctx, terms[:6*k]...); err != nil {
				return fmt.Errorf("store: seeding terms: %w", s.d.translate(err))
			}
			terms, rows = terms[6*k:], rows-k
		}
	}
	if s.d.name == "sqlite" {
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = `+strconv.Itoa(writerCacheKiB)); err != nil {
			return s.d.translate(err)
		}
	}
	return s.d.translate(tx.Commit())
}

// BenchName returns the n-th of a spread of people's names, for the users
// benchmarks and load tests create: a few hundred given names and family
// names nearly all different, as in a real organization, so that each new
// user's names land on pages of their indexes of their own (a benchmark
// that created every user as "Test User" would append them all to one
// page and measure less than real provisioning costs).
func BenchName(n int) (given, family string) {
	h := uint64(n)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	given = benchGiven[h%uint64(len(benchGiven))] + string(rune('a'+h>>8%26))
	const letters = "abcdefghijklmnopqrstuvwxyz"
	f := []byte{"BCDFGHKLMNPRSTVW"[h>>16%16]}
	for k := range 6 {
		f = append(f, letters[h>>(20+5*k)%26])
	}
	return given, string(f)
}

var benchGiven = []string{"Ada", "Ben", "Chloe", "Dan", "Eva", "Finn", "Gail", "Hugo", "Ines", "Jon", "Kim", "Leo",
	"Maya", "Nils", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vic", "Wen", "Yara", "Zoe"}
