package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestGroupCommitIsolatesEachCaller: many writers at once share SQLite
// transactions (batch.go), yet each one's writes commit or vanish as if it
// had run alone: a failing or panicking caller leaves nothing behind and
// takes nobody else's writes with it, and a caller sees the writes of the
// callers committed before it.
func TestGroupCommitIsolatesEachCaller(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	ctx := t.Context()
	mail := func(to string) *orgmodel.Mail {
		return &orgmodel.Mail{Kind: "test", To: to, Subject: "s", Body: "b", CreatedAt: time.Now(), NextAttemptAt: time.Now()}
	}
	errBoom := errors.New("boom")
	const n = 200
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			<-start
			results[i] = db.InTx(ctx, func(tx orgmodel.Tx) error {
				if err := tx.EnqueueMail(ctx, mail(fmt.Sprintf("m%03d@x.example", i))); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errBoom // after a write: the write must vanish
				case 7:
					panic(fmt.Sprintf("panic %d", i))
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()

	var got []*orgmodel.Mail
	require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
		var err error
		got, err = tx.ListMail(ctx, orgmodel.MailFilter{Limit: 1000})
		return err
	}))
	kept := map[string]bool{}
	for _, m := range got {
		kept[m.To] = true
	}
	for i := range n {
		to := fmt.Sprintf("m%03d@x.example", i)
		switch i % 10 {
		case 3:
			require.ErrorIs(t, results[i], errBoom)
			require.False(t, kept[to], "a failed caller's write is rolled back: %s", to)
		case 7:
			require.Equal(t, fmt.Sprintf("panic %d", i), panics[i], "the panic reaches its own caller")
			require.False(t, kept[to], "a panicking caller's write is rolled back: %s", to)
		default:
			require.NoError(t, results[i])
			require.Nil(t, panics[i])
			require.True(t, kept[to], "a good caller's write commits: %s", to)
		}
	}
	require.Len(t, got, n-2*n/10)
	require.Greater(t, db.largestBatch.Load(), int64(1), "writers were batched")
}

// TestGroupCommitFailureFromAnEarlierCallersWrite: two callers of one batch
// write the same key; the first commits, the second fails as it would have
// one after the other, and the callers that ran before the failure (run
// again, in savepoints, without it) commit once each.
func TestGroupCommitFailureFromAnEarlierCallersWrite(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	const pairs = 40
	sids := make([]orgmodel.OrgSID, pairs)
	for i := range sids {
		sids[i] = orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	}
	var runs atomic.Int64
	results := make([]error, 2*pairs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 * pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = db.InTx(ctx, func(tx orgmodel.Tx) error {
				runs.Add(1)
				return tx.CreateOrg(ctx, &orgmodel.Org{SID: sids[i/2], FriendlyName: fmt.Sprintf("caller %d", i),
					AccountLimit: 10, CreatedAt: now, UpdatedAt: now})
			})
		}()
	}
	close(start)
	wg.Wait()
	for p := range pairs {
		a, b := results[2*p], results[2*p+1]
		require.True(t, (a == nil) != (b == nil), "one of the two writers of %s wins: %v, %v", sids[p], a, b)
		if a == nil {
			require.Equal(t, orgmodel.ErrConflict, errors.Unwrap(b), "the loser fails as alone: %v", b)
		}
		require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
			o, err := tx.GetOrg(ctx, sids[p])
			if err == nil && o.FriendlyName != fmt.Sprintf("caller %d", 2*p) && o.FriendlyName != fmt.Sprintf("caller %d", 2*p+1) {
				err = fmt.Errorf("%s holds %q", sids[p], o.FriendlyName)
			}
			return err
		}))
	}
	require.Greater(t, db.largestBatch.Load(), int64(1), "writers were batched")
	// A function runs again only in the round after its batch's first
	// failure, never once per failure.
	require.LessOrEqual(t, runs.Load(), int64(2*2*pairs), "functions run at most twice")
}

