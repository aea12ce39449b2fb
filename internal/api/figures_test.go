package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// walkInWorld is an organisation "a" with an event "fest" a week ahead
// (capacity cap, parties of up to 4, waitlist on), a door token, and the
// registration service's clock an hour after the start: the door is open.
type walkInWorld struct {
	*app
	Event *event.Event
	Door  string
	At    time.Time
}

func newWalkInWorld(t *testing.T, capacity int) *walkInWorld {
	a := newApp(t)
	o := a.org("a")
	ev := a.event(o.ID, "fest", func(in *event.Input) { in.Capacity = event.Some(capacity) })
	w := &walkInWorld{app: a, Event: ev, Door: a.token(o.ID, auth.Door), At: ev.StartsAt.Add(time.Hour)}
	a.Registrations.SetClock(func() time.Time { return w.At })
	return w
}

func (w *walkInWorld) walkIn(tok string, body map[string]any) *response {
	w.t.Helper()
	if _, ok := body["event"]; !ok {
		body["event"] = w.Event.Slug
	}
	return w.postJSON(http.MethodPost, "/api/v1/checkin/walkin", tok, body)
}

type walkInAnswer struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	WalkIn    bool   `json:"walk_in"`
	PartySize int    `json:"party_size"`
	Mailed    bool   `json:"mailed"`
	Tickets   []struct {
		Code        string     `json:"code"`
		CheckedInAt *time.Time `json:"checked_in_at"`
	} `json:"tickets"`
}

// A walk-in is a confirmed registration, counted against the capacity,
// its tickets checked in, marked walk_in in the attendee list; mailed only
// when it has an address; audit-logged. A party that does not fit is 409
// full even though the event has a waitlist, and nothing is written.
func TestWalkInIsConfirmedCheckedInAndCounted(t *testing.T) {
	t.Parallel()
	w := newWalkInWorld(t, 4)
	r := w.walkIn(w.Door, map[string]any{"name": "Ayşe Yılmaz", "party_size": 2})
	r.wantStatus(t, http.StatusCreated)
	var got walkInAnswer
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "confirmed" || !got.WalkIn || got.PartySize != 2 || got.Mailed || len(got.Tickets) != 2 {
		t.Fatalf("answer %+v", got)
	}
	for _, tk := range got.Tickets {
		if tk.CheckedInAt == nil || tk.Code == "" {
			t.Fatalf("ticket not checked in: %+v", tk)
		}
	}
	if n := w.count(`SELECT count(*) FROM checkins WHERE event_id = $1 AND undone_at IS NULL`, w.Event.ID); n != 2 {
		t.Fatalf("%d check-ins, want 2", n)
	}
	if n := w.count(`SELECT seats_confirmed FROM events WHERE id = $1`, w.Event.ID); n != 2 {
		t.Fatalf("seats %d, want 2", n)
	}
	if n := w.count(`SELECT count(*) FROM mail_outbox WHERE registration_id = $1`, got.ID); n != 0 {
		t.Fatalf("a walk-in without address got %d mails", n)
	}
	// The door's counter sees them.
	var counts struct {
		CheckedIn int `json:"checked_in"`
	}
	if err := json.Unmarshal(w.get("/api/v1/checkin/counts?event=fest&day="+w.At.In(w.Event.Location()).Format("2006-01-02"), w.Door).Body, &counts); err != nil || counts.CheckedIn != 2 {
		t.Fatalf("door counts %+v %v", counts, err)
	}

	// With an address: the usual confirmation mail.
	r = w.walkIn(w.Door, map[string]any{"name": "Иван Петров", "party_size": 1, "email": "ivan@example.org", "lang": "ru"})
	r.wantStatus(t, http.StatusCreated)
	var second walkInAnswer
	_ = json.Unmarshal(r.Body, &second)
	if !second.Mailed || w.count(`SELECT count(*) FROM mail_outbox WHERE registration_id = $1 AND kind = 'confirmed' AND lang = 'ru'`, second.ID) != 1 {
		t.Fatal("a walk-in with an address got no confirmation mail")
	}
	// The same address again is someone already registered.
	w.walkIn(w.Door, map[string]any{"name": "Ivan", "party_size": 1, "email": "IVAN@example.org"}).apiErr(t, http.StatusConflict, "conflict")

	before := w.count(`SELECT count(*) FROM registrations`)
	// One place left: a party of two is refused, the waitlist is not used.
	w.walkIn(w.Door, map[string]any{"name": "Two", "party_size": 2}).apiErr(t, http.StatusConflict, "full")
	if n := w.count(`SELECT count(*) FROM registrations`); n != before {
		t.Fatalf("a refused walk-in wrote %d registrations", n-before)
	}
	w.walkIn(w.Door, map[string]any{"name": "Last", "party_size": 1}).wantStatus(t, http.StatusCreated)
	w.walkIn(w.Door, map[string]any{"name": "Late", "party_size": 1}).apiErr(t, http.StatusConflict, "full")
	if n := w.count(`SELECT count(*) FROM registrations WHERE status = 'waitlisted'`); n != 0 {
		t.Fatalf("%d walk-ins on the waitlist", n)
	}

	// The attendee list marks them.
	org := w.token(w.Event.OrgID, auth.Organiser)
	var list struct {
		Registrations []struct {
			Name   string `json:"name"`
			WalkIn bool   `json:"walk_in"`
		} `json:"registrations"`
	}
	if err := json.Unmarshal(w.get("/api/v1/orgs/a/events/fest/registrations", org).Body, &list); err != nil || len(list.Registrations) != 3 {
		t.Fatalf("list %+v %v", list, err)
	}
	for _, r := range list.Registrations {
		if !r.WalkIn {
			t.Errorf("%s not marked walk_in", r.Name)
		}
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'walk_in.create' AND target = 'fest' AND org_id = $1`, w.Event.OrgID); n != 3 {
		t.Fatalf("%d audit entries, want 3", n)
	}
	// Each entry names the registration it made by id, as the other
	// actions on one registration do (approve, cancel, erase).
	if n := w.count(`SELECT count(*) FROM audit_log a JOIN registrations r ON r.id = (a.details->>'registration_id')::bigint
WHERE a.action = 'walk_in.create' AND r.walk_in AND r.id IN ($1, $2)`, got.ID, second.ID); n != 2 {
		t.Fatalf("%d walk-in audit entries name their registration, want 2", n)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE details::text LIKE '%Ayşe%' OR details::text LIKE '%ivan%'`); n != 0 {
		t.Fatal("the audit log names a person")
	}
}

