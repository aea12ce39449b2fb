package registration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

type sessionAnswer struct {
	signupAnswer
	Sessions []struct {
		Key              string `json:"key"`
		Status           string `json:"status"`
		WaitlistPosition *int   `json:"waitlist_position"`
	} `json:"sessions"`
}

// workshopEvent is an unlimited event with one workshop of places places.
func workshopEvent(t *testing.T, a *testapp.App, slug string, places int) {
	t.Helper()
	a.Event(t, a.Org(t, "miso"), slug, func(in *event.Input) {
		in.Capacity = event.Null[int]{Set: true}
		start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
		in.Sessions = &[]event.SessionInput{{Key: "ws", Title: event.Texts{"de": "Workshop"},
			StartsAt: &start, EndsAt: new(start.Add(time.Hour)), Capacity: &places}}
	})
}

// The database judges a workshop's places as it judges the event's seats:
// 200 people race for the 10 places of one workshop through two app
// instances with their own connection pools on one database; exactly 10
// get a place, the others wait in positions 1…190 without a gap, and the
// sign-ups went through the group-commit batches, not one transaction each.
func TestConcurrentSessionChoicesNeverOversellAcrossTwoInstances(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := a.Second(t)
	workshopEvent(t, a, "rush", 10)

	const n = 200
	answers := make([]sessionAnswer, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			app := a
			if i%2 == 1 {
				app = b
			}
			body := person(i)
			body["sessions"] = []string{"ws"}
			codes[i] = app.JSON(t, http.MethodPost, "/api/v1/events/rush/registrations", "", body, &answers[i])
		}()
	}
	close(start)
	wg.Wait()

	var confirmed []sessionAnswer
	var positions []int
	for i, ans := range answers {
		if codes[i] != http.StatusCreated || ans.Status != registration.Confirmed || len(ans.Sessions) != 1 {
			t.Fatalf("sign-up %d: status %d, %+v", i, codes[i], ans)
		}
		switch s := ans.Sessions[0]; s.Status {
		case registration.SessionConfirmed:
			confirmed = append(confirmed, ans)
		case registration.SessionWaitlisted:
			positions = append(positions, *s.WaitlistPosition)
		default:
			t.Fatalf("sign-up %d: session status %q", i, s.Status)
		}
	}
	if len(confirmed) != 10 {
		t.Fatalf("confirmed in the workshop = %d, want exactly 10", len(confirmed))
	}
	sort.Ints(positions)
	for i, p := range positions {
		if p != i+1 {
			t.Fatalf("session waitlist positions = %v, want 1…190 each once", positions)
		}
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'ws'`); got != 10 {
		t.Fatalf("session seats_confirmed = %d, want 10", got)
	}
	if got := a.Count(t, `SELECT count(*) FROM registration_sessions WHERE status = 'confirmed'`); got != 10 {
		t.Fatalf("confirmed choices stored = %d, want 10", got)
	}
	// The stored order agrees with the positions answered.
	if got := a.Count(t, `SELECT count(*) FROM (
		SELECT rank() OVER (ORDER BY waitlist_order) AS p FROM registration_sessions WHERE status = 'waitlisted') w
		WHERE p > 190`); got != 0 {
		t.Fatalf("%d stored waitlist ranks beyond 190", got)
	}
	ba, sa := a.Registrations.BatchStats()
	bb, sb := b.Registrations.BatchStats()
	if sa+sb != n || ba+bb >= n {
		t.Fatalf("%d sign-ups in %d transactions: the batch did not carry the sessions", sa+sb, ba+bb)
	}

	// Cancelling a registration with a place gives it to position 1 in the
	// same transaction: when the call returns, it is confirmed.
	var first sessionAnswer
	for _, ans := range answers {
		if p := ans.Sessions[0].WaitlistPosition; p != nil && *p == 1 {
			first = ans
		}
	}
	var cancelled map[string]any
	if code := b.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(confirmed[0].ManageURL)+"/cancel", "", nil, &cancelled); code != http.StatusOK {
		t.Fatalf("cancel: %d %v", code, cancelled)
	}
	r, err := a.Registrations.ByToken(context.Background(), token(first.ManageURL))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sessions) != 1 || r.Sessions[0].Status != registration.SessionConfirmed {
		t.Fatalf("session waitlist position 1 after cancel: %+v", r.Sessions)
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'ws'`); got != 10 {
		t.Fatalf("session seats_confirmed after cancel+promotion = %d, want 10", got)
	}
}

// Even a writer that skips the rules cannot oversell a workshop: the
// CHECK constraint refuses it.
func TestTheDatabaseRefusesAnOversoldSession(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	workshopEvent(t, a, "fest", 2)
	_, err := a.DB.Exec(`UPDATE event_sessions SET seats_confirmed = 3 WHERE key = 'ws'`)
	if err == nil {
		t.Fatal("a session's counter went above its capacity")
	}
}

