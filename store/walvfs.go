package store

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The SQLite writer's write-ahead log, written in a few system calls a
// commit instead of two a page.
//
// SQLite appends each page a transaction changed to the log as a frame: a
// 24-byte header, then the page, each with a pwrite of its own. A create at
// 1,000,000 users commits about 20 pages, and those 40 system calls were a
// fifth of the single writer's time (measured: 62 frames take 420 µs as
// 124 pwrites, 36 µs as one). So the writer opens its files through
// walVFS: SQLite's default VFS, with the log's writes gathered. A write
// that continues the previous one is copied into a buffer; the buffer goes
// to the file, in writes of up to walMaxWrite bytes, as soon as the frame
// that commits the transaction is complete — before SQLite makes the
// transaction visible, so a failed write fails the commit, which rolls
// back. Every other use of the file (a read, sync, truncate, size, file
// control, close) and every write that does not continue the buffer write
// it out first, so the file always reads as SQLite wrote it. Readers and
// the checkpointer use the plain default VFS: they read only frames of
// committed transactions, which are on file by then.
//
// Two guards on the database file, which SQLite calls with the same
// connection (the same *libc.TLS) as the log: a transaction becomes
// visible when SQLite writes the log's new length into the shared-memory
// index, between the two halves of which it calls xShmBarrier; and it
// ends when SQLite releases the log's write lock with xShmLock. At
// either, a connection whose buffer still holds bytes writes them first.
// At the barrier that never happens on SQLite's commit path (the buffer
// went out with the commit frame, and the checksum rewrite of a
// transaction that overwrote its own frames — read a frame, write its
// header — goes through unbuffered): walStats.barrierFlushes counts it,
// and the tests check it stays zero. At the unlock it happens after a
// rollback of a transaction that had written frames early (a large one
// spills pages): those frames are garbage, but left in the buffer they
// could later overwrite frames another process committed after the lock
// was released; written now, they are what SQLite itself would have
// written.

// walVFSName is the VFS the writer connection names in its DSN.
const walVFSName = "orgd-walbuf"

// walBufSize is the buffer's size: 254 frames of 4 KiB, more than a batch
// of creates commits (a longer run of writes goes out as it fills).
const walBufSize = 1 << 20

// walMaxWrite is the most the unix VFS writes in one call (its
// seekAndWrite keeps the low 17 bits of a length): 31 frames of 4 KiB.
const walMaxWrite = 0x1ffff

// walFrameHeader is the size of a frame's header in the log.
const walFrameHeader = 24

type (
	xOpenFn    = func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32
	xCloseFn   = func(*libc.TLS, uintptr) int32
	xReadFn    = func(*libc.TLS, uintptr, uintptr, int32, int64) int32
	xTruncFn   = func(*libc.TLS, uintptr, int64) int32
	xSyncFn    = func(*libc.TLS, uintptr, int32) int32
	xSizeFn    = func(*libc.TLS, uintptr, uintptr) int32
	xFcntlFn   = func(*libc.TLS, uintptr, int32, uintptr) int32
	xBarrierFn = func(*libc.TLS, uintptr)
	xShmLockFn = func(*libc.TLS, uintptr, int32, int32, int32) int32
)

// cfn reads the C function pointer at p as a Go function of type T, and
// setCfn stores f there (a transpiled function pointer is a Go func value).
func cfn[T any](p *uintptr) T       { return *(*T)(unsafe.Pointer(p)) }
func setCfn[T any](p *uintptr, f T) { *(*T)(unsafe.Pointer(p)) = f }

// walFile is the state of one log file opened through walVFS. Only its
// connection uses it (SQLite serializes a connection's calls), so it has
// no lock.
type walFile struct {
	pFile     uintptr
	tls       *libc.TLS
	mem       []byte // walBufSize bytes of SQLite's memory, allocated on the first write
	n         int    // how many bytes of mem were written and not yet passed on
	off       int64  // the file offset of mem[0]
	afterRead bool   // the last call was a read (see walWrite)
	commitAt  int64  // the offset of the page of the commit frame whose header is in mem, or -1
}

// Everything SQLite itself reads or writes through a pointer (the VFS, the
// method tables, the buffers) is in SQLite's memory, not Go's heap: SQLite
// does pointer arithmetic on it, and keeps pointers Go cannot see.
var walVFS struct {
	once sync.Once
	err  error

	dflt uintptr              // the default VFS (unix)
	orig sqlite3.Tsqlite3_vfs // a copy of it

	mu      sync.Mutex                   // guards the method tables' creation
	walOrig *sqlite3.Tsqlite3_io_methods // the default VFS's methods of a log file (a copy)
	walShim uintptr                      // ours, installed on it
	walSeen uintptr                      // where walOrig was copied from
	dbOrig  *sqlite3.Tsqlite3_io_methods // the same for the database file
	dbShim  uintptr
	dbSeen  uintptr

	files sync.Map // pFile → *walFile
	byTLS sync.Map // *libc.TLS → *walFile: a connection's buffered log
}