// Bad input is a 422 per field and writes nothing; roles and the event's
// organisation decide who may let people in; outside the event's days
// the door is closed.
func TestWalkInRefusals(t *testing.T) {
	t.Parallel()
	w := newWalkInWorld(t, 10)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"empty", map[string]any{}, []string{"name", "party_size"}},
		{"bad email and party", map[string]any{"name": "A", "party_size": 0, "email": "nope"}, []string{"party_size", "email"}},
		{"party too big", map[string]any{"name": "A", "party_size": 5}, []string{"party_size"}},
		{"unknown language", map[string]any{"name": "A", "party_size": 1, "lang": "xx"}, []string{"lang"}},
		{"name with control characters", map[string]any{"name": "A\u0000B", "party_size": 1}, []string{"name"}},
		{"unknown field", map[string]any{"name": "A", "party_size": 1, "seat": 3}, []string{"seat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := w.walkIn(w.Door, tc.body).apiErr(t, http.StatusUnprocessableEntity, "invalid")
			for _, f := range tc.fields {
				if e.Fields[f] == "" {
					t.Errorf("no message for %s: %v", f, e.Fields)
				}
			}
			if len(e.Fields) != len(tc.fields) {
				t.Errorf("fields %v, want %v", e.Fields, tc.fields)
			}
		})
	}
	if n := w.count(`SELECT count(*) FROM registrations`); n != 0 {
		t.Fatalf("refused walk-ins wrote %d registrations", n)
	}
	body := map[string]any{"name": "A", "party_size": 1}
	w.do(request{Method: http.MethodPost, Path: "/api/v1/checkin/walkin", ContentType: "application/json", Body: `{"event":"fest","name":"A","party_size":1}`}).apiErr(t, http.StatusUnauthorized, "unauthorized")
	other := w.org("b")
	w.walkIn(w.token(other.ID, auth.Owner), body).apiErr(t, http.StatusNotFound, "not_found")
	w.walkIn(w.Door, map[string]any{"event": "gibt-es-nicht", "name": "A", "party_size": 1}).apiErr(t, http.StatusNotFound, "not_found")
	// Organisers and owners may stand at the door too.
	w.walkIn(w.token(w.Event.OrgID, auth.Organiser), map[string]any{"name": "B", "party_size": 1}).wantStatus(t, http.StatusCreated)
	// Before the event's first day and after its last: closed.
	w.At = w.Event.StartsAt.Add(-48 * time.Hour)
	w.walkIn(w.Door, map[string]any{"name": "Early", "party_size": 1}).apiErr(t, http.StatusGone, "closed")
	w.At = w.Event.EndsAt.Add(72 * time.Hour)
	w.walkIn(w.Door, map[string]any{"name": "Late", "party_size": 1}).apiErr(t, http.StatusGone, "closed")
	if n := w.count(`SELECT count(*) FROM registrations`); n != 1 {
		t.Fatalf("%d registrations, want 1", n)
	}
}

