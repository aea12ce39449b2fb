package web_test

import (
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// sessionsEvent has two workshops in parallel (a: 1 place with a
// waitlist, b: 1 place without) and a forum after them (c, unlimited).
func sessionsEvent(t *testing.T, a *testapp.App, slug string) *event.Event {
	t.Helper()
	return a.Event(t, a.Org(t, "miso"), slug, func(in *event.Input) {
		start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
		h := func(n int) *time.Time { return new(start.Add(time.Duration(n) * time.Hour)) }
		one := 1
		in.Sessions = &[]event.SessionInput{
			{Key: "a", Title: event.Texts{"de": "Workshop Antirassismus"}, StartsAt: h(0), EndsAt: h(1), Room: "Raum 1", Capacity: &one},
			{Key: "b", Title: event.Texts{"de": "Workshop Beratung"}, StartsAt: h(0), EndsAt: h(1), Room: "Raum 2", Capacity: &one, Waitlist: new(false)},
			{Key: "c", Title: event.Texts{"de": "Forum"}, StartsAt: h(1), EndsAt: h(2)},
		}
	})
}

// The event page lists the sessions with time, room and places; the form
// offers them as checkboxes; a sign-up through the form holds its places,
// and the registration page lists them with a button to leave one.
func TestFormChoosesSessions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	sessionsEvent(t, a, "konf")
	b := a.Browser(t)
	_, page := b.Get("/events/konf")
	for _, want := range []string{
		`<h2 id="programme-h">Programm</h2>`, "Workshop Antirassismus", "Raum 1", "1 Platz frei",
		`id="f-session-a" name="session" type="checkbox" value="a"`,
		`id="f-session-c" name="session" type="checkbox" value="c"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("event page lacks %s", want)
		}
	}
	form := url.Values{"name": {"Ayla"}, "email": {"ayla@example.org"}, "consent": {"yes"}, "session": {"a", "c"}}
	resp, _ := b.Post("/events/konf", "/events/konf/register", form)
	regPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(regPath, "/r/") {
		t.Fatalf("sign-up: %d %s", resp.StatusCode, regPath)
	}
	_, body := b.Get(regPath)
	for _, want := range []string{`<h2 id="sessions-h">Deine Programmpunkte</h2>`, "Workshop Antirassismus", "Forum", "Platz sicher",
		`/sessions/a/cancel"`} {
		if !strings.Contains(body, want) {
			t.Errorf("registration page lacks %s", want)
		}
	}
	// a is full now (with a waitlist), b has no waitlist.
	_, page = b.Get("/events/konf")
	if !strings.Contains(page, "Warteliste") {
		t.Errorf("a full session with a waitlist is not shown as such")
	}
	// Leaving a through the button frees its place.
	resp, _ = a.Browser(t).Post(regPath, regPath+"/sessions/a/cancel", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != regPath+"#sessions" {
		t.Fatalf("leaving: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// (The change form still offers it: only the list of choices counts.)
	if _, body = b.Get(regPath); strings.Contains(body, `/sessions/a/cancel"`) || strings.Contains(body, `value="a" checked`) {
		t.Fatal("a session left is still listed")
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'a'`); n != 0 {
		t.Fatalf("a holds %d places after leaving", n)
	}
}

// The server refuses through the form what the checkboxes allow but the
// rules do not: overlapping sessions mark the sessions field; a full
// session without a waitlist is told, keeping what was entered; nothing
// is written.
func TestFormRefusesBadSessionChoices(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	sessionsEvent(t, a, "konf")
	if resp, _ := a.Browser(t).Post("/events/konf", "/events/konf/register",
		url.Values{"name": {"Erste"}, "email": {"erste@example.org"}, "consent": {"yes"}, "session": {"b"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-up: %d", resp.StatusCode)
	}
	before := a.Count(t, `SELECT count(*) FROM registrations`)
	for name, tc := range map[string]struct {
		keys   []string
		status int
		text   string
	}{
		"overlapping": {[]string{"a", "b"}, http.StatusUnprocessableEntity, "gleichzeitig"},
		"unknown":     {[]string{"zz"}, http.StatusUnprocessableEntity, "zz"},
		"full":        {[]string{"b", "c"}, http.StatusConflict, "ausgebucht"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := a.Browser(t).Post("/events/konf", "/events/konf/register",
				url.Values{"name": {"Zweite"}, "email": {"zweite@example.org"}, "consent": {"yes"}, "session": tc.keys})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !strings.Contains(body, `id="e-sessions"`) || !strings.Contains(body, `href="#f-sessions"`) || !strings.Contains(body, tc.text) {
				t.Fatalf("sessions field not marked with %q", tc.text)
			}
			if !strings.Contains(body, `value="Zweite"`) {
				t.Errorf("the name was not kept")
			}
			if n := a.Count(t, `SELECT count(*) FROM registrations`); n != before {
				t.Fatalf("%d registrations written", n-before)
			}
		})
	}
}

// The sessions editor saves in the positions typed, shows the saved
// sessions with two spare ones, marks each bad field on its slot, refuses
// to remove a session with registrations, and cancels one.
func TestSessionsEditorSavesValidatesAndCancels(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	e := w.Event(t, w.A.Org, "konf", nil)
	c := w.client(w.A.Organiser)
	path := "/admin/orgs/a/events/konf/sessions"
	_, _, page := c.do(http.MethodGet, path)
	if !strings.Contains(page, `name="s0_key"`) || !strings.Contains(page, `name="s1_key"`) || strings.Contains(page, `name="s2_key"`) {
		t.Fatalf("a new event's editor does not offer two empty sessions")
	}
	loc := e.Location()
	at := func(h int) string {
		return e.StartsAt.Add(time.Duration(h) * time.Hour).In(loc).Format("2006-01-02T15:04")
	}
	form := func() url.Values {
		return url.Values{"count": {"2"}, "max_sessions": {"1"},
			"s0_pos": {"2"}, "s0_key": {"forum"}, "s0_starts": {at(1)}, "s0_ends": {at(2)}, "s0_title_de": {"Forum"}, "s0_waitlist": {"yes"},
			"s1_pos": {"1"}, "s1_key": {"tanz"}, "s1_starts": {at(0)}, "s1_ends": {at(1)}, "s1_capacity": {"12"}, "s1_room": {"Saal 2"},
			"s1_title_de": {"Tanzworkshop"}, "s1_title_ar": {"ورشة رقص"},
		}
	}
	if resp, _ := c.post(path, form()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: status %d", resp.StatusCode)
	}
	got, err := w.Events.Get(t.Context(), e.Slug)
	if err != nil {
		t.Fatal(err)
	}
	ss := got.Sessions
	if len(ss) != 2 || ss[0].Key != "tanz" || ss[1].Key != "forum" || *ss[0].Capacity != 12 || ss[1].Capacity != nil ||
		ss[0].Title["ar"] != "ورشة رقص" || ss[0].Waitlist || !ss[1].Waitlist || ss[0].Room != "Saal 2" ||
		!ss[0].StartsAt.Equal(e.StartsAt) || got.MaxSessions == nil || *got.MaxSessions != 1 {
		t.Fatalf("saved %+v, max %v", ss, got.MaxSessions)
	}
	_, _, page = c.do(http.MethodGet, path)
	if !strings.Contains(page, `value="tanz"`) || !strings.Contains(page, `name="s3_key"`) || !strings.Contains(page, `lang="ar" dir="rtl" value="ورشة رقص"`) {
		t.Fatalf("the editor does not show the saved sessions and two spare ones")
	}

	cases := []struct {
		name   string
		change func(url.Values)
		field  string
	}{
		{"bad key", func(v url.Values) { v.Set("s0_key", "Forum!") }, "s0_key"},
		{"same key twice", func(v url.Values) { v.Set("s0_key", "tanz") }, "s0_key"},
		{"before the event", func(v url.Values) { v.Set("s1_starts", at(-1)) }, "s1_starts"},
		{"after the event", func(v url.Values) { v.Set("s0_ends", at(5)) }, "s0_ends"},
		{"no time", func(v url.Values) { v.Del("s0_starts") }, "s0_starts"},
		{"unreadable time", func(v url.Values) { v.Set("s0_starts", "morgen") }, "s0_starts"},
		{"no default title", func(v url.Values) { v.Del("s1_title_de") }, "s1_title_de"},
		{"capacity in words", func(v url.Values) { v.Set("s1_capacity", "zwölf") }, "s1_capacity"},
		{"max out of range", func(v url.Values) { v.Set("max_sessions", "0") }, "max_sessions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := form()
			tc.change(v)
			resp, body := c.post(path, v)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, `href="#f-`+tc.field+`"`) {
				t.Fatalf("field %s not marked and linked", tc.field)
			}
		})
	}

	// Someone chose tanz: it cannot be removed, only cancelled.
	if _, err := w.Registrations.SignUp(t.Context(), e.Slug, registration.SignupInput{Name: "Ayla", Email: "ayla@example.org",
		PartySize: 1, Consent: true, Sessions: []string{"tanz"}}); err != nil {
		t.Fatal(err)
	}
	stored := func() url.Values { // as the page numbers them now: tanz is s0
		v := form()
		for _, k := range []string{"pos", "key", "starts", "ends", "capacity", "room", "title_de", "title_ar", "waitlist"} {
			a, b := v.Get("s0_"+k), v.Get("s1_"+k)
			v.Del("s0_" + k)
			v.Del("s1_" + k)
			if b != "" {
				v.Set("s0_"+k, b)
			}
			if a != "" {
				v.Set("s1_"+k, a)
			}
		}
		return v
	}
	v := stored()
	v.Set("s0_remove", "yes")
	resp, body := c.post(path, v)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-s0_remove"`) {
		t.Fatalf("removing a session with registrations: status %d", resp.StatusCode)
	}
	v = stored()
	v.Set("s0_cancelled", "yes")
	if resp, _ := c.post(path, v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: status %d", resp.StatusCode)
	}
	if n := w.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'session_cancelled'`); n != 1 {
		t.Fatalf("%d session_cancelled mails, want 1", n)
	}
	_, _, page = c.do(http.MethodGet, "/admin/orgs/a/events/konf")
	if !strings.Contains(page, `id="to-sessions"`) {
		t.Fatalf("the event editor does not link the sessions")
	}
}

// The organisers see the per-session counts in their event list and on the
// attendee list, which filters by session; its exports follow the filter
// and carry the sessions column.
func TestAttendeeListFiltersBySession(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	e := w.Event(t, w.A.Org, "konf", func(in *event.Input) {
		start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
		two := 2
		in.Sessions = &[]event.SessionInput{
			{Key: "tanz", Title: event.Texts{"de": "Tanzworkshop"}, StartsAt: &start, EndsAt: new(start.Add(time.Hour)), Capacity: &two},
			{Key: "forum", Title: event.Texts{"de": "Forum"}, StartsAt: new(start.Add(time.Hour)), EndsAt: new(start.Add(2 * time.Hour))},
		}
	})
	for i, keys := range [][]string{{"tanz"}, {"tanz", "forum"}, {"forum"}, {"tanz"}} {
		if _, err := w.Registrations.SignUp(t.Context(), e.Slug, registration.SignupInput{Name: "Person " + string(rune('A'+i)),
			Email: string(rune('a'+i)) + "@example.org", PartySize: 1, Consent: true, Sessions: keys}); err != nil {
			t.Fatal(err)
		}
	}
	c := w.client(w.A.Organiser)
	_, _, page := c.do(http.MethodGet, "/admin/orgs/a")
	if !strings.Contains(page, `<li data-session="tanz">Tanzworkshop: 2 / 2 (+1)</li>`) {
		t.Fatalf("the event list lacks the session counts")
	}
	_, _, page = c.do(http.MethodGet, "/admin/orgs/a/events/konf/registrations?session=forum")
	if !strings.Contains(page, "Person B") || !strings.Contains(page, "Person C") || strings.Contains(page, "Person A") ||
		!strings.Contains(page, `<option value="forum" selected>`) || !strings.Contains(page, `id="session-counts"`) {
		t.Fatalf("the attendee list does not filter by session")
	}
	_, _, page = c.do(http.MethodGet, "/admin/orgs/a/events/konf/registrations?session=tanz")
	if !strings.Contains(page, "tanz (Warteliste, Platz 1)") {
		t.Fatalf("the attendee list does not show the session waitlist")
	}
	_, _, csvBody := c.do(http.MethodGet, "/admin/orgs/a/events/konf/registrations.csv?session=forum")
	if !strings.Contains(csvBody, ",sessions\r\n") || strings.Count(csvBody, "\r\n") != 3 || !strings.Contains(csvBody, `"tanz, forum"`) {
		t.Fatalf("the CSV does not follow the filter or lacks the sessions:\n%s", csvBody)
	}
}

// The door page lets staff pick a session; the scanner then sends it with
// every scan, and the page knows the not_in_session verdict.
func TestDoorPagePicksASession(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	w.Event(t, w.A.Org, "konf", func(in *event.Input) {
		in.Sessions = &[]event.SessionInput{{Key: "tanz", Title: event.Texts{"de": "Tanzworkshop"}, StartsAt: &start, EndsAt: new(start.Add(time.Hour))}}
	})
	c := w.client(w.A.Door)
	_, _, page := c.do(http.MethodGet, "/checkin/events/konf")
	if !strings.Contains(page, `<option value="tanz">Tanzworkshop`) || !strings.Contains(page, `data-session=""`) {
		t.Fatalf("the door page offers no session")
	}
	_, _, page = c.do(http.MethodGet, "/checkin/events/konf?session=tanz")
	if !strings.Contains(page, `data-session="tanz"`) || !strings.Contains(page, `<option value="tanz" selected>`) ||
		!strings.Contains(page, `data-msg-not_in_session="Nicht in diesem Programmpunkt"`) {
		t.Fatalf("the door page did not pick the session")
	}
	if _, _, page = c.do(http.MethodGet, "/checkin/events/konf?session=zz"); !strings.Contains(page, `data-session=""`) {
		t.Fatalf("an unknown session was picked")
	}
}

// The personal feed has one VEVENT per session its holder has a place in,
// with a UID of its own that stays; moving the session raises its
// SEQUENCE and changes the ETag; leaving it takes it out; a waitlisted
// choice has none. The feed passes the independent validators (vobject,
// ical.js) when they are installed.
func TestPersonalFeedHasOneVEventPerSession(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	e := sessionsEvent(t, a, "konf")
	if _, err := a.Registrations.SignUp(t.Context(), "konf", registration.SignupInput{Name: "Erste", Email: "first@example.org",
		PartySize: 1, Consent: true, Sessions: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Registrations.SignUp(t.Context(), "konf", registration.SignupInput{Name: "Ayşe", Email: "ayse@example.org",
		PartySize: 1, Consent: true, Sessions: []string{"a", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Registration
	b := a.Browser(t)
	calendarButton(t, b, r.ManageToken, "create")
	token, _ := personalLink(t, b, r.ManageToken)
	path := "/feeds/" + token + ".ics"
	uids := func() (map[string]*ics.VEvent, string) {
		resp, cal := feed(t, a, path)
		out := map[string]*ics.VEvent{}
		for _, v := range cal.Events() {
			out[prop(v, ics.ComponentPropertyUniqueId)] = v
		}
		return out, resp.Header.Get("ETag")
	}
	c := e.Sessions.ByKey("c")
	host := strings.Split(a.URL, "://")[1]
	cUID := "session-" + itoa(int(c.ID)) + "@" + host
	got, etag := uids()
	// The event and c: a is full, so the second person waits for it.
	if len(got) != 2 || got[cUID] == nil || got["event-"+itoa(int(e.ID))+"@"+host] == nil {
		t.Fatalf("VEVENTs %v, want the event and session c", keys(got))
	}
	v := got[cUID]
	if s := prop(v, ics.ComponentPropertySummary); s != "Forum · Konferenz konf" && !strings.HasPrefix(s, "Forum · ") {
		t.Errorf("SUMMARY %q", s)
	}
	if prop(v, ics.ComponentPropertyDtStart) != c.StartsAt.UTC().Format("20060102T150405Z") {
		t.Errorf("DTSTART %q", prop(v, ics.ComponentPropertyDtStart))
	}
	seq := prop(v, ics.ComponentPropertySequence)

	// Move c by an hour: same UID, higher SEQUENCE, new ETag.
	ws := []event.SessionInput{}
	for _, s := range e.Sessions {
		in := event.SessionInput{Key: s.Key, Title: s.Title, StartsAt: new(s.StartsAt), EndsAt: new(s.EndsAt), Room: s.Room, Capacity: s.Capacity, Waitlist: new(s.Waitlist)}
		if s.Key == "c" {
			in.StartsAt, in.EndsAt = new(s.StartsAt.Add(30*time.Minute)), new(s.EndsAt.Add(30*time.Minute))
		}
		ws = append(ws, in)
	}
	if _, err := a.Events.Update(t.Context(), e.OrgID, "konf", event.Input{Sessions: &ws}); err != nil {
		t.Fatal(err)
	}
	got, etag2 := uids()
	if v := got[cUID]; v == nil || prop(v, ics.ComponentPropertySequence) <= seq || etag2 == etag {
		t.Fatalf("after moving c: SEQUENCE %s (was %s), ETag %s (was %s)", prop(got[cUID], ics.ComponentPropertySequence), seq, etag2, etag)
	}
	// The first person leaves a: the second gets the place and a VEVENT.
	if _, err := a.Registrations.LeaveSession(t.Context(), firstToken(t, a), "a"); err != nil {
		t.Fatal(err)
	}
	got, _ = uids()
	if got["session-"+itoa(int(e.Sessions.ByKey("a").ID))+"@"+host] == nil || len(got) != 3 {
		t.Fatalf("after moving up in a: %v", keys(got))
	}
	// Leaving c takes its VEVENT out.
	if _, err := a.Registrations.LeaveSession(t.Context(), r.ManageToken, "c"); err != nil {
		t.Fatal(err)
	}
	if got, _ = uids(); got[cUID] != nil {
		t.Fatal("a session left stays in the feed")
	}

	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "validate-feeds.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(script, "--check-tools").CombinedOutput(); err != nil {
		t.Logf("feed validators missing: %s", out)
		return
	}
	if out, err := exec.CommandContext(t.Context(), script, a.URL, path, path+"?lang=ar").CombinedOutput(); err != nil {
		t.Fatalf("validate-feeds: %v\n%s", err, out)
	}
}

func keys(m map[string]*ics.VEvent) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// firstToken is the manage token of first@example.org's registration.
func firstToken(t *testing.T, a *testapp.App) string {
	t.Helper()
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations WHERE email = 'first@example.org'`); err != nil {
		t.Fatal(err)
	}
	rs, err := a.Registrations.ListForEvent(t.Context(), mustEventID(t, a, "konf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ID == id {
			return r.ManageToken
		}
	}
	t.Fatal("first registration not found")
	return ""
}

func mustEventID(t *testing.T, a *testapp.App, slug string) int64 {
	t.Helper()
	e, err := a.Events.Get(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}
