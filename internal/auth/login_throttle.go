package auth

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginThrottle limits password attempts per account and per client IP, so
// that guessing a password takes years rather than hours. Every attempt
// costs a token from both buckets before the password is checked; a
// successful login refills its account's bucket, so that a person who
// mistyped a few times is not punished once they get in.
//
// The buckets live in the process: behind a load balancer with n instances
// an attacker gets at most n times the rate, which still makes guessing
// hopeless. Per-account limits let anyone lock an account out for minutes
// by guessing wrong on purpose; the per-IP limit bounds how many accounts
// one address can do that to.
type LoginThrottle struct {
	account *buckets
	ip      *buckets
}

// Limit is a burst and how often one more attempt is allowed after it.
type Limit struct {
	Burst int
	Every time.Duration
}

// Default limits: 5 attempts per account, then one every 2 minutes; 20 per
// IP, then one every 15 seconds.
var (
	DefaultAccountLimit = Limit{Burst: 5, Every: 2 * time.Minute}
	DefaultIPLimit      = Limit{Burst: 20, Every: 15 * time.Second}
)

// NewLoginThrottle returns a throttle with the given limits.
func NewLoginThrottle(account, ip Limit) *LoginThrottle {
	return &LoginThrottle{account: newBuckets(account), ip: newBuckets(ip)}
}

// Allow takes one attempt for the account (an email address, compared
// case-insensitively) from ip. When either limit is spent it takes nothing
// and says how long to wait.
func (t *LoginThrottle) Allow(email, ip string, now time.Time) (bool, time.Duration) {
	account := strings.ToLower(strings.TrimSpace(email))
	ra := t.account.reserve(account, now)
	ri := t.ip.reserve(ip, now)
	wait := max(ra.DelayFrom(now), ri.DelayFrom(now))
	if wait > 0 {
		ra.CancelAt(now)
		ri.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// Succeeded forgets the account's failed attempts.
func (t *LoginThrottle) Succeeded(email string) {
	t.account.forget(strings.ToLower(strings.TrimSpace(email)))
}

type buckets struct {
	limit     Limit
	mu        sync.Mutex
	byKey     map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBuckets(l Limit) *buckets {
	return &buckets{limit: l, byKey: map[string]*bucket{}}
}

func (b *buckets) reserve(key string, now time.Time) *rate.Reservation {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A bucket untouched for a full refill is full again: forget it, so the
	// map holds only recent keys.
	full := time.Duration(b.limit.Burst) * b.limit.Every
	if now.Sub(b.lastSweep) > full {
		for k, x := range b.byKey {
			if now.Sub(x.seen) > full {
				delete(b.byKey, k)
			}
		}
		b.lastSweep = now
	}
	x, ok := b.byKey[key]
	if !ok {
		x = &bucket{lim: rate.NewLimiter(rate.Every(b.limit.Every), b.limit.Burst)}
		b.byKey[key] = x
	}
	x.seen = now
	return x.lim.ReserveN(now, 1)
}

func (b *buckets) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byKey, key)
}