// Walk-ins for the last places through two app instances, each with its
// own connection pool, in parties of one to three: the hall's capacity
// holds exactly, and every refusal is a 409 full.
func TestWalkInsRacingOverTwoInstancesNeverExceedCapacity(t *testing.T) {
	t.Parallel()
	const capacity = 9
	w := newWalkInWorld(t, capacity)
	second := w.Second(t)
	second.Registrations.SetClock(func() time.Time { return w.At })
	const n = 40
	var wg sync.WaitGroup
	codes := make([]int, n)
	sizes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := w.URL
			if i%2 == 1 {
				base = second.URL
			}
			sizes[i] = 1 + i%3
			b := fmt.Sprintf(`{"event":"fest","name":"Gast %d","party_size":%d}`, i, sizes[i])
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/checkin/walkin", strings.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+w.Door)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	seats := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			seats += sizes[i]
		case http.StatusConflict:
		default:
			t.Errorf("walk-in %d: %d", i, c)
		}
	}
	if seats > capacity {
		t.Fatalf("%d seats given for %d places", seats, capacity)
	}
	if got := w.count(`SELECT seats_confirmed FROM events WHERE id = $1`, w.Event.ID); got != seats {
		t.Fatalf("counter %d, answers %d", got, seats)
	}
	if got := w.count(`SELECT COALESCE(sum(party_size), 0) FROM registrations WHERE event_id = $1 AND status = 'confirmed'`, w.Event.ID); got != seats {
		t.Fatalf("confirmed seats %d, answers %d", got, seats)
	}
	if got := w.count(`SELECT count(*) FROM checkins WHERE event_id = $1`, w.Event.ID); got != seats {
		t.Fatalf("%d check-ins for %d seats", got, seats)
	}
	// Parties of one were among the last: the hall is full to the seat.
	if seats != capacity {
		t.Fatalf("%d of %d places taken although parties of one kept coming", seats, capacity)
	}
}

