package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"treffpunkt/internal/event"
)

// sessionState is what a change of sessions may write besides state():
// every choice and every session's counter.
func (a *app) sessionState() string {
	a.t.Helper()
	var s string
	err := a.DB.Get(&s, `
SELECT concat_ws(' | ',
  (SELECT string_agg(concat_ws(',', registration_id, session_id, status, waitlist_order), ';' ORDER BY registration_id, session_id) FROM registration_sessions),
  (SELECT string_agg(concat_ws(',', key, seats_confirmed), ';' ORDER BY id) FROM event_sessions))`)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.state() + " || " + s
}

// PATCH with sessions replaces the choice all or nothing, keeps the event
// seat and the tickets, and moves the waitlists of the sessions it frees;
// a party that grows needs room in each session it holds a place in, one
// that shrinks frees it.
func TestChangeSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.sessionEvent(t, o.ID, "konf", nil)
	post := func(email string, keys ...string) regAnswer {
		r := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions(email, keys...))
		r.wantStatus(t, http.StatusCreated)
		return r.registration(t)
	}
	seats := func(key string) int {
		return a.count(`SELECT seats_confirmed FROM event_sessions WHERE key = '` + key + `'`)
	}
	r1 := post("r1@example.org", "a")
	post("r2@example.org", "b")
	r3 := post("r3@example.org", "c")
	tickets := codes(a.patch(r3.token(), `{}`).object(t))

	before := a.sessionState()
	for name, body := range map[string]string{
		"overlapping": `{"sessions": ["a", "b"], "name": "Neu"}`,
		"unknown":     `{"sessions": ["zz"]}`,
		"not a list":  `{"sessions": "a"}`,
	} {
		res := a.patch(r3.token(), body)
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), `"sessions"`) {
			t.Fatalf("%s: %d %s", name, res.Status, res.Body)
		}
	}
	e := a.patch(r3.token(), `{"sessions": ["b", "c"], "name": "Neu"}`).apiErr(t, http.StatusConflict, "session_full")
	if !strings.Contains(e.Fields["sessions"], "b") {
		t.Fatalf("session_full does not name b: %+v", e)
	}
	if a.sessionState() != before {
		t.Fatal("a refused change of sessions wrote something")
	}

	res := a.patch(r3.token(), `{"sessions": ["c", "a"]}`)
	res.wantStatus(t, http.StatusOK)
	if got := res.registration(t); got.Status != "confirmed" || got.choices() != "a:confirmed c:confirmed" {
		t.Fatalf("r3 after change: %s %s", got.Status, got.choices())
	}
	if got := codes(res.object(t)); strings.Join(got, ",") != strings.Join(tickets, ",") {
		t.Fatalf("tickets changed: %v → %v", tickets, got)
	}
	// a is full now (r1, r3): the next waits.
	r4 := post("r4@example.org", "a")
	if r4.choices() != "a:waitlisted:1" {
		t.Fatalf("r4: %s", r4.choices())
	}
	// r1 gives a up: r4 gets the place in the same transaction, and is told.
	res = a.patch(r1.token(), `{"sessions": []}`)
	res.wantStatus(t, http.StatusOK)
	if got := res.registration(t); got.Status != "confirmed" || got.choices() != "" {
		t.Fatalf("r1: %s %q", got.Status, got.choices())
	}
	if got := a.patch(r4.token(), `{}`).registration(t).choices(); got != "a:confirmed" {
		t.Fatalf("r4 after r1 left: %s", got)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox m JOIN registrations r ON r.id = m.registration_id
WHERE m.kind = 'session_promoted' AND r.email = 'r4@example.org'`); n != 1 {
		t.Fatalf("%d promotion mails to r4", n)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox m JOIN registrations r ON r.id = m.registration_id
WHERE m.kind = 'changed' AND r.email IN ('r1@example.org', 'r3@example.org')`); n != 2 {
		t.Fatalf("%d change mails, want 2", n)
	}
	// Choosing the same again changes nothing and mails nothing.
	before = a.sessionState()
	a.patch(r3.token(), `{"sessions": ["a", "c"]}`).wantStatus(t, http.StatusOK)
	if a.sessionState() != before {
		t.Fatal("the same choice wrote something")
	}

	// r3 (a, c) grows to 2: a (r3, r4) has no room, nothing changes.
	a.patch(r3.token(), `{"party_size": 2}`).apiErr(t, http.StatusConflict, "session_full")
	if a.sessionState() != before {
		t.Fatal("a refused growth wrote something")
	}
	// r4 moves from a to c; now r3 fits.
	a.patch(r4.token(), `{"sessions": ["c"]}`).wantStatus(t, http.StatusOK)
	a.patch(r3.token(), `{"party_size": 2}`).wantStatus(t, http.StatusOK)
	if got := strconv.Itoa(seats("a")) + " " + strconv.Itoa(seats("c")); got != "2 3" {
		t.Fatalf("places in a and c after growing: %s, want 2 3", got)
	}
	// r5 waits for a; r3 shrinks back to 1 and r5 moves up.
	r5 := post("r5@example.org", "a")
	if r5.choices() != "a:waitlisted:1" {
		t.Fatalf("r5: %s", r5.choices())
	}
	a.patch(r3.token(), `{"party_size": 1}`).wantStatus(t, http.StatusOK)
	if got := a.patch(r5.token(), `{}`).registration(t).choices(); got != "a:confirmed" {
		t.Fatalf("r5 after r3 shrank: %s", got)
	}
	if got := strconv.Itoa(seats("a")) + " " + strconv.Itoa(seats("c")); got != "2 2" {
		t.Fatalf("places in a and c after shrinking: %s, want 2 2", got)
	}
	// A counter always equals the places its confirmed choices hold.
	if n := a.count(`SELECT count(*) FROM event_sessions s WHERE seats_confirmed <> (
    SELECT COALESCE(sum(r.party_size), 0) FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
    WHERE rs.session_id = s.id AND rs.status = 'confirmed')`); n != 0 {
		t.Fatalf("%d session counters disagree with their choices", n)
	}
	// Organisers change sessions with the same rules.
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations WHERE email = 'r2@example.org'`); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/orgs/miso/events/konf/registrations/" + strconv.FormatInt(id, 10)
	tok := a.token(o.ID, "organiser")
	a.postJSON(http.MethodPatch, path, tok, `{"sessions": ["a", "b"]}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	res = a.postJSON(http.MethodPatch, path, tok, `{"sessions": ["c"]}`)
	res.wantStatus(t, http.StatusOK)
	if got := res.registration(t).choices(); got != "c:confirmed" || seats("b") != 0 {
		t.Fatalf("organiser's change: %s, b holds %d", got, seats("b"))
	}
}

