package registration_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

type signupAnswer struct {
	ID               int64  `json:"id"`
	Status           string `json:"status"`
	WaitlistPosition *int   `json:"waitlist_position"`
	ManageURL        string `json:"manage_url"`
	// CheckEmail is the one answer of a members-only event (docs/access.md).
	CheckEmail bool `json:"check_email"`
	Tickets    []struct {
		Code string `json:"code"`
		URL  string `json:"url"`
	} `json:"tickets"`
	Error *struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

func signUp(t testing.TB, a *testapp.App, slug string, body map[string]any) (int, signupAnswer) {
	var ans signupAnswer
	code := a.JSON(t, http.MethodPost, "/api/v1/events/"+slug+"/registrations", "", body, &ans)
	return code, ans
}

func person(i int) map[string]any {
	return map[string]any{"name": fmt.Sprintf("Person %d", i), "email": fmt.Sprintf("p%d@example.org", i), "party_size": 1, "consent": true}
}

func token(manageURL string) string { return manageURL[strings.LastIndex(manageURL, "/")+1:] }

// The rule that can't be retrofitted: 100 people race for 5 places through
// two app instances with their own connection pools on one database.
func TestConcurrentSignupsNeverOversellAcrossTwoInstances(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := a.Second(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "rush", func(in *event.Input) { in.Capacity = event.Some(5) })

	const n = 100
	answers := make([]signupAnswer, n)
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
			codes[i], answers[i] = signUp(t, app, "rush", person(i))
		}()
	}
	close(start)
	wg.Wait()

	var confirmed []signupAnswer
	var positions []int
	for i, ans := range answers {
		if codes[i] != http.StatusCreated {
			t.Fatalf("sign-up %d: status %d, %+v", i, codes[i], ans.Error)
		}
		switch ans.Status {
		case registration.Confirmed:
			confirmed = append(confirmed, ans)
			if len(ans.Tickets) != 1 {
				t.Errorf("confirmed sign-up %d has %d tickets", i, len(ans.Tickets))
			}
		case registration.Waitlisted:
			if ans.WaitlistPosition == nil {
				t.Fatalf("waitlisted sign-up %d has no position", i)
			}
			positions = append(positions, *ans.WaitlistPosition)
		default:
			t.Fatalf("sign-up %d: unexpected status %q", i, ans.Status)
		}
	}
	if len(confirmed) != 5 {
		t.Fatalf("confirmed = %d, want exactly 5", len(confirmed))
	}
	sort.Ints(positions)
	for i, p := range positions {
		if p != i+1 {
			t.Fatalf("waitlist positions = %v, want 1…95 each once", positions)
		}
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'rush'`); got != 5 {
		t.Fatalf("seats_confirmed = %d, want 5", got)
	}
	if got := a.Count(t, `SELECT count(*) FROM tickets`); got != 5 {
		t.Fatalf("tickets = %d, want 5", got)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != n {
		t.Fatalf("registrations stored = %d, want %d", got, n)
	}

	// Cancelling one confirmed place confirms waitlist position 1 in the same
	// transaction: when the cancel call returns, it is already confirmed.
	var first signupAnswer
	for _, ans := range answers {
		if ans.WaitlistPosition != nil && *ans.WaitlistPosition == 1 {
			first = ans
		}
	}
	var cancelled map[string]any
	if code := b.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(confirmed[0].ManageURL)+"/cancel", "", nil, &cancelled); code != http.StatusOK || cancelled["status"] != "cancelled" {
		t.Fatalf("cancel: %d %v", code, cancelled)
	}
	r, err := a.Registrations.ByToken(context.Background(), token(first.ManageURL))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != registration.Confirmed || len(r.Tickets) != 1 {
		t.Fatalf("waitlist position 1 after cancel: status %s, %d tickets; want confirmed with 1 ticket", r.Status, len(r.Tickets))
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'rush'`); got != 5 {
		t.Fatalf("seats_confirmed after cancel+promotion = %d, want 5", got)
	}
	if got := a.Count(t, `SELECT min(waitlist_position) FROM (
		SELECT rank() OVER (ORDER BY waitlist_order) AS waitlist_position FROM registrations WHERE status = 'waitlisted') w`); got != 1 {
		t.Fatalf("waitlist does not start at 1 after promotion: %d", got)
	}
}

