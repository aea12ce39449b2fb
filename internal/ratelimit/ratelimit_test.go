package ratelimit

import (
	"fmt"
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