// TestGroupCommitIgnoresAnotherCallersCancellation: a caller whose context
// ends while its batch runs does not interrupt the batch (SQLite would roll
// the whole transaction back): the others' writes commit.
func TestGroupCommitIgnoresAnotherCallersCancellation(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	ctx := t.Context()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if i == 0 {
				c = cctx
			}
			errs[i] = db.InTx(c, func(tx orgmodel.Tx) error {
				if i == 0 {
					cancel()
				}
				return tx.EnqueueMail(c, &orgmodel.Mail{Kind: "test", To: fmt.Sprintf("c%d@x.example", i), CreatedAt: time.Now(), NextAttemptAt: time.Now()})
			})
		}()
	}
	wg.Wait()
	for i := 1; i < 20; i++ {
		require.NoError(t, errs[i])
	}
	var got []*orgmodel.Mail
	require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
		var err error
		got, err = tx.ListMail(ctx, orgmodel.MailFilter{Limit: 100})
		return err
	}))
	require.GreaterOrEqual(t, len(got), 19)
}

// TestWriterDoesNotCheckpoint: the writer leaves checkpoints to the
// checkpointer (checkpoint.go), and keeps its larger cache.
func TestWriterDoesNotCheckpoint(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	var n, cache int
	require.NoError(t, db.w.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&n))
	require.Equal(t, 0, n)
	require.NoError(t, db.w.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&cache))
	require.Equal(t, writerCacheKiB, cache)
}

// TestWALRestartsAfterACheckpoint: the writer leaves its pages in the log
// (it never checkpoints), and a checkpoint past walRestartFrames makes the
// next write start the log over. (Under a steady stream of writes a
// PASSIVE checkpoint never catches up, so only the RESTART does that; a
// sequential test cannot tell the two apart.)
func TestWALRestartsAfterACheckpoint(t *testing.T) {
	dsn := NewSQLiteDSN(t)
	db := open(t, dsn)
	ctx := t.Context()
	db.ckOnce.Do(db.stopCk) // only this test checkpoints
	ck, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer ck.Close()
	write := func(n int) {
		for i := range n {
			require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
				return tx.EnqueueMail(ctx, &orgmodel.Mail{Kind: "test", To: fmt.Sprintf("w%d@x.example", i), Body: strings.Repeat("x", 3000), CreatedAt: time.Now(), NextAttemptAt: time.Now()})
			}))
		}
	}
	frames := func() int {
		var busy, n, done int
		require.NoError(t, ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &n, &done))
		return n
	}
	write(200)
	grown := frames()
	require.Greater(t, grown, 100, "the writer does not checkpoint: its pages stay in the log")
	require.Equal(t, grown, checkpoint(ctx, ck, nil))
	db.walLong.Store(true) // as the checkpointer asks past walRestartFrames
	write(1)               // the writer restarts the log after this batch
	write(1)
	require.Less(t, frames(), 20, "after a restart the next write starts the log over")
}

// oneBatch runs fns as the callers of one batch of writes, in that order,
// and returns their errors.
func oneBatch(db *DB, fns ...func(orgmodel.Tx) error) []error {
	jobs := make([]*writeJob, len(fns))
	for i, fn := range fns {
		jobs[i] = &writeJob{ctx: context.Background(), fn: fn, done: make(chan jobResult, 1)}
	}
	db.runBatch(jobs)
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		errs[i] = (<-j.done).err
	}
	return errs
}

// TestBatchReadsSeeEarlierCallersWrites: the callers of one batch share
// what they read of organizations and domains (rowcache.go), yet each sees
// the writes of the callers before it, as if they had run one after
// another, and changing a row it was given changes nothing for the others.
func TestBatchReadsSeeEarlierCallersWrites(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	org := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	dom := &orgmodel.Domain{SID: orgmodel.DomainSID(orgmodel.NewSID(orgmodel.PrefixDomain)), OrgSID: org, Name: "acme.test",
		Token: "t", Status: orgmodel.DomainVerified, Signup: orgmodel.SignupRestricted, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
		if err := tx.CreateOrg(ctx, &orgmodel.Org{SID: org, FriendlyName: "Acme", AccountLimit: 10, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.CreateDomain(ctx, dom)
	}))
	type seen struct {
		name   string
		signup orgmodel.SignupSetting
		found  bool
	}
	var got []seen
	look := func(tx orgmodel.Tx) error {
		o, err := tx.LockOrg(ctx, org)
		if err != nil {
			return err
		}
		d, err := tx.GetDomain(ctx, org, "acme.test")
		s := seen{name: o.FriendlyName, found: err == nil}
		if err == nil {
			s.signup = d.Signup
			d.Signup, o.FriendlyName = orgmodel.SignupAutoEnrollment, "scribbled" // the caller's copies
		} else if !errors.Is(err, orgmodel.ErrNotFound) {
			return err
		}
		got = append(got, s)
		return nil
	}
	fns := []func(orgmodel.Tx) error{
		look,
		look,
		func(tx orgmodel.Tx) error {
			o, err := tx.GetOrg(ctx, org)
			if err != nil {
				return err
			}
			o.FriendlyName = "Acme Corp"
			if err := tx.UpdateOrg(ctx, o); err != nil {
				return err
			}
			d, err := tx.GetDomain(ctx, org, "acme.test")
			if err != nil {
				return err
			}
			d.Signup = orgmodel.SignupBlocked
			return tx.UpdateDomain(ctx, d)
		},
		look,
		func(tx orgmodel.Tx) error { return tx.DeleteDomain(ctx, dom.SID) },
		look,
	}
	for i, err := range oneBatch(db, fns...) {
		require.NoError(t, err, "caller %d", i)
	}
	require.Equal(t, []seen{
		{"Acme", orgmodel.SignupRestricted, true},
		{"Acme", orgmodel.SignupRestricted, true},
		{"Acme Corp", orgmodel.SignupBlocked, true},
		{"Acme Corp", "", false},
	}, got)
}

