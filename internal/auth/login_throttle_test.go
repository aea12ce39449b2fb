package auth

import (
	"testing"
	"time"
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
