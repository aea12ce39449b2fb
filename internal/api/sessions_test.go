package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

// workshops are three sessions of an event starting at start: two in
// parallel in the first hour (a: 2 places with a waitlist, b: 1 place
// without), one in the second hour (c: unlimited).
func workshops(start time.Time) []map[string]any {
	at := func(h int) string { return start.Add(time.Duration(h) * time.Hour).UTC().Format(time.RFC3339) }
	return []map[string]any{
		{"key": "a", "title": map[string]string{"de": "Workshop A", "en": "Workshop A"}, "starts_at": at(0), "ends_at": at(1), "room": "Raum 1", "capacity": 2},
		{"key": "b", "title": map[string]string{"de": "Workshop B"}, "starts_at": at(0), "ends_at": at(1), "room": "Raum 2", "capacity": 1, "waitlist": false},
		{"key": "c", "title": map[string]string{"de": "Forum C"}, "starts_at": at(1), "ends_at": at(2), "capacity": nil},
	}
}

func sessionsInput(t *testing.T, v any) *[]event.SessionInput {
	t.Helper()
	b, _ := json.Marshal(v)
	var in []event.SessionInput
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	return &in
}

// sessionEvent is an event of capacity 10 with the workshops.
func (a *app) sessionEvent(t *testing.T, orgID int64, slug string, mod func(*event.Input)) *event.Event {
	t.Helper()
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	return a.event(orgID, slug, func(in *event.Input) {
		in.Sessions = sessionsInput(t, workshops(start))
		if mod != nil {
			mod(in)
		}
	})
}

type choice struct {
	Key              string `json:"key"`
	Status           string `json:"status"`
	WaitlistPosition *int   `json:"waitlist_position"`
}

type regAnswer struct {
	Status    string   `json:"status"`
	ManageURL string   `json:"manage_url"`
	Sessions  []choice `json:"sessions"`
}

func (r *response) registration(t *testing.T) regAnswer {
	t.Helper()
	var ra regAnswer
	if err := json.Unmarshal(r.Body, &ra); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	return ra
}

func (ra regAnswer) token() string { return ra.ManageURL[strings.LastIndex(ra.ManageURL, "/")+1:] }

