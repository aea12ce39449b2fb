package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/event"
)

// signed signs email up for slug with a party of size through the API and
// returns the answer and the manage token.
func (a *app) signed(slug, email string, size int, answers map[string]any) (map[string]any, string) {
	a.t.Helper()
	b := signup(email)
	b["party_size"] = size
	if answers != nil {
		b["answers"] = answers
	}
	res := a.postJSON(http.MethodPost, "/api/v1/events/"+slug+"/registrations", "", b)
	res.wantStatus(a.t, http.StatusCreated)
	m := res.object(a.t)
	return m, strings.TrimPrefix(m["manage_url"].(string), a.URL+"/r/")
}

// patch sends PATCH /registrations/{token} with body.
func (a *app) patch(token string, body any) *response {
	a.t.Helper()
	return a.postJSON(http.MethodPatch, "/api/v1/registrations/"+token, "", body)
}

// state is everything a change may write, as one string: the
// registrations, their tickets, the event's counters and the outbox.
func (a *app) state() string {
	a.t.Helper()
	var s string
	err := a.DB.Get(&s, `
SELECT concat_ws(' | ',
  (SELECT string_agg(concat_ws(',', id, name, lang, party_size, answers::text, status, seats_held, changed_at), ';' ORDER BY id) FROM registrations),
  (SELECT string_agg(concat_ws(',', registration_id, seat, encode(code_hash, 'hex')), ';' ORDER BY id) FROM tickets),
  (SELECT string_agg(concat_ws(',', slug, seats_confirmed, waitlist_length), ';' ORDER BY id) FROM events),
  (SELECT count(*) FROM mail_outbox))`)
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}

func codes(m map[string]any) []string {
	var out []string
	for _, x := range m["tickets"].([]any) {
		out = append(out, x.(map[string]any)["code"].(string))
	}
	return out
}

// Every bad change is a 422 naming the field, with the sign-up's own rules
// and messages, and writes nothing.
func TestChangeRejectsBadInputWithoutWriting(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "fest", func(in *event.Input) { in.Questions = questionsInput(t) })
	_, token := a.signed("fest", "ayse@example.org", 2, map[string]any{"diet": "vegan", "photos": true})
	before := a.state()

	cases := []struct {
		name  string
		body  string
		field string
	}{
		{"unknown field", `{"nickname": "x"}`, "nickname"},
		{"email cannot change", `{"email": "other@example.org"}`, "email"},
		{"consent is no field here", `{"consent": true}`, "consent"},
		{"party_size 0", `{"party_size": 0}`, "party_size"},
		{"party_size -1", `{"party_size": -1}`, "party_size"},
		{"party_size over max", `{"party_size": 5}`, "party_size"},
		{"party_size as text", `{"party_size": "drei"}`, "party_size"},
		{"party_size fraction", `{"party_size": 1.5}`, "party_size"},
		{"name empty", `{"name": ""}`, "name"},
		{"name blank", `{"name": "   "}`, "name"},
		{"name 201 chars", `{"name": "` + strings.Repeat("ü", 201) + `"}`, "name"},
		{"name with newline", `{"name": "Ayse\nBcc: x@y.z"}`, "name"},
		{"name as number", `{"name": 5}`, "name"},
		{"unknown language", `{"lang": "xx"}`, "lang"},
		{"empty language", `{"lang": ""}`, "lang"},
		{"answers not an object", `{"answers": [1]}`, "answers"},
		{"required answer dropped", `{"answers": {"photos": true}}`, "answers.diet"},
		{"unknown option", `{"answers": {"diet": "kosher", "photos": true}}`, "answers.diet"},
		{"unknown question", `{"answers": {"diet": "vegan", "photos": true, "shoe": "42"}}`, "answers.shoe"},
		{"sessions not yet", `{"sessions": ["a"]}`, "sessions"},
		{"good name, bad size", `{"name": "Ayşe Y.", "party_size": 9}`, "party_size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := a.patch(token, tc.body).apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if _, ok := e.Fields[tc.field]; !ok || len(e.Fields) != 1 {
				t.Errorf("fields %v, want exactly %q", e.Fields, tc.field)
			}
			if got := a.state(); got != before {
				t.Fatalf("written:\n%s\nwas\n%s", got, before)
			}
		})
	}
	// The messages are the sign-up's.
	signupErr := a.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "",
		map[string]any{"name": "x", "email": "x@example.org", "consent": true, "party_size": 5,
			"answers": map[string]any{"diet": "vegan", "photos": true}}).apiErr(t, 422, "invalid")
	changeErr := a.patch(token, `{"party_size": 5}`).apiErr(t, 422, "invalid")
	if signupErr.Fields["party_size"] != changeErr.Fields["party_size"] {
		t.Errorf("party_size: sign-up says %q, change says %q", signupErr.Fields["party_size"], changeErr.Fields["party_size"])
	}
	a.patch("NOSUCHTOKEN234567ABCDEFGHIJ", `{"name": "x"}`).apiErr(t, http.StatusNotFound, "not_found")
}

