package auth

import (
	"time"

	"treffpunkt/internal/ratelimit"
)

// LoginThrottle limits password attempts per account and per client IP, so
// that guessing a password takes years rather than hours. Every attempt
// costs a token from both buckets before the password is checked; a
// successful login refills its account's bucket, so that a person who
// mistyped a few times is not punished once they get in.
//
// The per-IP limit is asked first, and an attempt it refuses never reaches
// the per-account buckets: one client can add at most its own allowance of
// account buckets, each keyed by a 32-byte digest of the address
// (ratelimit.EmailKey), and both limiters hold at most ratelimit.MaxKeys
// buckets. Memory stays bounded whatever is typed.
//
// The buckets live in the process: behind a load balancer with n instances
// an attacker gets at most n times the rate, which still makes guessing
// hopeless. Per-account limits let anyone lock an account out for minutes
// by guessing wrong on purpose; the per-IP limit bounds how many accounts
// one address (one IPv6 /64) can do that to.
type LoginThrottle struct {
	account *ratelimit.Keyed
	ip      *ratelimit.Keyed
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
	return &LoginThrottle{account: account.keyed(), ip: ip.keyed()}
}

// keyed is the limit as a ratelimit.Keyed: Burst attempts per the time a
// whole burst takes to refill.
func (l Limit) keyed() *ratelimit.Keyed {
	return ratelimit.New(l.Burst, time.Duration(l.Burst)*l.Every)
}

// Allow takes one attempt for the account (an email address, compared as
// stored, case-insensitively) from client (ratelimit.ClientKey of the
// peer). When either limit is spent it takes nothing and says how long to
// wait. Input longer than any address is refused and counted nowhere (wait
// 0); callers refuse it first, with a message of its own.
func (t *LoginThrottle) Allow(email, client string, now time.Time) (bool, time.Duration) {
	account, ok := ratelimit.EmailKey(email)
	if !ok {
		return false, 0
	}
	ok, wait, ri := t.ip.Reserve(client, now)
	if !ok {
		return false, wait
	}
	if ok, wait := t.account.Allow(account, now); !ok {
		if ri != nil {
			ri.CancelAt(now)
		}
		return false, wait
	}
	return true, 0
}

// Succeeded forgets the account's failed attempts.
func (t *LoginThrottle) Succeeded(email string) {
	if account, ok := ratelimit.EmailKey(email); ok {
		t.account.Forget(account)
	}
}

// Buckets is how many per-account and per-IP buckets the throttle keeps.
func (t *LoginThrottle) Buckets() (account, ip int) {
	return t.account.Len(), t.ip.Len()
}
