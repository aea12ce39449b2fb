package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"treffpunkt/internal/event"
)

// TestSignupRejectsBadInputWithoutWriting sends every kind of bad sign-up
// and checks the status, the error code, the field named, and that no row
// was written.
func TestSignupRejectsBadInputWithoutWriting(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "konferenz", nil)
	a.event(o.ID, "entwurf", func(in *event.Input) { in.Status = ptr(event.Draft) })
	a.event(o.ID, "voll", func(in *event.Input) { in.Capacity = event.Some(0); in.Waitlist = ptr(false) })
	a.event(o.ID, "jung", func(in *event.Input) { in.MinAge = event.Some(17); in.MaxAge = event.Some(27) })

	const path = "/api/v1/events/konferenz/registrations"
	with := func(kv ...any) string {
		m := signup("ayse@example.org")
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	valid := with()
	huge := `{"name":"` + strings.Repeat("a", 70<<10) + `","email":"a@example.org","consent":true}`

	cases := []struct {
		name        string
		path        string
		contentType string
		body        string
		status      int
		code        string
		field       string
	}{
		{"text/plain", path, "text/plain", valid, 415, "unsupported_media_type", ""},
		{"form content type", path, "application/x-www-form-urlencoded", "name=x", 415, "unsupported_media_type", ""},
		{"no content type", path, "", valid, 415, "unsupported_media_type", ""},
		{"latin-1 charset", path, "application/json; charset=latin1", valid, 415, "unsupported_media_type", ""},
		{"malformed JSON", path, "application/json", `{"name": "x", `, 400, "bad_request", ""},
		{"empty body", path, "application/json", "", 400, "bad_request", ""},
		{"not an object", path, "application/json", `["name"]`, 400, "bad_request", ""},
		{"trailing data", path, "application/json", valid + `{}`, 400, "bad_request", ""},
		{"duplicate name", path, "application/json", `{"name":"a","name":"b","email":"a@example.org","consent":true}`, 400, "bad_request", ""},
		{"body over 64 KiB", path, "application/json", huge, 413, "too_large", ""},
		{"invalid UTF-8", path, "application/json", "{\"name\":\"Ay\xfe\xffe\",\"email\":\"a@example.org\",\"consent\":true}", 422, "invalid", ""},
		{"unknown field", path, "application/json", with("nickname", "x"), 422, "invalid", "nickname"},
		{"field in other case", path, "application/json", with("Consent", true), 422, "invalid", "Consent"},
		{"party_size as text", path, "application/json", with("party_size", "abc"), 422, "invalid", "party_size"},
		{"party_size fraction", path, "application/json", with("party_size", 1.5), 422, "invalid", "party_size"},
		{"party_size huge", path, "application/json", `{"name":"a","email":"a@example.org","consent":true,"party_size":1e40}`, 422, "invalid", "party_size"},
		{"party_size 0", path, "application/json", with("party_size", 0), 422, "invalid", "party_size"},
		{"party_size -1", path, "application/json", with("party_size", -1), 422, "invalid", "party_size"},
		{"party_size over max", path, "application/json", with("party_size", 5), 422, "invalid", "party_size"},
		{"name as number", path, "application/json", with("name", 5), 422, "invalid", "name"},
		{"name empty", path, "application/json", with("name", ""), 422, "invalid", "name"},
		{"name blank", path, "application/json", with("name", "   "), 422, "invalid", "name"},
		{"name 201 chars", path, "application/json", with("name", strings.Repeat("ü", 201)), 422, "invalid", "name"},
		{"name with NUL", path, "application/json", with("name", "Ay\x00se"), 422, "invalid", "name"},
		{"name with newline", path, "application/json", with("name", "Ayse\nBcc: x@y.z"), 422, "invalid", "name"},
		{"email header injection", path, "application/json", with("email", "a@example.org\r\nBcc: x@y.z"), 422, "invalid", "email"},
		{"email missing", path, "application/json", `{"name":"a","consent":true}`, 422, "invalid", "email"},
		{"email with display name", path, "application/json", with("email", "Ayse <a@example.org>"), 422, "invalid", "email"},
		{"consent false", path, "application/json", with("consent", false), 422, "invalid", "consent"},
		{"consent absent", path, "application/json", `{"name":"a","email":"a@example.org"}`, 422, "invalid", "consent"},
		{"consent as text", path, "application/json", with("consent", "yes"), 422, "invalid", "consent"},
		{"answers not an object", path, "application/json", with("answers", []int{1}), 422, "invalid", "answers"},
		{"unknown language", path, "application/json", with("lang", "xx"), 422, "invalid", "lang"},
		{"birth date not a date", path, "application/json", with("birth_date", "31.12.2000"), 422, "invalid", "birth_date"},
		{"birth date required by age range", "/api/v1/events/jung/registrations", "application/json", valid, 422, "invalid", "birth_date"},
		{"too old", "/api/v1/events/jung/registrations", "application/json", with("birth_date", "1950-01-01"), 403, "age", ""},
		{"unknown event", "/api/v1/events/gibt-es-nicht/registrations", "application/json", valid, 404, "not_found", ""},
		{"unknown event and bad body", "/api/v1/events/gibt-es-nicht/registrations", "application/json", with("party_size", "abc"), 404, "not_found", ""},
		{"draft event", "/api/v1/events/entwurf/registrations", "application/json", valid, 404, "not_found", ""},
		{"full event without waitlist", "/api/v1/events/voll/registrations", "application/json", valid, 409, "full", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := a.do(request{Method: http.MethodPost, Path: tc.path, ContentType: tc.contentType, Body: tc.body})
			e := res.apiErr(t, tc.status, tc.code)
			if tc.field != "" {
				if _, ok := e.Fields[tc.field]; !ok || len(e.Fields) != 1 {
					t.Errorf("fields %v, want exactly %q", e.Fields, tc.field)
				}
			}
			if n := a.count(`SELECT count(*) FROM registrations`); n != 0 {
				t.Fatalf("%d registrations written", n)
			}
			if n := a.count(`SELECT count(*) FROM tickets`); n != 0 {
				t.Fatalf("%d tickets written", n)
			}
		})
	}
}