// Name, language and answers change in place: the same id, manage link and
// tickets, the answers checked and cleaned as at sign-up, the change
// stamped for the organisers and mailed.
func TestChangeNameLanguageAndAnswersKeepsTheRegistration(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "fest", func(in *event.Input) { in.Questions = questionsInput(t) })
	first, token := a.signed("fest", "ayse@example.org", 2, map[string]any{"diet": "vegan", "photos": true})

	res := a.patch(token, map[string]any{"name": "  Ayşe Demir ", "lang": "tr",
		"answers": map[string]any{"diet": "halal", "photos": false, "needs": []any{"childcare", "wheelchair"}, "note": "  "}})
	res.wantStatus(t, http.StatusOK)
	b := res.object(t)
	if b["id"] != first["id"] || b["manage_url"] != first["manage_url"] || b["status"] != "confirmed" ||
		b["name"] != "Ayşe Demir" || b["lang"] != "tr" || b["party_size"] != json.Number("2") {
		t.Errorf("answer %s", res.Body)
	}
	if strings.Join(codes(b), " ") != strings.Join(codes(first), " ") {
		t.Errorf("tickets %v, were %v", codes(b), codes(first))
	}
	ans, _ := json.Marshal(b["answers"])
	if string(ans) != `{"diet":"halal","needs":["wheelchair","childcare"],"photos":false}` {
		t.Errorf("answers %s", ans)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'changed' AND lang = 'tr'`); n != 1 {
		t.Errorf("%d change mails in Turkish, want 1", n)
	}
	// The organisers see that it changed, in JSON and CSV.
	tok := a.token(o.ID, "organiser")
	list := a.get("/api/v1/orgs/miso/events/fest/registrations", tok).object(t)
	reg := list["registrations"].([]any)[0].(map[string]any)
	if reg["changed_at"] == nil {
		t.Errorf("changed_at missing in the list: %v", reg)
	}
	csv := string(a.get("/api/v1/orgs/miso/events/fest/registrations.csv", tok).Body)
	head, rest, _ := strings.Cut(csv, "\r\n")
	if !strings.Contains(head, ",changed_at") || !strings.Contains(rest, "Ayşe Demir") {
		t.Errorf("CSV %q", csv)
	}
	// A change that changes nothing writes nothing and mails nothing.
	before := a.state()
	a.patch(token, map[string]any{"name": "Ayşe Demir", "party_size": 2}).wantStatus(t, http.StatusOK)
	a.patch(token, `{}`).wantStatus(t, http.StatusOK)
	if a.state() != before {
		t.Error("an empty change wrote something")
	}
}

// Lowering the party size frees its places at once: the tickets of the
// highest seats are withdrawn, the others stay, and the waitlist moves up
// in the same step.
func TestChangeLowerPartySizeFreesPlacesAndPromotes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "klein", func(in *event.Input) { in.Capacity = event.Some(4) })
	anna, token := a.signed("klein", "anna@example.org", 3, nil)
	a.signed("klein", "carla@example.org", 1, nil)
	ben, _ := a.signed("klein", "ben@example.org", 2, nil)
	if ben["status"] != "waitlisted" {
		t.Fatalf("ben %v", ben["status"])
	}

	res := a.patch(token, `{"party_size": 1}`)
	res.wantStatus(t, http.StatusOK)
	b := res.object(t)
	if b["status"] != "confirmed" || b["party_size"] != json.Number("1") || b["id"] != anna["id"] {
		t.Errorf("answer %s", res.Body)
	}
	if got := codes(b); len(got) != 1 || got[0] != codes(anna)[0] {
		t.Errorf("tickets %v, want the first of %v", got, codes(anna))
	}
	for i, code := range codes(anna) {
		want := http.StatusOK
		if i > 0 {
			want = http.StatusNotFound
		}
		if res := a.get("/t/"+code, ""); res.Status != want {
			t.Errorf("ticket %d: %d, want %d", i+1, res.Status, want)
		}
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE email = 'ben@example.org' AND status = 'confirmed'`); n != 1 {
		t.Error("the waitlisted party was not moved up")
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'promoted'`); n != 1 {
		t.Errorf("%d promoted mails, want 1", n)
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'klein'`); n != 4 {
		t.Errorf("seats_confirmed %d, want 4", n)
	}
	if n := a.count(`SELECT count(*) FROM tickets`); n != 4 {
		t.Errorf("%d tickets, want 4", n)
	}
}