func (ra regAnswer) choices() string {
	var parts []string
	for _, c := range ra.Sessions {
		s := c.Key + ":" + c.Status
		if c.WaitlistPosition != nil {
			s += ":" + string(rune('0'+*c.WaitlistPosition))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func withSessions(email string, keys ...string) map[string]any {
	b := signup(email)
	b["sessions"] = keys
	return b
}

// Every way a session can be wrong is a 422 naming sessions.N.field, on
// create and on change, and nothing is saved.
func TestSessionDefinitionsAreValidatedOnSave(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	a.event(o.ID, "fest", nil)
	start := time.Now().Add(7 * 24 * time.Hour)
	body := eventBody("neu", nil)
	delete(body, "questions")
	body["starts_at"] = start.UTC().Format(time.RFC3339)
	body["ends_at"] = start.Add(3 * time.Hour).UTC().Format(time.RFC3339)
	s := func(mod func(map[string]any)) []map[string]any {
		ws := workshops(start)
		mod(ws[0])
		return ws
	}
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = s(func(m map[string]any) { m["key"] = "k" + strings.Repeat("x", i) })[0]
	}
	cases := []struct {
		name     string
		sessions any
		field    string
	}{
		{"no key", s(func(m map[string]any) { delete(m, "key") }), "sessions.0.key"},
		{"key not slug-like", s(func(m map[string]any) { m["key"] = "Work Shop" }), "sessions.0.key"},
		{"keys not unique", s(func(m map[string]any) { m["key"] = "b" }), "sessions.1.key"},
		{"no title in default language", s(func(m map[string]any) { m["title"] = map[string]string{"en": "A"} }), "sessions.0.title"},
		{"no start", s(func(m map[string]any) { delete(m, "starts_at") }), "sessions.0.starts_at"},
		{"starts before the event", s(func(m map[string]any) { m["starts_at"] = start.Add(-time.Hour).UTC().Format(time.RFC3339) }), "sessions.0.starts_at"},
		{"ends after the event", s(func(m map[string]any) { m["ends_at"] = start.Add(4 * time.Hour).UTC().Format(time.RFC3339) }), "sessions.0.ends_at"},
		{"ends before it starts", s(func(m map[string]any) { m["ends_at"] = start.Add(-time.Minute).UTC().Format(time.RFC3339) }), "sessions.0.ends_at"},
		{"negative capacity", s(func(m map[string]any) { m["capacity"] = -1 }), "sessions.0.capacity"},
		{"unknown status", s(func(m map[string]any) { m["status"] = "full" }), "sessions.0.status"},
		{"room with control character", s(func(m map[string]any) { m["room"] = "R\x07" }), "sessions.0.room"},
		{"too many sessions", many, "sessions"},
		{"unknown field", s(func(m map[string]any) { m["places"] = 3 }), "sessions.places"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			b["sessions"] = tc.sessions
			r := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events", tok, b)
			e := r.apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if e.Fields[tc.field] == "" {
				t.Fatalf("create: field %s not named: %v", tc.field, e.Fields)
			}
		})
	}
	r := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/fest", tok, map[string]any{"max_sessions": 0})
	if e := r.apiErr(t, http.StatusUnprocessableEntity, "invalid"); e.Fields["max_sessions"] == "" {
		t.Fatalf("max_sessions not named: %v", e.Fields)
	}
	if n := a.count(`SELECT count(*) FROM event_sessions`); n != 0 {
		t.Fatalf("%d sessions saved", n)
	}
}

// Sessions are saved in order and shown with their places by the public
// detail and with counts to the organisers; a PATCH replaces the list by
// key; an event moved so that a session falls outside is refused; a
// session with registrations cannot be dropped, only cancelled.
func TestSessionsRoundTripThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	e := a.sessionEvent(t, o.ID, "konf", func(in *event.Input) { in.MaxSessions = event.Some(2) })

	var pub struct {
		MaxSessions *int `json:"max_sessions"`
		Sessions    []struct {
			Key       string `json:"key"`
			SeatsLeft *int   `json:"seats_left"`
			Status    string `json:"status"`
			Room      string `json:"room"`
		} `json:"sessions"`
	}
	r := a.get("/api/v1/events/konf", "")
	r.wantStatus(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &pub); err != nil {
		t.Fatal(err)
	}
	if len(pub.Sessions) != 3 || pub.Sessions[0].Key != "a" || *pub.Sessions[0].SeatsLeft != 2 || pub.Sessions[2].SeatsLeft != nil ||
		pub.Sessions[1].Status != "active" || pub.Sessions[0].Room != "Raum 1" || pub.MaxSessions == nil || *pub.MaxSessions != 2 {
		t.Fatalf("public sessions: %s", r.Body)
	}

	a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions("ayse@example.org", "a")).wantStatus(t, http.StatusCreated)
	var staff struct {
		Sessions []struct {
			Key            string `json:"key"`
			SeatsConfirmed int    `json:"seats_confirmed"`
			Confirmed      int    `json:"confirmed"`
		} `json:"sessions"`
	}
	r = a.get("/api/v1/orgs/miso/events/konf", tok)
	if err := json.Unmarshal(r.Body, &staff); err != nil {
		t.Fatal(err)
	}
	if staff.Sessions[0].SeatsConfirmed != 1 || staff.Sessions[0].Confirmed != 1 {
		t.Fatalf("staff counts: %s", r.Body)
	}

	ws := workshops(e.StartsAt)
	// Dropping a, which has a registration: refused, named by its place.
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{"sessions": ws[1:]})
	if f := r.apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["sessions.0"] == "" {
		t.Fatalf("dropping a session with registrations: %v", f)
	}
	// Moving the event away from its sessions: refused.
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{
		"starts_at": e.StartsAt.Add(time.Hour).UTC().Format(time.RFC3339)})
	if f := r.apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["sessions.0.starts_at"] == "" {
		t.Fatalf("event moved off its sessions: %v", f)
	}
	// Capacity under the places taken: refused.
	ws[0]["capacity"] = 0
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{"sessions": ws})
	if f := r.apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["sessions.0.capacity"] == "" {
		t.Fatalf("capacity below taken: %v", f)
	}
	// Drop b (no registrations), rename a, cancel c, reorder.
	ws[0]["capacity"] = 5
	ws[0]["title"] = map[string]string{"de": "Workshop A neu"}
	ws[2]["status"] = "cancelled"
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{"sessions": []map[string]any{ws[2], ws[0]}})
	r.wantStatus(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &staff); err != nil {
		t.Fatal(err)
	}
	if len(staff.Sessions) != 2 || staff.Sessions[0].Key != "c" || staff.Sessions[1].Key != "a" || staff.Sessions[1].SeatsConfirmed != 1 {
		t.Fatalf("after PATCH: %s", r.Body)
	}
	// A cancelled session stays cancelled.
	ws[2]["status"] = "active"
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{"sessions": []map[string]any{ws[2], ws[0]}})
	if f := r.apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["sessions.0.status"] == "" {
		t.Fatalf("reopening: %v", f)
	}
	// A PATCH without sessions keeps them.
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{"capacity": 20}).wantStatus(t, http.StatusOK)
	if n := a.count(`SELECT count(*) FROM event_sessions WHERE event_id = $1`, e.ID); n != 2 {
		t.Fatalf("%d sessions after a PATCH without them", n)
	}
}

