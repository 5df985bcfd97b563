package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// Group commit on SQLite. SQLite has one writer; each transaction's commit
// writes every page it changed to the write-ahead log (walvfs.go gathers
// them into a few system calls), and the pages that every write shares —
// the tops of the indexes, their right edges, the audit log's tail — once
// per transaction. So
// instead of running the callers of InTx one transaction after another, a
// single goroutine takes every caller that is waiting when it is free and
// runs them one after another in one transaction, which commits them all.
// When a caller's function fails (or panics), the transaction is rolled
// back and the rest of the batch runs again in a new one, without it, each
// caller in a savepoint of its own this time (a failure then rolls back to
// its savepoint alone). A savepoint around every caller from the start
// would give the same outcome but costs every write its statements and a
// copy of each page it touches (7% of POST /Users at 1M users); this way
// only a batch with a failure pays, with one more round. Functions given
// to InTx may run more than once already (PostgreSQL retries them on
// serialization failures). One caller alone runs exactly as before. Each
// caller still sees the writes of those before it in the batch, as it
// would have seen them committed, so the outcome is the same as running
// them in that order. What every caller of a batch would otherwise read
// or write again is done once for the batch (batchState).
//
// Statements of a batch ignore their caller's cancellation (tx.detached):
// SQLite rolls back the whole transaction when a write statement is
// interrupted. A caller that gives up waits for its function to finish.

const maxBatch = 64

type writeJob struct {
	ctx  context.Context
	fn   func(orgmodel.Tx) error
	done chan jobResult
}

type jobResult struct {
	err      error
	panicked bool
	panicVal any
}

var errClosed = errors.New("store: the database is closed")

// startBatcher starts the goroutine that runs s's writes.
func (s *DB) startBatcher() {
	s.jobs = make(chan *writeJob)
	s.quit = make(chan struct{})
	s.batcherDone = make(chan struct{})
	go func() {
		defer close(s.batcherDone)
		for {
			var first *writeJob
			select {
			case first = <-s.jobs:
			case <-s.quit:
				return
			}
			batch := []*writeJob{first}
		more:
			for len(batch) < maxBatch {
				select {
				case j := <-s.jobs:
					batch = append(batch, j)
				default:
					break more
				}
			}
			if int64(len(batch)) > s.largestBatch.Load() {
				s.largestBatch.Store(int64(len(batch)))
			}
			t0 := time.Now()
			s.runBatch(batch)
			s.stats.batches.Add(1)
			s.stats.writes.Add(int64(len(batch)))
			s.stats.busy.Add(int64(time.Since(t0)))
			if s.walLong.Swap(false) {
				s.restartWAL()
			}
		}
	}()
}

func (s *DB) stopBatcher() {
	if s.quit != nil {
		s.quitOnce.Do(func() { close(s.quit) })
		<-s.batcherDone
	}
}

// batched runs fn in the next batch and returns its outcome.
func (s *DB) batched(ctx context.Context, fn func(orgmodel.Tx) error) error {
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan jobResult, 1)}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return errClosed
	}
	r := <-j.done
	if r.panicked {
		panic(r.panicVal)
	}
	return r.err
}

// call runs fn, turning a panic into a result.
func call(fn func(orgmodel.Tx) error, t *tx) (r jobResult) {
	defer func() {
		if p := recover(); p != nil {
			r = jobResult{panicked: true, panicVal: p}
		}
	}()
	return jobResult{err: fn(t)}
}

