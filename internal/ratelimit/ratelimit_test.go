package ratelimit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBurstThenRefill(t *testing.T) {
	t.Parallel()
	k := New(3, time.Minute)
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _ := k.Allow("a", now); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := k.Allow("a", now)
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("4th: ok=%v wait=%v, want refused with ~20s", ok, wait)
	}
	if ok, _ := k.Allow("b", now); !ok {
		t.Fatal("another key shares the bucket")
	}
	// A refused attempt took nothing: after the wait one more is allowed.
	if ok, _ := k.Allow("a", now.Add(wait)); !ok {
		t.Fatal("not allowed after Retry-After")
	}
	if RetryAfter(wait) != 20 || RetryAfter(time.Millisecond) != 1 {
		t.Fatalf("RetryAfter(%v)=%d", wait, RetryAfter(wait))
	}
}

func TestOffAllowsEverything(t *testing.T) {
	t.Parallel()
	k := New(0, time.Minute)
	if k != nil {
		t.Fatal("0 should turn the limit off")
	}
	for range 1000 {
		if ok, _ := k.Allow("a", time.Now()); !ok {
			t.Fatal("off limiter refused")
		}
	}
}

func TestIdleKeysAreForgotten(t *testing.T) {
	t.Parallel()
	k := New(5, time.Minute)
	now := time.Unix(1_000_000, 0)
	for i := range 1000 {
		k.Allow(fmt.Sprint("ip", i), now)
	}
	if k.Len() != 1000 {
		t.Fatalf("len %d", k.Len())
	}
	k.Allow("late", now.Add(2*time.Minute))
	if k.Len() != 1 {
		t.Fatalf("after a window of idleness %d keys are left, want 1", k.Len())
	}
}

func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	k := New(5, time.Minute)
	k.maxKeys = 100
	now := time.Unix(1_000_000, 0)
	for i := range 1000 {
		k.Allow(fmt.Sprint("ip", i), now)
		if k.Len() > 100 {
			t.Fatalf("%d keys kept, bound is 100", k.Len())
		}
	}
}

func TestConcurrentAllowsExactlyBurst(t *testing.T) {
	t.Parallel()
	k := New(10, time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := k.Allow("x", time.Now()); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("%d allowed, want 10", allowed)
	}
}

func TestClientKeyGroupsIPv6ByItsSlash64(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"2001:db8:1:2:a:b:c:d", "2001:DB8:1:2::"},
		{"fe80::1%eth0", "fe80::2"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
	} {
		if ka, kb := ClientKey(tc.a), ClientKey(tc.b); ka != kb {
			t.Errorf("%s → %q and %s → %q: one /64, two keys", tc.a, ka, tc.b, kb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.7", "192.0.2.8"},
	} {
		if ClientKey(tc.a) == ClientKey(tc.b) {
			t.Errorf("%s and %s share a key", tc.a, tc.b)
		}
	}
	if k := ClientKey("2001:db8:1:2::1"); k != "2001:db8:1:2::/64" {
		t.Errorf("key %q", k)
	}

	// One /64 gets one allowance, however many addresses it uses.
	k := New(3, time.Minute)
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _ := k.Allow(ClientKey(fmt.Sprintf("2001:db8::%x", i+1)), now); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if ok, _ := k.Allow(ClientKey("2001:db8::beef"), now); ok {
		t.Fatal("a fresh address in the same /64 got a fresh allowance")
	}
	if k.Len() != 1 {
		t.Fatalf("%d buckets for one /64", k.Len())
	}
}

func TestEmailKeyIsADigestOfTheStoredAddress(t *testing.T) {
	a, ok := EmailKey(" Anna@Example.ORG ")
	b, _ := EmailKey("anna@example.org")
	c, _ := EmailKey("anna@bücher.example")
	d, _ := EmailKey("ANNA@xn--bcher-kva.example")
	if !ok || a != b || c != d || a == c || len(a) != 32 {
		t.Fatalf("keys %x %x %x %x", a, b, c, d)
	}
	if k, ok := EmailKey(strings.Repeat("x", 253) + "@example.org"); ok || k != "" {
		t.Fatal("input longer than any address got a key")
	}
	if k, ok := EmailKey("not an address at all"); !ok || len(k) != 32 {
		t.Fatal("an invalid address of ordinary length gets no fixed-size key")
	}
}