// Concurrent cancellations and sign-ups on a full event keep the counter
// exact and never leave a waitlisted party that fits.
func TestConcurrentCancelAndSignupKeepCounterExact(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := a.Second(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "churn", func(in *event.Input) { in.Capacity = event.Some(10) })
	var tokens []string
	for i := range 30 {
		_, ans := signUp(t, a, "churn", person(i))
		tokens = append(tokens, token(ans.ManageURL))
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			app := []*testapp.App{a, b}[i%2]
			app.JSON(t, http.MethodPost, "/api/v1/registrations/"+tokens[i]+"/cancel", "", nil, nil)
		}()
		go func() {
			defer wg.Done()
			signUp(t, []*testapp.App{b, a}[i%2], "churn", person(100+i))
		}()
	}
	wg.Wait()
	confirmedSeats := a.Count(t, `SELECT coalesce(sum(party_size), 0) FROM registrations WHERE status = 'confirmed'`)
	counter := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'churn'`)
	if counter != confirmedSeats || counter != 10 {
		t.Fatalf("counter %d, confirmed seats %d, want both 10", counter, confirmedSeats)
	}
	if got := a.Count(t, `SELECT count(*) FROM tickets t JOIN registrations r ON r.id = t.registration_id WHERE r.status = 'confirmed'`); got != 10 {
		t.Fatalf("tickets of confirmed registrations = %d, want 10", got)
	}
}

// First fit: a party too large for the freed seats keeps its place at the
// head of the waitlist while a smaller party behind it moves up.
func TestCancelPromotesFirstWaitlistedPartyThatFits(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "quiz", func(in *event.Input) {
		in.Capacity = event.Some(4)
		four := 4
		in.MaxPartySize = &four
	})
	party := func(name string, size int) signupAnswer {
		code, ans := signUp(t, a, "quiz", map[string]any{"name": name, "email": name + "@example.org", "party_size": size, "consent": true})
		if code != http.StatusCreated {
			t.Fatalf("%s: %d %+v", name, code, ans.Error)
		}
		return ans
	}
	alpha := party("alpha", 3)
	beta := party("beta", 1)
	gamma := party("gamma", 3) // waitlist 1
	delta := party("delta", 1) // waitlist 2
	if alpha.Status != "confirmed" || beta.Status != "confirmed" || gamma.Status != "waitlisted" || delta.Status != "waitlisted" {
		t.Fatalf("statuses %s %s %s %s", alpha.Status, beta.Status, gamma.Status, delta.Status)
	}
	if *gamma.WaitlistPosition != 1 || *delta.WaitlistPosition != 2 {
		t.Fatalf("positions %d %d", *gamma.WaitlistPosition, *delta.WaitlistPosition)
	}
	a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(beta.ManageURL)+"/cancel", "", nil, nil)
	g, _ := a.Registrations.ByToken(context.Background(), token(gamma.ManageURL))
	d, _ := a.Registrations.ByToken(context.Background(), token(delta.ManageURL))
	if d.Status != "confirmed" || g.Status != "waitlisted" || g.WaitlistPosition != 1 {
		t.Fatalf("after freeing 1 seat: gamma %s #%d, delta %s; want gamma waitlisted #1, delta confirmed", g.Status, g.WaitlistPosition, d.Status)
	}
	a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(alpha.ManageURL)+"/cancel", "", nil, nil)
	g, _ = a.Registrations.ByToken(context.Background(), token(gamma.ManageURL))
	if g.Status != "confirmed" || len(g.Tickets) != 3 {
		t.Fatalf("after freeing 3 more seats gamma is %s with %d tickets", g.Status, len(g.Tickets))
	}
}

func TestRaisingCapacityPromotesWaitlist(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "grow", func(in *event.Input) { in.Capacity = event.Some(1) })
	var answers []signupAnswer
	for i := range 4 {
		_, ans := signUp(t, a, "grow", person(i))
		answers = append(answers, ans)
	}
	if _, err := a.Events.Update(context.Background(), o.ID, "grow", event.Input{Capacity: event.Some(3)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"confirmed", "confirmed", "confirmed", "waitlisted"}
	for i, ans := range answers {
		r, _ := a.Registrations.ByToken(context.Background(), token(ans.ManageURL))
		if r.Status != want[i] {
			t.Errorf("registration %d: %s, want %s", i, r.Status, want[i])
		}
	}
	last, _ := a.Registrations.ByToken(context.Background(), token(answers[3].ManageURL))
	if last.WaitlistPosition != 1 {
		t.Errorf("remaining waitlisted position = %d, want 1", last.WaitlistPosition)
	}
	// Lowering below the confirmed seats is refused and changes nothing.
	_, err := a.Events.Update(context.Background(), o.ID, "grow", event.Input{Capacity: event.Some(2)})
	if err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Fatalf("lowering capacity below confirmed seats: err = %v", err)
	}
	// Unlimited capacity confirms everyone.
	if _, err := a.Events.Update(context.Background(), o.ID, "grow", event.Input{Capacity: event.Null[int]{Set: true}}); err != nil {
		t.Fatal(err)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'confirmed'`); got != 4 {
		t.Fatalf("confirmed after unlimited = %d", got)
	}
}