// A sign-up chooses sessions: bad choices are 422 naming sessions, a full
// session without a waitlist is 409 session_full with nothing written, a
// full one with a waitlist waits in order, and a registration on the
// event's waitlist only requests its sessions.
func TestSignupChoosesSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.sessionEvent(t, o.ID, "konf", func(in *event.Input) { in.MaxSessions = event.Some(2); in.Capacity = event.Some(5) })
	post := func(b map[string]any) *response {
		return a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", b)
	}
	for name, keys := range map[string][]string{
		"unknown key": {"zz"}, "overlapping": {"a", "b"}, "more than max_sessions": {"a", "c", "b"},
	} {
		if f := post(withSessions("x@example.org", keys...)).apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["sessions"] == "" {
			t.Fatalf("%s: %v", name, f)
		}
	}
	first := post(withSessions("b1@example.org", "b", "c"))
	first.wantStatus(t, http.StatusCreated)
	if got := first.registration(t).choices(); got != "b:confirmed c:confirmed" {
		t.Fatalf("first: %s", got)
	}
	before := a.count(`SELECT count(*) FROM registrations`)
	e := post(withSessions("b2@example.org", "c", "b")).apiErr(t, http.StatusConflict, "session_full")
	if !strings.Contains(e.Fields["sessions"], "b") {
		t.Fatalf("session_full does not name the key: %+v", e)
	}
	if n := a.count(`SELECT count(*) FROM registrations`); n != before {
		t.Fatal("a refused sign-up was written")
	}
	// a: 2 places; a party of 2 takes both, the next waits.
	big := withSessions("a1@example.org", "a")
	big["party_size"] = 2
	if got := post(big).registration(t).choices(); got != "a:confirmed" {
		t.Fatalf("a1: %s", got)
	}
	w1 := post(withSessions("a2@example.org", "a")).registration(t)
	w2 := post(withSessions("a3@example.org", "a", "c")).registration(t)
	if w1.choices() != "a:waitlisted:1" || w2.choices() != "a:waitlisted:2 c:confirmed" {
		t.Fatalf("waitlist: %s / %s", w1.choices(), w2.choices())
	}
	// The event is full now (5): the next is waitlisted and only requests.
	ev := post(withSessions("late@example.org", "c")).registration(t)
	if ev.Status != "waitlisted" || ev.choices() != "c:requested" {
		t.Fatalf("event waitlist: %s %s", ev.Status, ev.choices())
	}
	if n := a.count(`SELECT seats_confirmed FROM event_sessions WHERE key = 'c'`); n != 2 {
		t.Fatalf("c holds %d places, want 2", n)
	}
}

