package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. By default the connection whose commit takes the log past
// 1,000 pages does it, inside that commit: a write then pays for the
// copying of the last thousand pages and for the file's fsync, while every
// other writer waits behind it (measured at 1M users: a fifth of the CPU of
// POST /Users, on the single writer). Here the writer never checkpoints;
// a connection of its own does, every checkpointEvery, without blocking
// writers or readers (PASSIVE). A page written many times between two
// checkpoints is copied once. SQLite restarts the log from its beginning
// only when a write begins after a checkpoint has caught up with it, which
// a steady stream of writes never lets happen: so once the log holds more
// than walRestartFrames pages (256 MiB), the checkpointer asks the writer (between two
// batches, batch.go) for a RESTART checkpoint, which copies the little the
// PASSIVE one left, waits for reads of older snapshots (milliseconds) and
// makes the next write start the log over (truncated to walSizeLimit). A
// RESTART from the checkpointer's own connection would wait on the busy
// writer instead, holding new writes back meanwhile: seconds of stalls.
const (
	checkpointEvery = time.Second
	// writerCacheKiB is the writer's page cache (negative: KiB), 32 MiB.
	writerCacheKiB = -32768
	// walSizeLimit is the length the log is cut back to when it restarts:
	// more than it reaches (walRestartFrames and a second's writes), so
	// that it is never cut and the next round of writes overwrites blocks
	// the file already has instead of allocating them again (measured: a
	// page appended costs 7 µs, one overwritten 5 µs; the cut itself took
	// 0.1 s of the writer's time).
	walSizeLimit = 1 << 30
)

// walRestartFrames is the log's length (in pages) past which it is
// restarted: 65,536 pages of 4 KiB, 256 MiB. A restart holds writes back
// for 10–25 ms at 1M users and 1,700 creates/s (the last pages' copy and
// fsync), every 2–3 s at that rate.
var walRestartFrames = 65536

// startCheckpointer checkpoints the database at dsn until the returned
// function is called (which runs a last checkpoint); long is called when
// the log should be restarted.
func startCheckpointer(path, dsn string, log *slog.Logger, long func()) (func(), error) {
	ck, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	// SQLite syncs the database file only after a checkpoint that copied
	// the whole log, which a steady stream of writes never lets a PASSIVE
	// one do: the pages it copies pile up unsynced until the restart,
	// whose fsync then flushed hundreds of megabytes while every write
	// waited (0.2 s at 2,000 creates/s). The checkpointer syncs the file
	// itself after each checkpoint, off the writer.
	dbf, err := os.Open(path)
	if err != nil {
		ck.Close()
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	ck.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fr := checkpoint(ctx, ck, log)
				syncDBFile(dbf, log)
				if fr > walRestartFrames && long != nil {
					// Copy what was written during that checkpoint too, so
					// that the restart, which holds writes back, has only
					// the last few milliseconds' pages left to copy.
					_ = checkpoint(ctx, ck, log)
					syncDBFile(dbf, log)
					long()
				}
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		_ = checkpoint(context.Background(), ck, log)
		ck.Close()
		dbf.Close()
	}, nil
}

// syncDBFile flushes the database file's copied pages to disk.
func syncDBFile(f *os.File, log *slog.Logger) {
	if err := f.Sync(); err != nil && log != nil {
		log.Warn("sqlite database file sync failed; the next checkpoint retries", "error", err.Error())
	}
}

// checkpoint runs a PASSIVE checkpoint and returns the log's length in pages.
func checkpoint(ctx context.Context, ck *sql.DB, log *slog.Logger) int {
	var busy, frames, done int
	err := ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	if err != nil && ctx.Err() == nil && log != nil {
		log.Warn("sqlite checkpoint failed; the next one retries", "error", err.Error())
	}
	return frames
}

// restartWAL runs a RESTART checkpoint on the writer's connection.
func (s *DB) restartWAL() {
	var busy, frames, done int
	t0 := time.Now()
	err := s.w.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &done)
	if s.log != nil {
		s.log.Info("sqlite WAL restart", "pages", frames, "copied", done, "busy", busy == 1, "took_ms", time.Since(t0).Milliseconds(), "error", errString(err))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