// walStats counts, for the whole process: the writes SQLite made to
// buffered logs, the writes that reached the files, the writes right after
// a read that went through unbuffered, and the guards' flushes.
var walStats struct {
	writes, fileWrites, afterRead, barrierFlushes, unlockFlushes atomic.Int64
}

// ptrAt is the memory SQLite allocated at p as a *T.
func ptrAt[T any](p uintptr) *T { return *(**T)(unsafe.Pointer(&p)) }

// sqliteAlloc returns n bytes of SQLite's memory, zeroed, or 0.
func sqliteAlloc(tls *libc.TLS, n int) uintptr {
	p := sqlite3.Xsqlite3_malloc64(tls, uint64(n))
	if p != 0 {
		clear(unsafe.Slice(ptrAt[byte](p), n))
	}
	return p
}

// registerWALVFS registers walVFS once.
func registerWALVFS() error {
	walVFS.once.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		p := sqlite3.Xsqlite3_vfs_find(tls, 0)
		if p == 0 {
			walVFS.err = errors.New("store: sqlite: no default VFS")
			return
		}
		walVFS.dflt, walVFS.orig = p, *ptrAt[sqlite3.Tsqlite3_vfs](p)
		name, err := libc.CString(walVFSName)
		vp := sqliteAlloc(tls, int(unsafe.Sizeof(walVFS.orig)))
		if err != nil || vp == 0 {
			walVFS.err = errors.New("store: sqlite: out of memory registering the log VFS")
			return
		}
		// Kept for the process's life, as SQLite keeps a registered VFS.
		v := ptrAt[sqlite3.Tsqlite3_vfs](vp)
		*v = walVFS.orig
		v.FpNext, v.FzName = 0, name
		setCfn[xOpenFn](&v.FxOpen, walVFSOpen)
		if rc := sqlite3.Xsqlite3_vfs_register(tls, vp, 0); rc != sqlite3.SQLITE_OK {
			walVFS.err = errors.New("store: sqlite: registering the log VFS failed")
		}
	})
	return walVFS.err
}

// shimFor returns our copy of the method table at addr for one kind of
// file, made on first use with install, or 0 when addr is not the table
// seen first (the file is then left as the default VFS opened it).
func shimFor(tls *libc.TLS, addr uintptr, seen, shim *uintptr, orig **sqlite3.Tsqlite3_io_methods, install func(*sqlite3.Tsqlite3_io_methods)) uintptr {
	walVFS.mu.Lock()
	defer walVFS.mu.Unlock()
	if *seen == 0 {
		o := new(sqlite3.Tsqlite3_io_methods)
		*o = *ptrAt[sqlite3.Tsqlite3_io_methods](addr)
		p := sqliteAlloc(tls, int(unsafe.Sizeof(*o)))
		if p == 0 {
			return 0
		}
		s := ptrAt[sqlite3.Tsqlite3_io_methods](p)
		*s = *o
		install(s)
		*seen, *orig, *shim = addr, o, p
	}
	if addr != *seen {
		return 0
	}
	return *shim
}