// Cancelling a registration frees its session places and moves each
// session's waitlist in the same transaction; leaving one session does the
// same for that session; a waitlisted registration's choices are decided
// when it is promoted.
func TestCancellingFreesSessionPlaces(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.sessionEvent(t, o.ID, "konf", func(in *event.Input) { in.Capacity = event.Some(4) })
	post := func(email string, keys ...string) regAnswer {
		r := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions(email, keys...))
		r.wantStatus(t, http.StatusCreated)
		return r.registration(t)
	}
	r1 := post("r1@example.org", "a", "c")
	post("r2@example.org", "a")
	r3 := post("r3@example.org", "a")
	r4 := post("r4@example.org", "a")
	r5 := post("r5@example.org", "a", "c") // event full: waitlisted
	if r3.choices() != "a:waitlisted:1" || r4.choices() != "a:waitlisted:2" || r5.Status != "waitlisted" {
		t.Fatalf("setup: %s / %s / %s", r3.choices(), r4.choices(), r5.Status)
	}
	cancel := a.postJSON(http.MethodPost, "/api/v1/registrations/"+r1.token()+"/cancel", "", nil)
	cancel.wantStatus(t, http.StatusOK)
	if got := cancel.registration(t).choices(); got != "" {
		t.Fatalf("a cancelled registration still shows sessions: %s", got)
	}
	// r3 got r1's place in a; r5 got r1's seat in the event and then asks
	// for a, full: it waits behind r4.
	status := func(email, key string) string {
		var s string
		if err := a.DB.Get(&s, `SELECT rs.status FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
JOIN event_sessions s ON s.id = rs.session_id WHERE r.email = $1 AND s.key = $2`, email, key); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := status("r3@example.org", "a"); got != "confirmed" {
		t.Fatalf("r3 in a: %s", got)
	}
	if got := status("r5@example.org", "a") + " " + status("r5@example.org", "c"); got != "waitlisted confirmed" {
		t.Fatalf("r5: %s", got)
	}
	// r3 leaves a: r4 moves up; twice is harmless; a session not chosen is 404.
	leave := func(tok, key string) *response {
		return a.postJSON(http.MethodPost, "/api/v1/registrations/"+tok+"/sessions/"+key+"/cancel", "", nil)
	}
	l := leave(r4.token(), "c")
	l.apiErr(t, http.StatusNotFound, "not_found")
	l = leave(r3.token(), "a")
	l.wantStatus(t, http.StatusOK)
	if got := l.registration(t).choices(); got != "" {
		t.Fatalf("after leaving: %s", got)
	}
	leave(r3.token(), "a").wantStatus(t, http.StatusOK)
	if got := status("r4@example.org", "a"); got != "confirmed" {
		t.Fatalf("r4 in a: %s", got)
	}
	if n := a.count(`SELECT seats_confirmed FROM event_sessions WHERE key = 'a'`); n != 2 {
		t.Fatalf("a holds %d places", n)
	}
	// Each promotion in a session was mailed: r3 (after r1 left), r4.
	if n := a.count(`SELECT count(*) FROM mail_outbox m JOIN registrations r ON r.id = m.registration_id
WHERE m.kind = 'session_promoted' AND r.email IN ('r3@example.org', 'r4@example.org')`); n != 2 {
		t.Fatalf("%d session promotions mailed, want 2", n)
	}
}

// Cancelling a session in a PATCH tells its people by mail, and only them.
func TestCancellingASessionMailsItsPeople(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	e := a.sessionEvent(t, o.ID, "konf", nil)
	for _, b := range []map[string]any{withSessions("in-a@example.org", "a"), withSessions("in-c@example.org", "c"), signup("none@example.org")} {
		a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", b).wantStatus(t, http.StatusCreated)
	}
	ws := workshops(e.StartsAt)
	ws[0]["status"] = "cancelled"
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konf", tok, map[string]any{"sessions": ws}).wantStatus(t, http.StatusOK)
	var got []string
	if err := a.DB.Select(&got, `SELECT r.email FROM mail_outbox m JOIN registrations r ON r.id = m.registration_id
WHERE m.kind = 'session_cancelled'`); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "in-a@example.org" {
		t.Fatalf("session_cancelled went to %v", got)
	}
	// A cancelled session can no longer be chosen.
	if f := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions("late@example.org", "a")).
		apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["sessions"] == "" {
		t.Fatalf("cancelled session chosen: %v", f)
	}
}

