package store

import (
	"sync"
	"time"
)

// Keyset paging behind SCIM's startIndex. A list in SID order is read a
// page at a time by position (RFC 7644 startIndex); an OFFSET makes the
// database walk past every earlier row, so the last page of a million
// users would cost ten thousand times the first. Instead each page
// returned remembers the SID it ended on, keyed by the statement (its
// organization, condition and direction) and the position after it; the
// request for the next position then seeks past that SID on the
// (org_sid, sid) index and reads only its own rows. A position nobody
// ended a page at (a client jumping into the middle, or whose previous
// page another replica served) falls back to OFFSET once, and its pages
// after it are keyset again.
//
// A client walking the list sees every row that exists throughout its
// walk exactly once, even when rows are added or removed meanwhile (an
// OFFSET would repeat or skip one for each row removed or added before
// its position).

const (
	cursorTTL = 10 * time.Minute
	maxCursor = 20000
)

type cursorKey struct {
	stmt string // the statement up to ORDER BY, with its arguments
	pos  int    // the 0-based position of the row after the remembered SID
	desc bool
}

type cursorEntry struct {
	sid string
	at  time.Time
}

// cursorCache maps positions to the SID the page before them ended on.
type cursorCache struct {
	mu sync.Mutex
	m  map[cursorKey]cursorEntry
	// hits and misses count look-ups at positions after the first (tests).
	hits, misses int
}

func newCursorCache() *cursorCache { return &cursorCache{m: map[cursorKey]cursorEntry{}} }

func (c *cursorCache) get(k cursorKey) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok && time.Since(e.at) > cursorTTL {
		delete(c.m, k)
		ok = false
	}
	if ok {
		c.hits++
	} else {
		c.misses++
	}
	return e.sid, ok
}

func (c *cursorCache) put(k cursorKey, sid string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCursor {
		now := time.Now()
		for k, e := range c.m {
			if now.Sub(e.at) > cursorTTL {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCursor {
			clear(c.m)
		}
	}
	c.m[k] = cursorEntry{sid: sid, at: time.Now()}
}
