package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

// partnersOf reads partner_orgs from an organiser's event answer.
func partnersOf(t *testing.T, r *response) []string {
	t.Helper()
	var e struct {
		PartnerOrgs []string `json:"partner_orgs"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatal(err)
	}
	return e.PartnerOrgs
}

// An event names partner organisations by slug in create, patch and get;
// absent keeps them, [] removes them; an unknown slug, the presenting
// organisation itself or a slug named twice is a 422 on partner_orgs that
// changes nothing.
func TestEventPartnerOrgsInTheOrganiserAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.org("kargah")
	a.org("faust")
	tok := a.token(miso.ID, auth.Organiser)
	const events = "/api/v1/orgs/miso/events"
	r := a.postJSON(http.MethodPost, events, tok, `{"slug":"ag","title":{"de":"AG"},"access":"members",
		"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T12:00:00Z","partner_orgs":[" Kargah ","faust"]}`)
	r.wantStatus(t, http.StatusCreated)
	if got := partnersOf(t, r); !slices.Equal(got, []string{"kargah", "faust"}) {
		t.Fatalf("created with partners %v", got)
	}
	if got := partnersOf(t, a.get(events+"/ag", tok)); !slices.Equal(got, []string{"kargah", "faust"}) {
		t.Fatalf("get: partners %v", got)
	}
	r = a.postJSON(http.MethodPatch, events+"/ag", tok, `{"title":{"de":"AG Partizipation"}}`)
	r.wantStatus(t, http.StatusOK)
	if got := partnersOf(t, r); !slices.Equal(got, []string{"kargah", "faust"}) {
		t.Fatalf("a patch without partner_orgs changed them: %v", got)
	}
	r = a.postJSON(http.MethodPatch, events+"/ag", tok, `{"partner_orgs":["faust"]}`)
	r.wantStatus(t, http.StatusOK)
	if got := partnersOf(t, r); !slices.Equal(got, []string{"faust"}) {
		t.Fatalf("patched partners %v", got)
	}
	for _, tc := range []struct{ name, body, says string }{
		{"unknown slug", `{"partner_orgs":["kargah","gibt-es-nicht"]}`, "gibt-es-nicht"},
		{"the presenting organisation", `{"partner_orgs":["miso"]}`, ""},
		{"named twice", `{"partner_orgs":["kargah","KARGAH"]}`, "kargah"},
		{"empty slug", `{"partner_orgs":[""]}`, ""},
		{"not a list", `{"partner_orgs":"kargah"}`, ""},
		{"too many", `{"partner_orgs":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t","u"]}`, "20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.postJSON(http.MethodPatch, events+"/ag", tok, tc.body).apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if len(e.Fields) != 1 || e.Fields["partner_orgs"] == "" || !strings.Contains(e.Fields["partner_orgs"], tc.says) {
				t.Fatalf("fields %v, want partner_orgs naming %q", e.Fields, tc.says)
			}
		})
	}
	a.postJSON(http.MethodPost, events, tok, `{"slug":"neu","title":{"de":"Neu"},"starts_at":"2030-01-01T10:00:00Z",
		"ends_at":"2030-01-01T12:00:00Z","partner_orgs":["nope"]}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	if n := a.count(`SELECT count(*) FROM events WHERE slug = 'neu'`); n != 0 {
		t.Fatal("an event with an unknown partner was created")
	}
	if got := partnersOf(t, a.get(events+"/ag", tok)); !slices.Equal(got, []string{"faust"}) {
		t.Fatalf("refused patches changed the partners: %v", got)
	}
	r = a.postJSON(http.MethodPatch, events+"/ag", tok, `{"partner_orgs":[]}`)
	r.wantStatus(t, http.StatusOK)
	if got := partnersOf(t, r); got == nil || len(got) != 0 {
		t.Fatalf("partners after [] = %#v, want []", got)
	}
}

// Retention erases what the door's scan log holds about people (the
// scanned or typed text, which for a mistyped code may be anything, even a
// name) and keeps the check-ins, the verdicts and the totals.
func TestRetentionBlanksCheckinScansAndKeepsTotals(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	later := d.event(d.Event.OrgID, "later", func(in *event.Input) {
		s := d.Event.StartsAt.AddDate(0, 1, 0)
		e := s.Add(time.Hour)
		in.StartsAt, in.EndsAt = &s, &e
	})
	ayse := d.Signed(t, "fest", "Ayşe Yılmaz", 2)
	d.Signed(t, "fest", "Ivan Petrov", 1)
	for _, code := range []string{ayse.Tickets[0].Code, ayse.Tickets[0].Code, "Ivan Petrov 4711"} {
		d.scan(map[string]any{"code": code})
	}
	// A scan at the later event, whose data must stay.
	d.scan(map[string]any{"code": "Anna Later", "event": later.Slug})
	// Scans that matched a ticket keep no text from the start (it is the
	// ticket's code, docs/operations.md "Secret links and SECRET_KEY"); the other two do.
	if got := d.count(`SELECT count(*) FROM checkin_scans WHERE code <> ''`); got != 2 {
		t.Fatalf("%d scans with text, want 2", got)
	}
	var now time.Time
	d.Registrations.SetClock(func() time.Time { return now })
	retention := 90 * 24 * time.Hour
	ctx := context.Background()
	now = d.Event.EndsAt.Add(retention - time.Minute)
	if n, err := d.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 0 || n.Scans != 0 {
		t.Fatalf("a minute early: %+v %v", n, err)
	}
	now = d.Event.EndsAt.Add(retention + time.Minute)
	n, err := d.Registrations.EraseExpired(ctx, retention, 100)
	if err != nil || n.Registrations != 2 || n.Scans != 1 {
		t.Fatalf("erase: %+v %v, want 2 registrations and 1 scan", n, err)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans WHERE event_id = $1 AND code <> ''`, d.Event.ID); got != 0 {
		t.Fatalf("%d scans of the event keep their text", got)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans WHERE event_id = $1 AND code = 'Anna Later'`, later.ID); got != 1 {
		t.Fatal("the later event's scan was erased too")
	}
	var verdicts []string
	if err := d.DB.Select(&verdicts, `SELECT verdict FROM checkin_scans WHERE event_id = $1 ORDER BY id`, d.Event.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(verdicts, []string{"ok", "already_checked_in", "unknown"}) {
		t.Fatalf("verdicts %v", verdicts)
	}
	if got := d.count(`SELECT count(*) FROM checkins WHERE event_id = $1 AND undone_at IS NULL`, d.Event.ID); got != 1 {
		t.Fatalf("%d check-ins, want 1", got)
	}
	if got := d.count(`SELECT count(*) FROM tickets WHERE event_id = $1 AND checked_in_at IS NOT NULL`, d.Event.ID); got != 1 {
		t.Fatalf("check-in total %d, want 1", got)
	}
	if got := d.count(`SELECT count(*) FROM registrations WHERE event_id = $1 AND name = '' AND status = 'confirmed'`, d.Event.ID); got != 2 {
		t.Fatalf("%d erased confirmed registrations, want 2", got)
	}
	if n, err := d.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 0 || n.Scans != 0 {
		t.Fatalf("second run: %+v %v", n, err)
	}
}