// Releasing no-shows: not before the start plus after_minutes (409), a
// clear 422 for a bad body, organisers only; then every confirmed
// registration without a check-in is cancelled and mailed, and the
// waitlist moves up in its order in the same transaction.
func TestReleaseNoShowsPromotesTheWaitlistInOrder(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("a")
	ev := a.event(o.ID, "fest", func(in *event.Input) { in.Capacity = event.Some(3) })
	setNow := a.SettableClock()
	a.Checkins.SetClock(func() time.Time { return ev.StartsAt.Add(10 * time.Minute) })
	sign := func(name string, size int) *registration.Registration {
		t.Helper()
		res, err := a.Registrations.SignUp(context.Background(), "fest", registration.SignupInput{
			Name: name, Email: name + "@example.org", PartySize: size, Consent: true, Lang: "de"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Registration
	}
	came, away := sign("came", 1), sign("away", 2)
	big, w1, w2, w3 := sign("big", 3), sign("w1", 1), sign("w2", 1), sign("w3", 1)
	for _, r := range []*registration.Registration{big, w1, w2, w3} {
		if r.Status != registration.Waitlisted {
			t.Fatalf("%s is %s", r.Name, r.Status)
		}
	}
	door := a.token(o.ID, auth.Door)
	if r := a.postJSON(http.MethodPost, "/api/v1/checkin", door, map[string]any{"event": "fest", "code": came.Tickets[0].Code}); r.Status != http.StatusOK {
		t.Fatalf("check-in: %d %s", r.Status, r.Body)
	}
	org := a.token(o.ID, auth.Organiser)
	const path = "/api/v1/orgs/a/events/fest/release-no-shows"
	setNow(ev.StartsAt.Add(29 * time.Minute))
	e := a.postJSON(http.MethodPost, path, org, `{"after_minutes":30}`).apiErr(t, http.StatusConflict, "conflict")
	if e.Message == "" {
		t.Fatal("no message says from when")
	}
	a.postJSON(http.MethodPost, path, org, `{}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	a.postJSON(http.MethodPost, path, org, `{"after_minutes":-1}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	a.postJSON(http.MethodPost, path, org, `{"after_minutes":"30"}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	a.postJSON(http.MethodPost, path, door, `{"after_minutes":30}`).apiErr(t, http.StatusForbidden, "forbidden")
	a.postJSON(http.MethodPost, path, a.token(a.org("b").ID, auth.Owner), `{"after_minutes":30}`).apiErr(t, http.StatusNotFound, "not_found")
	if n := a.count(`SELECT count(*) FROM registrations WHERE status = 'cancelled'`); n != 0 {
		t.Fatalf("refused calls cancelled %d", n)
	}

	setNow(ev.StartsAt.Add(31 * time.Minute))
	r := a.postJSON(http.MethodPost, path, org, `{"after_minutes":30}`)
	r.wantStatus(t, http.StatusOK)
	var got struct {
		Released int `json:"released"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || got.Released != 1 {
		t.Fatalf("answer %s", r.Body)
	}
	status := func(id int64) string {
		var s string
		if err := a.DB.Get(&s, `SELECT status FROM registrations WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Two seats freed: the party of three at the head does not fit, the
	// next two parties of one do, in their order; the third waits.
	for r, want := range map[*registration.Registration]string{came: "confirmed", away: "cancelled", big: "waitlisted", w1: "confirmed", w2: "confirmed", w3: "waitlisted"} {
		if got := status(r.ID); got != want {
			t.Errorf("%s: %s, want %s", r.Name, got, want)
		}
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE id = $1`, ev.ID); n != 3 {
		t.Fatalf("seats %d, want 3", n)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE registration_id = $1 AND kind = 'released'`, away.ID); n != 1 {
		t.Fatal("the released person was not mailed")
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE registration_id = ANY(ARRAY[$1, $2]::bigint[]) AND kind = 'promoted'`, w1.ID, w2.ID); n != 2 {
		t.Fatalf("%d promoted mails, want 2", n)
	}
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'registrations.release_no_shows' AND target = 'fest'`); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
}

// The figures' API: organisers and owners of the organisation see its
// events only, the network admin every organisation's; others are
// refused; a bad period is a 422 per field.
func TestStatsRolesScopeAndPeriod(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso, faust := a.org("miso"), a.org("faust")
	a.event(miso.ID, "konferenz", nil)
	a.event(faust.ID, "fest", nil)
	year := time.Now().AddDate(0, 0, 7).Year()
	q := fmt.Sprintf("?from=%d-01-01&to=%d-12-31", year, year)
	slugs := func(r *response) []string {
		t.Helper()
		r.wantStatus(t, http.StatusOK)
		var st registration.Stats
		if err := json.Unmarshal(r.Body, &struct {
			Events *[]registration.EventFigures `json:"events"`
		}{&st.Events}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range st.Events {
			out = append(out, e.Slug)
		}
		return out
	}
	for _, role := range []string{auth.Organiser, auth.Owner} {
		if got := slugs(a.get("/api/v1/orgs/miso/stats"+q, a.token(miso.ID, role))); len(got) != 1 || got[0] != "konferenz" {
			t.Fatalf("%s sees %v", role, got)
		}
	}
	a.get("/api/v1/orgs/miso/stats"+q, a.token(miso.ID, auth.Door)).apiErr(t, http.StatusForbidden, "forbidden")
	a.get("/api/v1/orgs/miso/stats"+q, a.token(faust.ID, auth.Owner)).apiErr(t, http.StatusNotFound, "not_found")
	a.get("/api/v1/orgs/miso/stats"+q, "").apiErr(t, http.StatusUnauthorized, "unauthorized")
	a.get("/api/v1/stats"+q, a.token(miso.ID, auth.Owner)).apiErr(t, http.StatusForbidden, "forbidden")
	a.get("/api/v1/stats"+q, "").apiErr(t, http.StatusUnauthorized, "unauthorized")
	admin, err := a.Auth.AddAdminToken(t.Context(), faust.ID, "network")
	if err != nil {
		t.Fatal(err)
	}
	if got := slugs(a.get("/api/v1/stats"+q, admin)); len(got) != 2 {
		t.Fatalf("the network sees %v", got)
	}
	tok := a.token(miso.ID, auth.Organiser)
	for _, tc := range []struct{ query, field string }{
		{"?from=gestern", "from"},
		{"?to=2026-13-01", "to"},
		{"?from=2026-05-01&to=2026-04-30", "to"},
		{"?from=2000-01-01&to=2030-01-01", "to"},
	} {
		e := a.get("/api/v1/orgs/miso/stats"+tc.query, tok).apiErr(t, http.StatusUnprocessableEntity, "invalid")
		if e.Fields[tc.field] == "" {
			t.Errorf("%s: fields %v", tc.query, e.Fields)
		}
	}
	// Without a period: the current year.
	a.get("/api/v1/orgs/miso/stats", tok).wantStatus(t, http.StatusOK)
}

// A party with any ticket checked in has come; walk-ins have come by
// definition: neither is released. Calling again releases nobody twice
// and mails nobody twice.
func TestReleaseNoShowsKeepsWhoCame(t *testing.T) {
	t.Parallel()
	w := newWalkInWorld(t, 10)
	w.At = time.Now()
	half := w.Signed(t, "fest", "Halb Da", 2)
	gone := w.Signed(t, "fest", "Nicht Da", 1)
	w.At = w.Event.StartsAt.Add(20 * time.Minute)
	w.Checkins.SetClock(func() time.Time { return w.At })
	if r := w.postJSON(http.MethodPost, "/api/v1/checkin", w.Door, map[string]any{"event": "fest", "code": half.Tickets[1].Code}); r.Status != http.StatusOK {
		t.Fatalf("check-in: %d", r.Status)
	}
	w.walkIn(w.Door, map[string]any{"name": "Gast", "party_size": 3}).wantStatus(t, http.StatusCreated)
	org := w.token(w.Event.OrgID, auth.Organiser)
	w.At = w.Event.StartsAt.Add(time.Hour)
	r := w.postJSON(http.MethodPost, "/api/v1/orgs/a/events/fest/release-no-shows", org, `{"after_minutes":0}`)
	r.wantStatus(t, http.StatusOK)
	if string(r.Body) != `{"released":1}` {
		t.Fatalf("answer %s", r.Body)
	}
	if n := w.count(`SELECT count(*) FROM registrations WHERE status = 'confirmed'`); n != 2 {
		t.Fatalf("%d confirmed, want the half-present party and the walk-in", n)
	}
	if n := w.count(`SELECT count(*) FROM registrations WHERE id = $1 AND status = 'cancelled' AND released_at IS NOT NULL`, gone.ID); n != 1 {
		t.Fatal("the no-show was not released")
	}
	if n := w.count(`SELECT seats_confirmed FROM events WHERE id = $1`, w.Event.ID); n != 5 {
		t.Fatalf("seats %d, want 5", n)
	}
	w.postJSON(http.MethodPost, "/api/v1/orgs/a/events/fest/release-no-shows", org, `{"after_minutes":0}`).wantStatus(t, http.StatusOK)
	if n := w.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'released'`); n != 1 {
		t.Fatalf("%d released mails, want 1", n)
	}
}