func TestSignupNamesEveryBadField(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "konferenz", nil)
	res := a.postJSON(http.MethodPost, "/api/v1/events/konferenz/registrations", "",
		`{"name": 1, "email": "a@example.org", "party_size": "zwei", "consent": "ja"}`)
	e := res.apiErr(t, 422, "invalid")
	for _, f := range []string{"name", "party_size", "consent"} {
		if e.Fields[f] == "" {
			t.Errorf("field %s not named: %v", f, e.Fields)
		}
	}
}

func TestSignupConfirmsWithTickets(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "konferenz", nil)

	res := a.postJSON(http.MethodPost, "/api/v1/events/konferenz/registrations", "",
		map[string]any{"name": "Ayşe", "email": "ayse@example.org", "party_size": 2, "lang": "tr", "consent": true})
	res.wantStatus(t, http.StatusCreated)
	b := res.object(t)
	if b["status"] != "confirmed" || b["event"] != "konferenz" || b["party_size"] != json.Number("2") {
		t.Errorf("answer %s", res.Body)
	}
	if b["waitlist_position"] != nil {
		t.Errorf("waitlist_position %v, want null", b["waitlist_position"])
	}
	manage, _ := b["manage_url"].(string)
	if !strings.HasPrefix(manage, a.URL+"/r/") || len(manage) < len(a.URL+"/r/")+26 {
		t.Errorf("manage_url %q", manage)
	}
	if loc := res.Header.Get("Location"); loc != manage {
		t.Errorf("Location %q, want %q", loc, manage)
	}
	tickets, _ := b["tickets"].([]any)
	if len(tickets) != 2 {
		t.Fatalf("tickets %v, want 2", b["tickets"])
	}
	for _, x := range tickets {
		tk := x.(map[string]any)
		if code, _ := tk["code"].(string); len(code) < 26 || tk["url"] != a.URL+"/t/"+code {
			t.Errorf("ticket %v", tk)
		}
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'konferenz'`); n != 2 {
		t.Errorf("seats_confirmed %d, want 2", n)
	}
}

func TestSignupPartySizeDefaultsToOne(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "konferenz", nil)
	for _, body := range []string{
		`{"name":"A","email":"a@example.org","consent":true}`,
		`{"name":"B","email":"b@example.org","consent":true,"party_size":null}`,
	} {
		res := a.postJSON(http.MethodPost, "/api/v1/events/konferenz/registrations", "", body)
		res.wantStatus(t, http.StatusCreated)
		if b := res.object(t); b["party_size"] != json.Number("1") || len(b["tickets"].([]any)) != 1 {
			t.Errorf("%s → %s", body, res.Body)
		}
	}
}

// TestSignupTwiceWithSameEmailRevealsNoSecrets: an address someone else
// knows must not yield its owner's manage link or tickets.
func TestSignupTwiceWithSameEmailRevealsNoSecrets(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "konferenz", nil)
	const path = "/api/v1/events/konferenz/registrations"
	a.postJSON(http.MethodPost, path, "", signup("ayse@example.org")).wantStatus(t, http.StatusCreated)

	res := a.postJSON(http.MethodPost, path, "", signup("AYSE@example.org"))
	res.wantStatus(t, http.StatusOK)
	b := res.object(t)
	if b["existing"] != true || b["event"] != "konferenz" {
		t.Errorf("answer %s", res.Body)
	}
	for _, k := range []string{"manage_url", "tickets", "id"} {
		if _, ok := b[k]; ok {
			t.Errorf("answer reveals %s: %s", k, res.Body)
		}
	}
	if res.Header.Get("Location") != "" {
		t.Errorf("Location %q on an existing registration", res.Header.Get("Location"))
	}
	if n := a.count(`SELECT count(*) FROM registrations`); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
}

func TestSignupOnFullEventJoinsWaitlist(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "klein", func(in *event.Input) { in.Capacity = event.Some(1) })
	const path = "/api/v1/events/klein/registrations"
	a.postJSON(http.MethodPost, path, "", signup("a@example.org")).wantStatus(t, http.StatusCreated)

	res := a.postJSON(http.MethodPost, path, "", signup("b@example.org"))
	res.wantStatus(t, http.StatusCreated)
	b := res.object(t)
	if b["status"] != "waitlisted" || b["waitlist_position"] != json.Number("1") || len(b["tickets"].([]any)) != 0 {
		t.Errorf("answer %s", res.Body)
	}
}

// TestCancelByTokenPromotesWaitlisted cancels through the API and sees the
// waitlisted party confirmed in the same step.
func TestCancelByTokenPromotesWaitlisted(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "klein", func(in *event.Input) { in.Capacity = event.Some(1) })
	const path = "/api/v1/events/klein/registrations"
	first := a.postJSON(http.MethodPost, path, "", signup("a@example.org")).object(t)
	a.postJSON(http.MethodPost, path, "", signup("b@example.org")).wantStatus(t, http.StatusCreated)

	token := strings.TrimPrefix(first["manage_url"].(string), a.URL+"/r/")
	for range 2 { // cancelling twice answers the same
		res := a.postJSON(http.MethodPost, "/api/v1/registrations/"+token+"/cancel", "", "")
		res.wantStatus(t, http.StatusOK)
		b := res.object(t)
		if b["status"] != "cancelled" || b["id"] != first["id"] || len(b["tickets"].([]any)) != 0 {
			t.Errorf("answer %s", res.Body)
		}
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE email = 'b@example.org' AND status = 'confirmed'`); n != 1 {
		t.Error("the waitlisted registration was not confirmed")
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'klein'`); n != 1 {
		t.Errorf("seats_confirmed %d, want 1", n)
	}
}

func TestCancelUnknownTokenIsNotFound(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.do(request{Method: http.MethodPost, Path: "/api/v1/registrations/NOSUCHTOKEN234567ABCDEFGHIJ/cancel"})
	res.apiErr(t, http.StatusNotFound, "not_found")
}