// A waitlisted registration only requests its sessions; when it moves up
// from the event's waitlist, its choices are decided then.
func TestPromotionDecidesRequestedSessions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	one := 1
	a.Event(t, a.Org(t, "miso"), "fest", func(in *event.Input) {
		in.Capacity = event.Some(1)
		in.Sessions = &[]event.SessionInput{{Key: "ws", Title: event.Texts{"de": "Workshop"},
			StartsAt: &start, EndsAt: new(start.Add(time.Hour)), Capacity: &one}}
	})
	var first, second sessionAnswer
	for i, ans := range []*sessionAnswer{&first, &second} {
		body := person(i)
		body["sessions"] = []string{"ws"}
		if code := a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", body, ans); code != http.StatusCreated {
			t.Fatalf("sign-up %d: %d", i, code)
		}
	}
	if second.Status != registration.Waitlisted || second.Sessions[0].Status != registration.SessionRequested {
		b, _ := json.Marshal(second)
		t.Fatalf("second: %s", b)
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(first.ManageURL)+"/cancel", "", nil, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
	r, err := a.Registrations.ByToken(context.Background(), token(second.ManageURL))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != registration.Confirmed || len(r.Sessions) != 1 || r.Sessions[0].Status != registration.SessionConfirmed {
		t.Fatalf("after promotion: %s %+v", r.Status, r.Sessions)
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'ws'`); got != 1 {
		t.Fatalf("session seats_confirmed = %d, want 1", got)
	}
}

// A session's counters (waitlist length, confirmed registrations, choices)
// are columns kept by triggers (migration 00036), read under the event's
// lock instead of counted per batch. After every kind of write — sign-ups
// confirmed, waitlisted for the session and waitlisted for the event,
// leaving a session, changing sessions, cancelling with promotion, erasure
// — they equal a count of the rows.
func TestSessionCountersFollowEveryChange(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	one, many := 1, 100
	a.Event(t, a.Org(t, "miso"), "fest", func(in *event.Input) {
		in.Capacity = event.Some(4)
		in.Sessions = &[]event.SessionInput{
			{Key: "ws", Title: event.Texts{"de": "Workshop"}, StartsAt: &start, EndsAt: new(start.Add(time.Hour)), Capacity: &one},
			{Key: "forum", Title: event.Texts{"de": "Forum"}, StartsAt: new(start.Add(2 * time.Hour)), EndsAt: new(start.Add(3 * time.Hour)), Capacity: &many},
		}
	})
	check := func(step string) {
		t.Helper()
		bad := a.Count(t, `SELECT count(*) FROM event_sessions s WHERE
			s.waitlist_length <> (SELECT count(*) FROM registration_sessions rs WHERE rs.session_id = s.id AND rs.status = 'waitlisted')
			OR s.confirmed_count <> (SELECT count(*) FROM registration_sessions rs WHERE rs.session_id = s.id AND rs.status = 'confirmed')
			OR s.choices <> (SELECT count(*) FROM registration_sessions rs WHERE rs.session_id = s.id)`)
		if bad != 0 {
			t.Fatalf("%s: %d sessions' counters differ from the rows", step, bad)
		}
		var detail struct {
			Sessions []struct {
				Key            string `json:"key"`
				WaitlistLength int    `json:"waitlist_length"`
			} `json:"sessions"`
		}
		if code := a.JSON(t, http.MethodGet, "/api/v1/events/fest", "", nil, &detail); code != http.StatusOK {
			t.Fatalf("%s: detail %d", step, code)
		}
		for _, s := range detail.Sessions {
			want := a.Count(t, `SELECT count(*) FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
				WHERE s.key = '`+s.Key+`' AND rs.status = 'waitlisted'`)
			if s.WaitlistLength != want {
				t.Fatalf("%s: %s waitlist_length %d in the API, %d rows", step, s.Key, s.WaitlistLength, want)
			}
		}
	}
	var ans [6]sessionAnswer
	for i := range ans {
		body := person(i)
		body["sessions"] = []string{"ws", "forum"}
		if code := a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", body, &ans[i]); code != http.StatusCreated {
			t.Fatalf("sign-up %d: %d", i, code)
		}
	}
	check("after six sign-ups (one place in ws, four seats)")
	if n := a.Count(t, `SELECT waitlist_length FROM event_sessions WHERE key = 'ws'`); n != 3 {
		t.Fatalf("ws waitlist_length = %d, want 3 (the event's confirmed beyond the first)", n)
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(ans[1].ManageURL)+"/sessions/ws/cancel", "", nil, nil); code != http.StatusOK {
		t.Fatalf("leave: %d", code)
	}
	check("after leaving a session")
	if code := a.JSON(t, http.MethodPatch, "/api/v1/registrations/"+token(ans[2].ManageURL), "", map[string]any{"sessions": []string{"forum"}}, nil); code != http.StatusOK {
		t.Fatalf("change: %d", code)
	}
	check("after changing sessions")
	if code := a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(ans[0].ManageURL)+"/cancel", "", nil, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
	check("after cancelling with promotion")
	if _, err := a.DB.Exec(`DELETE FROM registrations WHERE id = (SELECT max(id) FROM registrations)`); err != nil {
		t.Fatal(err)
	}
	check("after a registration's rows were deleted (cascade)")
}
