// Package ratelimit keeps one token bucket (golang.org/x/time/rate) per key
// (a client IP, an email address, an API token) in bounded memory.
//
// The buckets live in the process: behind a load balancer with n instances
// a client gets at most n times a limit, which is enough to stop a script.
package ratelimit

import (
	"crypto/sha256"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"treffpunkt/internal/text"
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
	ok, wait, _ := k.Reserve(key, now)
	return ok, wait
}

// Reserve is Allow that also returns what it took (nil when it took
// nothing), so that a caller who checks a second limit can give the event
// back with CancelAt when that limit refuses.
func (k *Keyed) Reserve(key string, now time.Time) (bool, time.Duration, *rate.Reservation) {
	if k == nil {
		return true, 0, nil
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
		return false, d, nil
	}
	return true, 0, r
}

// Len is the number of buckets kept; tests use it to show the limiters stay bounded.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// Forget drops key's bucket: its next event finds a full one.
func (k *Keyed) Forget(key string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.buckets, key)
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

// EmailKey is the key of an email address in a limiter: the SHA-256 of the
// address as stored (text.Email; trimmed and lower-cased when it is not a
// valid address), so that a bucket costs the same few bytes whatever was
// typed, and all spellings of one address share a bucket. ok is false for
// input longer than any address (text.MaxEmail octets): callers refuse it
// before any limiter sees it, so that it costs no memory at all.
func EmailKey(email string) (key string, ok bool) {
	email = strings.TrimSpace(email)
	if len(email) > text.MaxEmail {
		return "", false
	}
	if addr, p := text.Email(email); p == "" {
		email = addr
	}
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return string(sum[:]), true
}

// ClientKey is the key of a client IP in a per-IP limiter. An IPv6 client
// is keyed by its /64: one subscriber or host usually holds a whole /64,
// and keying on the full address would give it 2^64 fresh allowances (and
// let it flush a limiter's MaxKeys). IPv4 (also when mapped into IPv6)
// stays the single address.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
