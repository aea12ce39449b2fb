// Package ratelimit keeps one token bucket (golang.org/x/time/rate) per key
// (a client IP, an email address, an API token) in bounded memory.
//
// The buckets live in the process: behind a load balancer with n instances
// a client gets at most n times a limit, which is enough to stop a script.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MaxKeys bounds the number of buckets one limiter keeps. A flood of
// distinct keys (spoofed addresses) that fills it after idle keys were
// swept makes the limiter forget every bucket and start afresh: memory stays
// bounded, and the flood's own keys are as likely to be forgotten as anyone's.
const MaxKeys = 100_000

// Keyed allows each key n events per window, with a burst of n. A nil
// *Keyed allows everything (the limit is off).
type Keyed struct {
	every     rate.Limit
	burst     int
	window    time.Duration
	maxKeys   int
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter of n per window, or nil when n is 0 (off).
func New(n int, window time.Duration) *Keyed {
	if n <= 0 {
		return nil
	}
	return &Keyed{
		every: rate.Limit(float64(n) / window.Seconds()), burst: n, window: window,
		maxKeys: MaxKeys, buckets: map[string]*bucket{},
	}
}

// Allow takes one event for key. When the key's bucket is empty it takes
// nothing and says how long to wait for the next one.
func (k *Keyed) Allow(key string, now time.Time) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// A bucket idle for a whole window is full again: forgetting it loses
	// nothing.
	if now.Sub(k.lastSweep) > k.window || len(k.buckets) >= k.maxKeys {
		k.sweep(now)
	}
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys {
			k.buckets = map[string]*bucket{}
		}
		b = &bucket{lim: rate.NewLimiter(k.every, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (k *Keyed) sweep(now time.Time) {
	for key, b := range k.buckets {
		if now.Sub(b.seen) > k.window {
			delete(k.buckets, key)
		}
	}
	k.lastSweep = now
}

// RetryAfter is a wait as the whole seconds of a Retry-After header (≥ 1).
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