// A waitlisted registration's new choices are requested, decided when it
// gets its seat.
func TestChangeSessionsOfAWaitlistedRegistration(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.sessionEvent(t, a.org("miso").ID, "konf", func(in *event.Input) { in.Capacity = event.Some(1) })
	first := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions("r1@example.org", "a"))
	first.wantStatus(t, http.StatusCreated)
	w := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions("w@example.org"))
	w.wantStatus(t, http.StatusCreated)
	wait := w.registration(t)
	res := a.patch(wait.token(), `{"sessions": ["a", "c"]}`)
	res.wantStatus(t, http.StatusOK)
	if got := res.registration(t); got.Status != "waitlisted" || got.choices() != "a:requested c:requested" {
		t.Fatalf("waitlisted change: %s %s", got.Status, got.choices())
	}
	a.postJSON(http.MethodPost, "/api/v1/registrations/"+first.registration(t).token()+"/cancel", "", nil).wantStatus(t, http.StatusOK)
	if got := a.patch(wait.token(), `{}`).registration(t); got.Status != "confirmed" || got.choices() != "a:confirmed c:confirmed" {
		t.Fatalf("after promotion: %s %s", got.Status, got.choices())
	}
}

// Two registrations on two instances race via PATCH for the last place of
// a session without a waitlist: exactly one gets it, every round.
func TestChangeSessionsRaceOverTwoInstances(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := &app{App: a.Second(t), t: t}
	a.sessionEvent(t, a.org("miso").ID, "konf", nil)
	var toks [2]string
	for i := range toks {
		r := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions("r"+strconv.Itoa(i)+"@example.org", "c"))
		r.wantStatus(t, http.StatusCreated)
		toks[i] = r.registration(t).token()
	}
	for round := range 5 {
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, ap := range []*app{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = ap.patch(toks[i], `{"sessions": ["b", "c"]}`).Status
			}()
		}
		wg.Wait()
		won := -1
		for i, s := range statuses {
			if s == http.StatusOK {
				won = i
			}
		}
		if !(statuses[0] == http.StatusOK && statuses[1] == http.StatusConflict) && !(statuses[1] == http.StatusOK && statuses[0] == http.StatusConflict) {
			t.Fatalf("round %d: statuses %v, want one 200 and one 409", round, statuses)
		}
		if n := a.count(`SELECT seats_confirmed FROM event_sessions WHERE key = 'b'`); n != 1 {
			t.Fatalf("round %d: b holds %d places, want 1", round, n)
		}
		if n := a.count(`SELECT count(*) FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
WHERE s.key = 'b' AND rs.status = 'confirmed'`); n != 1 {
			t.Fatalf("round %d: %d confirmed in b", round, n)
		}
		// The winner gives b back for the next round.
		a.patch(toks[won], `{"sessions": ["c"]}`).wantStatus(t, http.StatusOK)
	}
}