func walVFSOpen(tls *libc.TLS, _, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	rc := cfn[xOpenFn](&walVFS.orig.FxOpen)(tls, walVFS.dflt, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	f := ptrAt[sqlite3.Tsqlite3_file](pFile)
	switch {
	case flags&sqlite3.SQLITE_OPEN_WAL != 0:
		s := shimFor(tls, f.FpMethods, &walVFS.walSeen, &walVFS.walShim, &walVFS.walOrig, func(m *sqlite3.Tsqlite3_io_methods) {
			setCfn[xCloseFn](&m.FxClose, walClose)
			setCfn[xReadFn](&m.FxRead, walRead)
			setCfn[xReadFn](&m.FxWrite, walWrite)
			setCfn[xTruncFn](&m.FxTruncate, walTruncate)
			setCfn[xSyncFn](&m.FxSync, walSync)
			setCfn[xSizeFn](&m.FxFileSize, walFileSize)
			setCfn[xFcntlFn](&m.FxFileControl, walFileControl)
		})
		if s == 0 {
			return rc
		}
		w := &walFile{pFile: pFile, tls: tls, commitAt: -1}
		if _, dup := walVFS.byTLS.LoadOrStore(tls, w); dup {
			return rc // a second log on one connection: left unbuffered
		}
		walVFS.files.Store(pFile, w)
		f.FpMethods = s
	case flags&sqlite3.SQLITE_OPEN_MAIN_DB != 0:
		if s := shimFor(tls, f.FpMethods, &walVFS.dbSeen, &walVFS.dbShim, &walVFS.dbOrig, func(m *sqlite3.Tsqlite3_io_methods) {
			setCfn[xBarrierFn](&m.FxShmBarrier, dbShmBarrier)
			setCfn[xShmLockFn](&m.FxShmLock, dbShmLock)
		}); s != 0 {
			f.FpMethods = s
		}
	}
	return rc
}

func walOf(pFile uintptr) *walFile {
	v, _ := walVFS.files.Load(pFile)
	return v.(*walFile)
}

// origWrite is the default VFS's xWrite.
func origWrite(tls *libc.TLS, pFile, p uintptr, n int32, off int64) int32 {
	walStats.fileWrites.Add(1)
	return cfn[xReadFn](&walVFS.walOrig.FxWrite)(tls, pFile, p, n, off)
}

// flush passes what mem holds on to the file, in as few writes as the
// default VFS takes.
func (w *walFile) flush(tls *libc.TLS) int32 {
	rc := int32(sqlite3.SQLITE_OK)
	for at := 0; at < w.n && rc == sqlite3.SQLITE_OK; {
		n := min(w.n-at, walMaxWrite)
		rc = origWrite(tls, w.pFile, uintptr(unsafe.Pointer(&w.mem[at])), int32(n), w.off+int64(at))
		at += n
	}
	w.n, w.commitAt = 0, -1
	return rc
}

func walWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	w := walOf(pFile)
	walStats.writes.Add(1)
	n := int(iAmt)
	if w.n > 0 && (iOfst != w.off+int64(w.n) || w.n+n > walBufSize) {
		if rc := w.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	afterRead := w.afterRead
	w.afterRead = false
	switch {
	case afterRead && w.n == 0:
		// A write right after a read is the checksum rewrite of a
		// transaction that overwrote its own frames (read a frame, write
		// its header), which no commit frame's page follows: it goes
		// through at once.
		walStats.afterRead.Add(1)
		return origWrite(tls, pFile, zBuf, iAmt, iOfst)
	case n > walBufSize:
		return origWrite(tls, pFile, zBuf, iAmt, iOfst)
	}
	if w.mem == nil {
		p := sqliteAlloc(tls, walBufSize)
		if p == 0 {
			return origWrite(tls, pFile, zBuf, iAmt, iOfst)
		}
		w.mem = unsafe.Slice(ptrAt[byte](p), walBufSize)
	}
	if w.n == 0 {
		w.off = iOfst
	}
	at := w.n
	w.n += copy(w.mem[at:], unsafe.Slice(ptrAt[byte](zBuf), n))
	switch {
	case n == walFrameHeader:
		// Bytes 4–7 of a frame's header: the database's size after the
		// commit for a commit frame, 0 for any other.
		w.commitAt = -1
		if binary.BigEndian.Uint32(w.mem[at+4:]) != 0 {
			w.commitAt = iOfst + walFrameHeader
		}
	case iOfst == w.commitAt:
		return w.flush(tls) // the commit frame is complete
	}
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	w := walOf(pFile)
	if rc := w.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	w.afterRead = true
	return cfn[xReadFn](&walVFS.walOrig.FxRead)(tls, pFile, zBuf, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return cfn[xTruncFn](&walVFS.walOrig.FxTruncate)(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return cfn[xSyncFn](&walVFS.walOrig.FxSync)(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return cfn[xSizeFn](&walVFS.walOrig.FxFileSize)(tls, pFile, pSize)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return cfn[xFcntlFn](&walVFS.walOrig.FxFileControl)(tls, pFile, op, pArg)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	w := walOf(pFile)
	rc := w.flush(tls)
	if w.mem != nil {
		sqlite3.Xsqlite3_free(tls, uintptr(unsafe.Pointer(&w.mem[0])))
		w.mem = nil
	}
	walVFS.files.Delete(pFile)
	walVFS.byTLS.CompareAndDelete(w.tls, w)
	if rc2 := cfn[xCloseFn](&walVFS.walOrig.FxClose)(tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = rc2
	}
	return rc
}

// buffered returns the log buffer of tls's connection when it holds bytes.
func buffered(tls *libc.TLS) *walFile {
	if v, ok := walVFS.byTLS.Load(tls); ok {
		if w := v.(*walFile); w.n > 0 {
			return w
		}
	}
	return nil
}

// dbShmBarrier is the database file's xShmBarrier: the first guard.
func dbShmBarrier(tls *libc.TLS, pFile uintptr) {
	if w := buffered(tls); w != nil {
		walStats.barrierFlushes.Add(1)
		_ = w.flush(tls) // no way to fail here; it never has anything to write (above)
	}
	cfn[xBarrierFn](&walVFS.dbOrig.FxShmBarrier)(tls, pFile)
}

// dbShmLock is the database file's xShmLock: the second guard, before a
// lock is released.
func dbShmLock(tls *libc.TLS, pFile uintptr, offset, n, flags int32) int32 {
	if flags&sqlite3.SQLITE_SHM_UNLOCK != 0 {
		if w := buffered(tls); w != nil {
			walStats.unlockFlushes.Add(1)
			_ = w.flush(tls) // frames of a rolled-back transaction: a failure loses nothing
		}
	}
	return cfn[xShmLockFn](&walVFS.dbOrig.FxShmLock)(tls, pFile, offset, n, flags)
}
