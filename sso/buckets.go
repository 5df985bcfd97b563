package sso

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Buckets are token buckets by key, at most maxBuckets of them (the map is
// cleared when full, which only ever forgives).
type Buckets struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	r     rate.Limit
	burst int
}

const maxBuckets = 100_000

// NewBuckets makes buckets of burst tokens refilled at r a second; r ≤ 0
// means no limit (a nil *Buckets, which allows everything).
func NewBuckets(r rate.Limit, burst int) *Buckets {
	if r <= 0 {
		return nil // no limit
	}
	return &Buckets{m: map[string]*rate.Limiter{}, r: r, burst: max(burst, 1)}
}

func (b *Buckets) get(key string) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.m[key]
	if !ok {
		if len(b.m) >= maxBuckets {
			clear(b.m)
		}
		l = rate.NewLimiter(b.r, b.burst)
		b.m[key] = l
	}
	return l
}

// Take spends one token of key's bucket; when there is none it answers
// how long until there is.
func (b *Buckets) Take(key string, now time.Time) (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	res := b.get(key).ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Wait is how long until key's bucket holds a token, without spending one.
func (b *Buckets) Wait(key string, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	l := b.get(key)
	if l.TokensAt(now) >= 1 {
		return 0
	}
	return time.Duration((1 - l.TokensAt(now)) / float64(b.r) * float64(time.Second))
}
