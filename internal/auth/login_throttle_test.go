package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/ratelimit"
)

func TestLoginThrottleLimitsAccountsAndAddressesApart(t *testing.T) {
	t.Parallel()
	th := NewLoginThrottle(Limit{Burst: 3, Every: time.Minute}, Limit{Burst: 5, Every: 10 * time.Second})
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := th.Allow("Anna@Example.org", "10.0.0.1", now); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := th.Allow("anna@example.org ", "10.0.0.2", now)
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("4th attempt on the account: ok %v wait %v", ok, wait)
	}
	// A refused attempt takes nothing: the address still has two left.
	for i := range 2 {
		if ok, _ := th.Allow("bob@example.org", "10.0.0.1", now); !ok {
			t.Fatalf("other account from the same address, attempt %d refused", i+1)
		}
	}
	if ok, _ := th.Allow("carl@example.org", "10.0.0.1", now); ok {
		t.Fatalf("6th attempt from one address allowed")
	}
	if ok, _ := th.Allow("anna@example.org", "10.0.0.3", now.Add(time.Minute)); !ok {
		t.Fatalf("the account's bucket did not refill")
	}
	th.Succeeded("ANNA@example.org")
	for i := range 3 {
		if ok, _ := th.Allow("anna@example.org", "10.0.0.4", now.Add(time.Minute)); !ok {
			t.Fatalf("after a success, attempt %d refused", i+1)
		}
	}
}

// Finding 1 of the security review: an attempt that the per-IP limit
// refuses adds no per-account bucket, so that one client cannot fill the
// memory with typed addresses; a bucket is a fixed-size digest however long
// the input; input longer than any address is counted nowhere.
func TestLoginThrottleAddsNoAccountBucketOnceTheIPIsRefused(t *testing.T) {
	th := NewLoginThrottle(Limit{Burst: 5, Every: 2 * time.Minute}, Limit{Burst: 20, Every: 15 * time.Second})
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5000 {
		th.Allow(fmt.Sprintf("user%d@example.org", i), "192.0.2.1", now)
	}
	if account, ip := th.Buckets(); account > 20 || ip != 1 {
		t.Fatalf("5000 attempts from one IP left %d account buckets and %d IP buckets, want ≤ 20 and 1", account, ip)
	}
	long := strings.Repeat("a", 60_000) + "@example.org"
	if ok, wait := th.Allow(long, "192.0.2.2", now); ok || wait != 0 {
		t.Fatalf("over-long address: ok %v wait %v", ok, wait)
	}
	if account, ip := th.Buckets(); account > 20 || ip != 1 {
		t.Fatalf("an over-long address was counted: %d account buckets, %d IP buckets", account, ip)
	}
}

// Refused attempts cost nothing: the account refusing gives the IP's token
// back, and an IPv6 client counts as its /64.
func TestLoginThrottleCountsIPv6ClientsBySlash64(t *testing.T) {
	th := NewLoginThrottle(Limit{Burst: 100, Every: time.Minute}, Limit{Burst: 3, Every: time.Minute})
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := th.Allow(fmt.Sprintf("u%d@example.org", i), ratelimit.ClientKey(fmt.Sprintf("2001:db8::%d", i+1)), now); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if ok, _ := th.Allow("u9@example.org", ratelimit.ClientKey("2001:db8::ffff"), now); ok {
		t.Fatal("another address of the same /64 got a fresh allowance")
	}
}