// A workshop has its own list: the registrations that chose it, each as in
// the event's list with its standing in the session; the event's list and
// CSV carry the sessions too.
func TestSessionListsForOrganisers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	a.sessionEvent(t, o.ID, "konf", nil)
	for _, b := range []map[string]any{withSessions("x1@example.org", "a", "c"), withSessions("x2@example.org", "a"),
		withSessions("x3@example.org", "a"), withSessions("x4@example.org", "c")} {
		a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", b).wantStatus(t, http.StatusCreated)
	}
	var list struct {
		Registrations []struct {
			Email                   string   `json:"email"`
			Status                  string   `json:"status"`
			Sessions                []choice `json:"sessions"`
			SessionStatus           string   `json:"session_status"`
			SessionWaitlistPosition *int     `json:"session_waitlist_position"`
		} `json:"registrations"`
	}
	r := a.get("/api/v1/orgs/miso/events/konf/sessions/a/registrations", tok)
	r.wantStatus(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list.Registrations {
		s := e.Email + ":" + e.SessionStatus
		if e.SessionWaitlistPosition != nil {
			s += ":" + string(rune('0'+*e.SessionWaitlistPosition))
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "x1@example.org:confirmed x2@example.org:confirmed x3@example.org:waitlisted:1" {
		t.Fatalf("session list: %v", got)
	}
	if len(list.Registrations[0].Sessions) != 2 || list.Registrations[0].Status != "confirmed" {
		t.Fatalf("an entry lacks what the event's list has: %s", r.Body)
	}
	r = a.get("/api/v1/orgs/miso/events/konf/sessions/a/registrations.csv", tok)
	r.wantStatus(t, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(rows[0], ",")
	if !strings.HasSuffix(head, ",sessions,session_status,session_waitlist_position") || len(rows) != 4 {
		t.Fatalf("session CSV: %q, %d rows", head, len(rows))
	}
	if last := rows[3]; last[len(last)-2] != "waitlisted" || last[len(last)-1] != "1" || last[len(last)-3] != "a (waitlist 1)" {
		t.Fatalf("session CSV row: %q", last)
	}
	r = a.get("/api/v1/orgs/miso/events/konf/registrations.csv", tok)
	if !strings.Contains(string(r.Body), `"a, c"`) {
		t.Fatalf("event CSV lacks the sessions column:\n%s", r.Body)
	}
	a.get("/api/v1/orgs/miso/events/konf/sessions/zz/registrations", tok).apiErr(t, http.StatusNotFound, "not_found")
	a.get("/api/v1/orgs/miso/events/konf/sessions/a/registrations", "").apiErr(t, http.StatusUnauthorized, "unauthorized")
}

// At a session's door a ticket is admitted once; a holder without a place
// in the session is not_in_session; the event's own door is separate.
func TestCheckinAtASessionsDoor(t *testing.T) {
	t.Parallel()
	d := newDoor(t, func(in *event.Input) {
		start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
		in.Sessions = sessionsInput(t, workshops(start))
	})
	post := func(b map[string]any) string {
		r := d.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "", b)
		r.wantStatus(t, http.StatusCreated)
		var ans struct {
			Tickets []struct {
				Code string `json:"code"`
			} `json:"tickets"`
		}
		if err := json.Unmarshal(r.Body, &ans); err != nil {
			t.Fatal(err)
		}
		return ans.Tickets[0].Code
	}
	in := post(withSessions("in@example.org", "a"))
	post(withSessions("second@example.org", "a"))
	waiting := post(withSessions("waiting@example.org", "a")) // a has 2 places
	other := post(withSessions("other@example.org", "c"))
	for _, tc := range []struct {
		code, want string
	}{
		{in, "ok"}, {in, "already_checked_in"}, {other, "not_in_session"}, {waiting, "not_in_session"}, {"NOSUCHCODE", "unknown"},
	} {
		if got := d.scan(map[string]any{"code": tc.code, "session": "a"}); got.Result != tc.want {
			t.Fatalf("session scan of %s: %s, want %s", tc.code, got.Result, tc.want)
		}
	}
	if got := d.scan(map[string]any{"code": in}); got.Result != "ok" {
		t.Fatalf("the event's door after the session's: %s", got.Result)
	}
	if got := d.scan(map[string]any{"code": other, "session": "c"}); got.Result != "ok" {
		t.Fatalf("other in c: %s", got.Result)
	}
	if n := d.count(`SELECT count(*) FROM session_checkins`); n != 2 {
		t.Fatalf("%d session check-ins, want 2", n)
	}
	if n := d.count(`SELECT count(*) FROM checkin_scans WHERE session_id IS NOT NULL`); n != 6 {
		t.Fatalf("%d session scans logged, want 6", n)
	}
	for _, key := range []string{"zz", "a\x00", strings.Repeat("k", 300), "A B"} {
		r := d.postJSON(http.MethodPost, "/api/v1/checkin", d.Tok, map[string]any{"code": in, "event": "fest", "session": key})
		if f := r.apiErr(t, http.StatusUnprocessableEntity, "invalid").Fields; f["session"] == "" {
			t.Fatalf("session %q: %v", key, f)
		}
	}
}