func (s *DB) runBatch(batch []*writeJob) {
	res := make([]jobResult, len(batch))
	final := make([]bool, len(batch)) // res[i] is decided: failed, panicked or gave up
	defer func() {
		for i, j := range batch {
			j.done <- res[i]
		}
	}()
	// failRest gives err to every caller whose result is not decided yet.
	failRest := func(err error) {
		for i := range res {
			if !final[i] {
				res[i] = jobResult{err: err}
			}
		}
	}
	ctx := context.Background()
	// Savepoints only once a caller of this batch has failed: the second
	// round runs the rest each in a savepoint of its own, so that a
	// batch full of failures costs two rounds, not one per failure.
	for safe := false; ; safe = true {
		sqlTx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			failRest(s.d.translate(err))
			return
		}
		ran, failed := 0, false
		var broken error
		var shared batchState
		if !safe {
			shared = newBatchState()
		}
		for i, j := range batch {
			if final[i] {
				continue
			}
			if err := j.ctx.Err(); err != nil {
				res[i], final[i] = jobResult{err: err}, true
				continue
			}
			t := &tx{q: sqlTx, d: s.d, stmts: s.ws, keys: s.keys, cursors: s.cursors, detached: true, batchState: shared}
			if safe {
				if _, broken = t.exec(ctx, `SAVEPOINT batch`); broken != nil {
					break
				}
			}
			res[i] = call(j.fn, t)
			ok := res[i].err == nil && !res[i].panicked
			if safe {
				if !ok {
					final[i] = true
					if _, broken = t.exec(ctx, `ROLLBACK TO batch`); broken != nil {
						break
					}
				}
				if _, broken = t.exec(ctx, `RELEASE batch`); broken != nil {
					break
				}
			} else if !ok {
				// Its writes must go, and with them the transaction's: the
				// callers before it run again, without it.
				final[i], failed = true, true
				break
			}
			if ok {
				ran++
			}
		}
		if broken == nil && !failed && ran > 0 {
			broken = shared.flush(ctx, &tx{q: sqlTx, d: s.d, stmts: s.ws, detached: true})
		}
		switch {
		case broken != nil:
			// The transaction cannot be trusted: nobody's writes commit.
			_ = sqlTx.Rollback()
			failRest(fmt.Errorf("store: a batch of writes failed: %w", s.d.translate(broken)))
			return
		case failed:
			_ = sqlTx.Rollback()
			continue
		case ran == 0:
			_ = sqlTx.Rollback()
			return
		}
		t0 := time.Now()
		err = sqlTx.Commit()
		s.stats.commit.Add(int64(time.Since(t0)))
		if err != nil {
			failRest(s.d.translate(err))
		}
		return
	}
}

// batchState is what the callers of one batch share: the audit chain
// heads they move (headCache, audit.go) and the users they insert, by
// organization (userCounts, orgs.go), both written once before the commit
// (flush), and the organizations and domains they read (rowCache). Only a
// batch that runs without savepoints has one: a failure there rolls the
// whole transaction back, and the state with it, while a savepoint rolled
// back alone would leave it holding writes that never happened. Nothing
// else writes while the batch holds SQLite's one write lock. The zero
// batchState keeps nothing: each write goes through.
type batchState struct {
	heads  headCache
	counts userCounts
	rows   *rowCache
}

func newBatchState() batchState {
	return batchState{heads: headCache{}, counts: userCounts{}, rows: newRowCache()}
}

// flush writes the heads and counts the batch kept, through t.
func (b batchState) flush(ctx context.Context, t *tx) error {
	if err := b.heads.flush(ctx, t); err != nil {
		return err
	}
	return b.counts.flush(ctx, t)
}

// writerStats counts the single writer's work (WriterStats).
type writerStats struct {
	batches, writes, busy, commit atomic.Int64
}

// WriterStats is the work of SQLite's single writer since Open; all zero
// on PostgreSQL. Writes/Batches is the mean batch size; the rate of Busy
// is the share of time the writer had work: near 1, writes queue.
type WriterStats struct {
	Batches int64         // transactions the writer ran
	Writes  int64         // calls of InTx they carried
	Busy    time.Duration // time spent running them, commits included
	Commit  time.Duration // time spent committing them
}

// WriterStats reports the single writer's work since Open.
func (s *DB) WriterStats() WriterStats {
	return WriterStats{Batches: s.stats.batches.Load(), Writes: s.stats.writes.Load(),
		Busy: time.Duration(s.stats.busy.Load()), Commit: time.Duration(s.stats.commit.Load())}
}
