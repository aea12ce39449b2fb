package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/testutil"
)

// cacheHits is how many lookups a's caches answered from memory.
func cacheHits(a *app, name string) uint64 {
	var n uint64
	a.Changes.EachCache(func(c string, hits, _ uint64) {
		if c == name {
			n = hits
		}
	})
	return n
}

// eventually retries check for up to two seconds: another instance hears
// of a change by a notification, which arrives a moment after the commit.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	testutil.Eventually(t, 2*time.Second, check, what)
}

// The door's token and event are kept in memory, on every instance; a
// revocation or a cancellation on one instance holds on all of them.
func TestCachedTokenAndEventFollowChangesOnEveryInstance(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	other := &app{App: d.Second(t), t: t}
	other.Checkins.SetClock(d.Checkins.Now)
	ayse := d.Signed(t, "fest", "Ayşe Yılmaz", 1).Tickets[0].Code
	omid := d.Signed(t, "fest", "Omid Rahimi", 1).Tickets[0].Code

	scanOn := func(a *app, code string) (int, string) {
		r := a.postJSON(http.MethodPost, "/api/v1/checkin", d.Tok, map[string]any{"code": code, "event": "fest"})
		var s scanAnswer
		if r.Status == http.StatusOK {
			if err := json.Unmarshal(r.Body, &s); err != nil {
				t.Fatal(err)
			}
		}
		return r.Status, s.Result
	}
	if st, res := scanOn(other, ayse); st != 200 || res != "ok" {
		t.Fatalf("first scan: %d %s", st, res)
	}
	tokenHits, eventHits := cacheHits(other, "api_tokens"), cacheHits(other, "door_events")
	if st, res := scanOn(other, ayse); st != 200 || res != "already_checked_in" {
		t.Fatalf("second scan: %d %s", st, res)
	}
	if cacheHits(other, "api_tokens") <= tokenHits || cacheHits(other, "door_events") <= eventHits {
		t.Fatal("the second scan did not use the caches")
	}

	// Cancelled through the first instance: the other one says so.
	if _, err := d.Events.Cancel(t.Context(), d.Event.OrgID, "fest"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cancelled event seen by the other instance", func() bool {
		_, res := scanOn(other, omid)
		return res == "cancelled"
	})

	// Revoked through the first instance: refused there at once, and by
	// the other one as soon as it hears of it.
	if err := d.Auth.RevokeToken(t.Context(), &auth.Principal{}, d.Event.OrgID, tokenID(t, d.app, d.Tok)); err != nil {
		t.Fatal(err)
	}
	if st, _ := scanOn(d.app, omid); st != http.StatusUnauthorized {
		t.Errorf("revoked token on its own instance: %d, want 401", st)
	}
	eventually(t, "revoked token refused by the other instance", func() bool {
		st, _ := scanOn(other, omid)
		return st == http.StatusUnauthorized
	})
}

func tokenID(t *testing.T, a *app, tok string) int64 {
	t.Helper()
	p, err := a.Auth.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return p.TokenID
}
