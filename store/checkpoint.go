package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
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
	walSizeLimit   = 64 << 20
)

// walRestartFrames is the log's length (in pages) past which it is
// restarted: 65,536 pages of 4 KiB, 256 MiB. A restart holds writes back
// for 0.2–0.3 s at 1M users (the database file's fsync, reads of older
// snapshots), so it should be rare: every 10 s or so at 250 creates/s.
var walRestartFrames = 65536

// startCheckpointer checkpoints the database at dsn until the returned
// function is called (which runs a last checkpoint); long is called when
// the log should be restarted.
func startCheckpointer(dsn string, log *slog.Logger, long func()) (func(), error) {
	ck, err := sql.Open("sqlite", dsn)
	if err != nil {
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
				if checkpoint(ctx, ck, log) > walRestartFrames && long != nil {
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
	}, nil
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