// TestBatchCountsTheUsersItCreates: SQLite's store counts the users it
// inserts (migration 00071), a batch once before its commit; a caller of
// the batch counting the organization's users sees those before it, a
// failed caller's user is not counted, and the kept count is the real one.
func TestBatchCountsTheUsersItCreates(t *testing.T) {
	db := open(t, NewSQLiteDSN(t))
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	org := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
		return tx.CreateOrg(ctx, &orgmodel.Org{SID: org, FriendlyName: "Acme", AccountLimit: 10, CreatedAt: now, UpdatedAt: now})
	}))
	user := func(i int) *orgmodel.User {
		return &orgmodel.User{SID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), Email: fmt.Sprintf("u%d@acme.test", i),
			OrgSID: org, Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
	}
	var seen []int
	count := func(tx orgmodel.Tx) error {
		n, err := tx.CountUsersWhere(ctx, org, nil)
		seen = append(seen, n)
		return err
	}
	errBoom := errors.New("boom")
	for round, fail := range []bool{false, true} {
		seen = nil
		fns := []func(orgmodel.Tx) error{
			func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, user(10*round+1)) },
			func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, user(10*round+2)) },
			count,
			func(tx orgmodel.Tx) error {
				if err := tx.CreateUser(ctx, user(10*round+3)); err != nil || !fail {
					return err
				}
				return errBoom // its user must not be counted
			},
			func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, user(10*round+4)) },
			count,
			func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, user(10*round+5)) }, // counted at the commit
		}
		for i, err := range oneBatch(db, fns...) {
			if fail && i == 3 {
				require.ErrorIs(t, err, errBoom)
			} else {
				require.NoError(t, err, "round %d, caller %d", round, i)
			}
		}
		base := 5 * round
		if fail {
			require.Equal(t, []int{base + 2, base + 3}, seen[len(seen)-2:], "the callers count those before them, not the failed one")
		} else {
			require.Equal(t, []int{base + 2, base + 4}, seen)
		}
	}
	counted := func(o orgmodel.OrgSID) (kept, real int) {
		require.NoError(t, db.r.QueryRowContext(ctx, `SELECT (SELECT COALESCE(SUM(n), 0) FROM user_counts WHERE org_sid = ?), (SELECT COUNT(*) FROM users WHERE org_sid = ?)`, o, o).Scan(&kept, &real))
		return kept, real
	}
	kept, real := counted(org)
	require.Equal(t, 9, real)
	require.Equal(t, real, kept)

	// A batch that creates an organization's first user and deletes it
	// again: the delete is counted before the create it follows.
	first := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	u := user(99)
	u.OrgSID = first
	for i, err := range oneBatch(db,
		func(tx orgmodel.Tx) error {
			return tx.CreateOrg(ctx, &orgmodel.Org{SID: first, FriendlyName: "First", AccountLimit: 10, CreatedAt: now, UpdatedAt: now})
		},
		func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, u) },
		func(tx orgmodel.Tx) error { return tx.DeleteUser(ctx, u.SID) },
	) {
		require.NoError(t, err, "caller %d", i)
	}
	kept, real = counted(first)
	require.Zero(t, real)
	require.Equal(t, real, kept)
}
