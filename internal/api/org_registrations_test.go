package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

// signUpAll signs up people on the event with capacity 2: the first two
// are confirmed, the rest waitlisted.
func signUpAll(t *testing.T, a *app) {
	t.Helper()
	for _, p := range []map[string]any{
		{"name": "Jürgen Müller", "email": "juergen@example.org", "party_size": 1, "lang": "de"},
		{"name": "=HYPERLINK(\"http://evil.example\",\"klick\")", "email": "=x@example.org", "party_size": 1, "lang": "ar"},
		{"name": "محمد", "email": "m@example.org", "party_size": 1, "lang": "ar"},
		{"name": "+49 Anrufer", "email": "@x@example.org", "party_size": 1},
		{"name": "-Minus", "email": "minus@example.org", "party_size": 1},
	} {
		p["consent"] = true
		res := a.postJSON(http.MethodPost, "/api/v1/events/konferenz/registrations", "", p)
		if res.Status != http.StatusCreated && res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("sign-up %v: %d %s", p["email"], res.Status, res.Body)
		}
	}
}

func TestRegistrationListJSON(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "konferenz", func(in *event.Input) { in.Capacity = event.Some(2) })
	signUpAll(t, a)
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = (SELECT id FROM registrations WHERE email = 'juergen@example.org')`); err != nil {
		t.Fatal(err)
	}

	res := a.get("/api/v1/orgs/miso/events/konferenz/registrations", a.token(miso.ID, auth.Organiser))
	res.wantStatus(t, http.StatusOK)
	var b struct {
		Registrations []struct {
			ID               int64     `json:"id"`
			Name             string    `json:"name"`
			Email            string    `json:"email"`
			Lang             string    `json:"lang"`
			PartySize        int       `json:"party_size"`
			Status           string    `json:"status"`
			WaitlistPosition *int      `json:"waitlist_position"`
			CreatedAt        time.Time `json:"created_at"`
			Tickets          []struct {
				Code        string     `json:"code"`
				CheckedInAt *time.Time `json:"checked_in_at"`
			} `json:"tickets"`
		} `json:"registrations"`
	}
	if err := json.Unmarshal(res.Body, &b); err != nil {
		t.Fatal(err)
	}
	rs := b.Registrations
	if len(rs) < 4 {
		t.Fatalf("%d registrations: %s", len(rs), res.Body)
	}
	if r := rs[0]; r.Name != "Jürgen Müller" || r.Status != "confirmed" || r.Lang != "de" || r.WaitlistPosition != nil ||
		len(r.Tickets) != 1 || r.Tickets[0].CheckedInAt == nil || r.CreatedAt.IsZero() {
		t.Errorf("first %+v", r)
	}
	if r := rs[1]; r.Status != "confirmed" || r.Tickets[0].CheckedInAt != nil {
		t.Errorf("second %+v", r)
	}
	if r := rs[2]; r.Name != "محمد" || r.Status != "waitlisted" || r.WaitlistPosition == nil || *r.WaitlistPosition != 1 || len(r.Tickets) != 0 {
		t.Errorf("third %+v", r)
	}
	if !strings.Contains(string(res.Body), `"tickets":[]`) {
		t.Error("a registration without tickets should show an empty list")
	}

	// Another organisation's event is not found, even with a valid token.
	faust := a.org("faust")
	a.event(faust.ID, "quiz", nil)
	a.get("/api/v1/orgs/miso/events/quiz/registrations", a.token(miso.ID, auth.Organiser)).apiErr(t, 404, "not_found")
	a.get("/api/v1/orgs/miso/events/quiz/registrations.csv", a.token(miso.ID, auth.Organiser)).apiErr(t, 404, "not_found")
}

func TestRegistrationCSVOpensInSpreadsheetsSafely(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "konferenz", func(in *event.Input) { in.Capacity = event.Some(2) })
	signUpAll(t, a)

	res := a.get("/api/v1/orgs/miso/events/konferenz/registrations.csv", a.token(miso.ID, auth.Organiser))
	res.wantStatus(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="konferenz-registrations.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	body, ok := bytes.CutPrefix(res.Body, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatal("no UTF-8 byte order mark")
	}
	if !bytes.Contains(body, []byte("\r\n")) {
		t.Error("lines do not end in CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"id", "name", "email", "lang", "party_size", "status", "waitlist_position", "created_at", "ticket_codes", "checked_in", "walk_in", "changed_at"}
	if !slices.Equal(rows[0], want) {
		t.Fatalf("header %v", rows[0])
	}
	byName := map[string][]string{}
	for _, r := range rows[1:] {
		if len(r) != len(want) {
			t.Fatalf("row %v", r)
		}
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
		byName[r[1]] = r
	}
	if r := byName["Jürgen Müller"]; r == nil || r[5] != "confirmed" || len(r[8]) < 26 || r[9] != "0" || r[6] != "" {
		t.Errorf("Jürgen: %v", r)
	}
	if r := byName[`'=HYPERLINK("http://evil.example","klick")`]; r == nil || r[2] != "'=x@example.org" {
		t.Errorf("formula row not defused: %v", byName)
	}
	if r := byName["محمد"]; r == nil || r[5] != "waitlisted" || r[6] != "1" || r[8] != "" {
		t.Errorf("Arabic name: %v", r)
	}
	if byName["'-Minus"] == nil {
		t.Errorf("minus row not defused: %v", byName)
	}
	if _, err := time.Parse(time.RFC3339, byName["محمد"][7]); err != nil {
		t.Errorf("created_at: %v", err)
	}
}
