package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The log buffer's tests read walStats, which the whole process shares:
// they are not parallel (Go runs parallel tests only after these).

type walCounts struct{ writes, fileWrites, afterRead, barrierFlushes, unlockFlushes int64 }

func walNow() walCounts {
	return walCounts{walStats.writes.Load(), walStats.fileWrites.Load(), walStats.afterRead.Load(),
		walStats.barrierFlushes.Load(), walStats.unlockFlushes.Load()}
}

func (c walCounts) since(o walCounts) walCounts {
	return walCounts{c.writes - o.writes, c.fileWrites - o.fileWrites, c.afterRead - o.afterRead,
		c.barrierFlushes - o.barrierFlushes, c.unlockFlushes - o.unlockFlushes}
}

// walBuffered is what every log buffer of the process holds.
func walBuffered() int {
	n := 0
	walVFS.files.Range(func(_, v any) bool {
		n += v.(*walFile).n
		return true
	})
	return n
}

// walRows inserts n rows of size-byte blobs in one statement.
const walRows = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
	INSERT INTO walt (v) SELECT randomblob(?) FROM s`

func walTable(t *testing.T, db *DB) {
	t.Helper()
	_, err := db.w.ExecContext(t.Context(), `CREATE TABLE walt (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`)
	require.NoError(t, err)
}

// spilling opens a database with a table for these tests whose writer's
// only connection, returned, keeps 16 pages in its cache until the test
// ends (a larger transaction then writes pages to the log before its
// commit).
func spilling(t *testing.T) (*DB, *sql.Conn) {
	t.Helper()
	db := openTestSQLite(t)
	walTable(t, db)
	conn, err := db.w.Conn(t.Context())
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), `PRAGMA cache_size = 16`)
	require.NoError(t, err)
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size = %d`, writerCacheKiB))
		conn.Close()
	})
	return db, conn
}

// beginBig begins a transaction on conn that inserts 300 rows of 3,000
// bytes: far more pages than a spilling connection's cache holds.
func beginBig(t *testing.T, conn *sql.Conn) *sql.Tx {
	t.Helper()
	tx, err := conn.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(t.Context(), walRows, 300, 3000)
	require.NoError(t, err)
	return tx
}

func TestWALBufferWritesACommitInAFewWrites(t *testing.T) {
	db := openTestSQLite(t)
	walTable(t, db)
	before := walNow()
	_, err := db.w.ExecContext(t.Context(), walRows, 100, 3000) // ~100 pages, one commit
	require.NoError(t, err)
	d := walNow().since(before)
	// SQLite writes each frame as a header and a page; the file gets them
	// in writes of up to walMaxWrite bytes (~400 KiB here: 4 of them).
	assert.GreaterOrEqual(t, d.writes, int64(200), "SQLite's writes to the log")
	assert.LessOrEqual(t, d.fileWrites, int64(6), "writes that reached the file (SQLite made %d)", d.writes)
	assert.Zero(t, d.barrierFlushes+d.unlockFlushes, "the commit frame wrote the buffer out, not a guard")
	assert.Zero(t, walBuffered())
}

// Readers on other connections see every commit the moment it is
// visible, and a copy of the files taken at any quiet moment (what a
// crash would leave) holds every commit.
func TestWALBufferCommitsAreOnFileWhenSeen(t *testing.T) {
	db := openTestSQLite(t)
	walTable(t, db)
	ctx := t.Context()
	before := walNow()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n, maxK, bytes int64
				err := db.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(k), 0), COALESCE(SUM(length(v)), 0) FROM walt`).Scan(&n, &maxK, &bytes)
				if err == nil && (n != maxK || bytes != 1500*n) {
					err = fmt.Errorf("a reader saw %d rows, the last %d, %d bytes", n, maxK, bytes)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 300 {
		_, err := db.w.ExecContext(ctx, walRows, 7, 1500)
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Zero(t, walNow().since(before).barrierFlushes)
	assertCrashCopy(t, db, 2100, `SELECT COUNT(*) FROM walt WHERE length(v) = 1500`)
}

// A transaction larger than the writer's page cache writes pages to the
// log before its commit and, when it changes them again, overwrites those
// frames; SQLite then rewrites the checksums of the transaction's frames
// after its commit frame, each after reading the frame. Those writes must
// reach the file before the commit is visible, or readers and recovery
// would see a broken checksum chain and lose the transaction.
func TestWALBufferChecksumRewriteReachesTheFile(t *testing.T) {
	db, conn := spilling(t)
	ctx := t.Context()
	before := walNow()
	tx := beginBig(t, conn)
	_, err := tx.ExecContext(ctx, `UPDATE walt SET v = zeroblob(3001) WHERE k % 3 = 0`)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	d := walNow().since(before)
	require.Positive(t, d.afterRead, "the transaction rewrote its checksums (else this test tests nothing)")
	assert.Zero(t, d.barrierFlushes, "the rewrite's writes went through, not via the guard")

	var n int
	require.NoError(t, db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM walt WHERE length(v) = 3001`).Scan(&n))
	assert.Equal(t, 100, n)
	assertCrashCopy(t, db, 100, `SELECT COUNT(*) FROM walt WHERE length(v) = 3001`)
}

// A rolled-back transaction that had written frames leaves nothing in the
// buffer once it has released the log: those bytes could otherwise land,
// later, on frames another process committed meanwhile.
func TestWALBufferEmptyAfterARollback(t *testing.T) {
	db, conn := spilling(t)
	ctx := t.Context()
	// An empty log: the rollback then reads the pages it restores from the
	// database file, not the log (a read of the log writes the buffer out).
	_, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	before := walNow()
	require.NoError(t, beginBig(t, conn).Rollback())
	d := walNow().since(before)
	require.Positive(t, d.writes, "the transaction wrote frames before its end (else this test tests nothing)")
	assert.Positive(t, d.unlockFlushes)
	assert.Zero(t, walBuffered(), "bytes left in a log buffer")

	_, err = conn.ExecContext(ctx, walRows, 10, 100)
	require.NoError(t, err)
	assertCrashCopy(t, db, 10, `SELECT COUNT(*) FROM walt`)
}

// assertCrashCopy copies db's database file and log, as a crash would
// leave them, opens the copy (SQLite recovers the log) and checks that q
// counts want rows and that the copy is intact.
func assertCrashCopy(t *testing.T, db *DB, want int, q string) {
	t.Helper()
	var path string
	require.NoError(t, db.r.QueryRowContext(t.Context(), `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path))
	dir := t.TempDir()
	for _, suffix := range []string{"-wal", ""} {
		require.NoError(t, copyFile(path+suffix, filepath.Join(dir, "copy.db"+suffix)))
	}
	c, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "copy.db"))
	require.NoError(t, err)
	defer c.Close()
	var ok string
	require.NoError(t, c.QueryRow(`PRAGMA integrity_check`).Scan(&ok))
	assert.Equal(t, "ok", ok)
	var n int
	require.NoError(t, c.QueryRow(q).Scan(&n))
	assert.Equal(t, want, n, "rows in the copy")
}