func TestFullEventWithoutWaitlistRefuses(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "small", func(in *event.Input) {
		in.Capacity = event.Some(1)
		no := false
		in.Waitlist = &no
	})
	if code, _ := signUp(t, a, "small", person(1)); code != http.StatusCreated {
		t.Fatalf("first: %d", code)
	}
	code, ans := signUp(t, a, "small", person(2))
	if code != http.StatusConflict || ans.Error == nil || ans.Error.Code != "full" {
		t.Fatalf("second: %d %+v, want 409 full", code, ans.Error)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 1 {
		t.Fatalf("registrations = %d, want 1", got)
	}
}

func TestSameEmailTwiceGetsExistingRegistration(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "once", func(in *event.Input) { in.Capacity = event.Some(10) })
	code1, first := signUp(t, a, "once", person(1))
	again := person(1)
	again["email"] = "  P1@Example.org "
	again["party_size"] = 1
	var second map[string]any
	code2 := a.JSON(t, http.MethodPost, "/api/v1/events/once/registrations", "", again, &second)
	if code1 != http.StatusCreated || code2 != http.StatusOK {
		t.Fatalf("codes %d, %d; want 201 then 200", code1, code2)
	}
	// The answer says so but reveals nothing of the first registration.
	if second["existing"] != true || second["manage_url"] != nil || second["tickets"] != nil || second["id"] != nil {
		t.Fatalf("second sign-up answer %v: want existing=true and no manage link, id or tickets", second)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 1 {
		t.Fatalf("registrations = %d, want 1", got)
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'once'`); got != 1 {
		t.Fatalf("seats = %d, want 1", got)
	}
	// After cancelling, the same email may sign up anew.
	a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token(first.ManageURL)+"/cancel", "", nil, nil)
	code3, third := signUp(t, a, "once", person(1))
	if code3 != http.StatusCreated || third.ID == first.ID {
		t.Fatalf("sign-up after cancel: %d id %d", code3, third.ID)
	}
}

func TestSignupRespectsWindowAndStatus(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	future := time.Now().Add(24 * time.Hour)
	past := time.Now().Add(-time.Hour)
	a.Event(t, o, "not-yet", func(in *event.Input) { in.RegistrationOpensAt = event.Some(future) })
	a.Event(t, o, "over", func(in *event.Input) {
		in.RegistrationOpensAt = event.Some(past.Add(-time.Hour))
		in.RegistrationClosesAt = event.Some(past)
	})
	a.Event(t, o, "draft", func(in *event.Input) { d := event.Draft; in.Status = &d })
	a.Event(t, o, "called-off", nil)
	a.Event(t, o, "members", func(in *event.Input) { m := event.AccessMembers; in.Access = &m })
	if _, err := a.Events.Cancel(context.Background(), o.ID, "called-off"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		slug string
		code int
		err  string
	}{
		{"not-yet", http.StatusGone, "closed"},
		{"over", http.StatusGone, "closed"},
		{"called-off", http.StatusGone, "closed"},
		{"draft", http.StatusNotFound, "not_found"},
		{"no-such-event", http.StatusNotFound, "not_found"},
	} {
		code, ans := signUp(t, a, tc.slug, person(1))
		if code != tc.code || ans.Error == nil || ans.Error.Code != tc.err {
			t.Errorf("%s: %d %+v, want %d %s", tc.slug, code, ans.Error, tc.code, tc.err)
		}
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 0 {
		t.Fatalf("registrations = %d, want 0", got)
	}
}

func TestAgeRangeIsCheckedOnTheEventsStartDate(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", func(in *event.Input) {
		in.MinAge, in.MaxAge = event.Some(17), event.Some(27)
		in.Capacity = event.Some(25)
	})
	start := e.StartsAt.In(e.Location())
	birthday := func(yearsBefore, dayShift int) string {
		return time.Date(start.Year()-yearsBefore, start.Month(), start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, dayShift).Format(time.DateOnly)
	}
	for i, tc := range []struct {
		birth string
		code  int
		err   string
	}{
		{birthday(17, 0), http.StatusCreated, ""},                 // 17th birthday on the day: counts
		{birthday(17, 1), http.StatusForbidden, "age"},            // turns 17 the day after
		{birthday(28, 1), http.StatusCreated, ""},                 // still 27
		{birthday(28, 0), http.StatusForbidden, "age"},            // turns 28 that day
		{"", http.StatusUnprocessableEntity, "invalid"},           // missing
		{"2001-02-30", http.StatusUnprocessableEntity, "invalid"}, // impossible
	} {
		body := person(i)
		body["birth_date"] = tc.birth
		code, ans := signUp(t, a, "loccum", body)
		got := ""
		if ans.Error != nil {
			got = ans.Error.Code
		}
		if code != tc.code || got != tc.err {
			t.Errorf("birth %q: %d %q, want %d %q", tc.birth, code, got, tc.code, tc.err)
		}
	}
}