// Raising the party size takes places only if they are free; otherwise it
// is 409 full and nothing changes. The tickets issued stay and the new
// seats get new ones.
func TestChangeRaisePartySizeTakesOnlyFreePlaces(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "klein", func(in *event.Input) { in.Capacity = event.Some(4) })
	anna, token := a.signed("klein", "anna@example.org", 2, nil)

	res := a.patch(token, `{"party_size": 3}`)
	res.wantStatus(t, http.StatusOK)
	b := res.object(t)
	got := codes(b)
	if len(got) != 3 || got[0] != codes(anna)[0] || got[1] != codes(anna)[1] {
		t.Fatalf("tickets %v, want %v and one more", got, codes(anna))
	}
	if res := a.get("/t/"+got[2], ""); res.Status != http.StatusOK {
		t.Errorf("new ticket: %d", res.Status)
	}
	a.signed("klein", "ben@example.org", 1, nil) // the last place
	before := a.state()
	a.patch(token, `{"party_size": 4, "name": "Anna K."}`).apiErr(t, http.StatusConflict, "full")
	if a.state() != before {
		t.Error("a refused change wrote something")
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'klein'`); n != 4 {
		t.Errorf("seats_confirmed %d, want 4", n)
	}
}

// A waitlisted registration keeps its waitlist position whatever its size,
// and moves up at once when it shrinks into the free places.
func TestChangeKeepsTheWaitlistPosition(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "klein", func(in *event.Input) { in.Capacity = event.Some(2) })
	a.signed("klein", "anna@example.org", 1, nil)
	ben, benTok := a.signed("klein", "ben@example.org", 2, nil)
	carla, carlaTok := a.signed("klein", "carla@example.org", 2, nil)
	if ben["waitlist_position"] != json.Number("1") || carla["waitlist_position"] != json.Number("2") {
		t.Fatalf("positions %v %v", ben["waitlist_position"], carla["waitlist_position"])
	}
	for _, body := range []string{`{"party_size": 3}`, `{"party_size": 4, "name": "Carla B."}`} {
		b := a.patch(carlaTok, body).object(t)
		if b["status"] != "waitlisted" || b["waitlist_position"] != json.Number("2") || b["id"] != carla["id"] {
			t.Errorf("%s → %v", body, b)
		}
	}
	b := a.patch(benTok, `{"party_size": 4}`).object(t)
	if b["status"] != "waitlisted" || b["waitlist_position"] != json.Number("1") {
		t.Errorf("ben grown: %v", b)
	}
	// One place is free: Ben shrinks into it and is confirmed at once.
	b = a.patch(benTok, `{"party_size": 1}`).object(t)
	if b["status"] != "confirmed" || len(codes(b)) != 1 {
		t.Errorf("ben shrunk: %v", b)
	}
	b = a.get("/api/v1/events/klein", "").object(t)
	if b["seats_left"] != json.Number("0") || b["waitlist_length"] != json.Number("1") {
		t.Errorf("event %v", b)
	}
}

// A cancelled registration cannot be changed; a ticket already checked in
// cannot be withdrawn; a closed sign-up takes no new places.
func TestChangeRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setClock := a.SettableClock()
	a.event(a.org("miso").ID, "fest", func(in *event.Input) {
		in.RegistrationClosesAt = event.Some(time.Now().Add(24 * time.Hour))
	})
	_, gone := a.signed("fest", "gone@example.org", 1, nil)
	a.postJSON(http.MethodPost, "/api/v1/registrations/"+gone+"/cancel", "", "").wantStatus(t, http.StatusOK)
	before := a.state()
	e := a.patch(gone, `{"name": "Wieder da"}`).apiErr(t, http.StatusConflict, "conflict")
	if !strings.Contains(e.Message, "nicht") {
		t.Errorf("message %q", e.Message)
	}
	if a.state() != before {
		t.Error("the cancelled registration was changed")
	}

	_, token := a.signed("fest", "ayse@example.org", 3, nil)
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE seat = 3 AND registration_id = (SELECT max(id) FROM registrations)`); err != nil {
		t.Fatal(err)
	}
	a.patch(token, `{"party_size": 2}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	a.patch(token, `{"party_size": 3, "name": "Ayşe Y."}`).wantStatus(t, http.StatusOK)

	// Sign-up closes: fewer people still, more people no longer.
	setClock(time.Now().Add(48 * time.Hour))
	a.patch(token, `{"party_size": 4}`).apiErr(t, http.StatusGone, "closed")
	a.patch(token, `{"party_size": 3, "name": "Ayşe Yılmaz"}`).wantStatus(t, http.StatusOK)
	// The event has begun: no more changes.
	setClock(time.Now().Add(8 * 24 * time.Hour))
	a.patch(token, `{"name": "Ayşe"}`).apiErr(t, http.StatusGone, "closed")
}

// Two changes racing for the last place over two instances: the database
// decides, exactly one gets it, the other is told full, and the event is
// never oversold.
func TestChangeRaceForTheLastPlaceOverTwoInstances(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := &app{App: a.Second(t), t: t}
	a.event(a.org("miso").ID, "klein", func(in *event.Input) { in.Capacity = event.Some(3); in.Waitlist = ptr(false) })
	for round := range 5 {
		if round > 0 {
			// Back to one place free: both shrink to one.
			if _, err := a.DB.Exec(`DELETE FROM registrations WHERE true`); err != nil {
				t.Fatal(err)
			}
			if _, err := a.DB.Exec(`UPDATE events SET seats_confirmed = 0`); err != nil {
				t.Fatal(err)
			}
		}
		_, t1 := a.signed("klein", "anna"+string(rune('a'+round))+"@example.org", 1, nil)
		_, t2 := a.signed("klein", "ben"+string(rune('a'+round))+"@example.org", 1, nil)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, c := range []struct {
			app   *app
			token string
		}{{a, t1}, {b, t2}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = c.app.patch(c.token, `{"party_size": 2}`).Status
			}()
		}
		wg.Wait()
		ok, full := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				full++
			}
		}
		if ok != 1 || full != 1 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 409", round, statuses)
		}
		if n := a.count(`SELECT seats_confirmed FROM events`); n != 3 {
			t.Fatalf("round %d: seats_confirmed %d, want 3", round, n)
		}
		if n := a.count(`SELECT count(*) FROM tickets`); n != 3 {
			t.Fatalf("round %d: %d tickets, want 3", round, n)
		}
	}
}

// An organiser changes a registration of their event with the
// participant's rules; the participant is mailed, the change is in the
// audit log without the new values, and another organisation's token
// reaches nothing.
func TestOrganiserChangesARegistrationAudited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	other := a.org("faust")
	a.event(o.ID, "klein", func(in *event.Input) { in.Capacity = event.Some(3) })
	anna, _ := a.signed("klein", "anna@example.org", 1, nil)
	a.signed("klein", "ben@example.org", 1, nil)
	path := "/api/v1/orgs/miso/events/klein/registrations/" + anna["id"].(json.Number).String()
	tok := a.token(o.ID, "organiser")

	res := a.postJSON(http.MethodPatch, path, tok, map[string]any{"party_size": 2, "name": "Anna Schmidt"})
	res.wantStatus(t, http.StatusOK)
	if b := res.object(t); b["party_size"] != json.Number("2") || b["name"] != "Anna Schmidt" || len(codes(b)) != 2 {
		t.Errorf("answer %s", res.Body)
	}
	a.postJSON(http.MethodPatch, path, tok, `{"party_size": 3}`).apiErr(t, http.StatusConflict, "full")
	a.postJSON(http.MethodPatch, path, tok, `{"party_size": 0}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'registration.change' AND target = 'klein' AND details->>'party_size' = '2'
	    AND details->'fields' = '["name", "party_size"]'::jsonb`); n != 1 {
		t.Errorf("%d audit entries of the change, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM audit_log WHERE details::text LIKE '%Schmidt%'`); n != 0 {
		t.Error("the audit log holds the new name")
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'changed'`); n != 1 {
		t.Errorf("%d change mails, want 1", n)
	}
	before := a.state()
	a.postJSON(http.MethodPatch, "/api/v1/orgs/faust/events/klein/registrations/"+anna["id"].(json.Number).String(),
		a.token(other.ID, "organiser"), `{"name": "x"}`).apiErr(t, http.StatusNotFound, "not_found")
	a.postJSON(http.MethodPatch, path+"9", tok, `{"name": "x"}`).apiErr(t, http.StatusNotFound, "not_found")
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/klein/registrations/abc", tok, `{"name": "x"}`).apiErr(t, http.StatusNotFound, "not_found")
	if a.state() != before {
		t.Error("a refused change wrote something")
	}
}
