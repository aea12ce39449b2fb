package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/auth"
)

// The event rules live in one place (internal/event): the same event sent
// through the API and through the organisers' form is stored as the same
// row, defaults, trimming and the all-day span included (an all-day event
// runs from 00:00 of its first day to 23:59 of its last in its zone,
// whatever times either face sent).
func TestSameEventThroughAPIAndFormIsStoredAlike(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	tok := a.Token(t, o, auth.Organiser)
	for name, tc := range map[string]struct {
		form     map[string]string
		starts   string
		ends     string
		allDay   bool
		timezone string
		closes   string
	}{
		"timed": {
			form:   map[string]string{"starts_at": "2030-07-06T15:00", "ends_at": "2030-07-06T22:00"},
			starts: "2030-07-06T15:00:00+02:00", ends: "2030-07-06T22:00:00+02:00", timezone: "Europe/Berlin",
			closes: "2030-07-06T12:00:00+02:00",
		},
		"all day, API times in UTC": {
			form:   map[string]string{"all_day": "yes", "starts_at": "2030-07-06T10:30", "ends_at": "2030-07-07T09:00"},
			starts: "2030-07-06T08:30:00Z", ends: "2030-07-07T07:00:00Z", allDay: true, timezone: "Europe/Berlin",
			closes: "2030-07-06T10:00:00Z",
		},
		"all day in Istanbul": {
			form: map[string]string{"all_day": "yes", "timezone": "Europe/Istanbul",
				"starts_at": "2030-12-31T23:30", "ends_at": "2031-01-01T01:00"},
			starts: "2030-12-31T23:30:00+03:00", ends: "2031-01-01T01:00:00+03:00", allDay: true, timezone: "Europe/Istanbul",
			closes: "2030-07-06T12:00:00+03:00",
		},
	} {
		t.Run(name, func(t *testing.T) {
			slug := map[string]string{"timed": "timed", "all day, API times in UTC": "allday", "all day in Istanbul": "istanbul"}[name]
			f := admEventForm("form-" + slug)
			for k, v := range tc.form {
				f.Set(k, v)
			}
			f.Set("action", "draft")
			if resp, body := c.post("/admin/orgs/a/new-event", f); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("form: %d\n%.800s", resp.StatusCode, body)
			}
			body := map[string]any{
				"slug": "api-" + slug, "kind": "festival", "default_lang": "de",
				"title":       map[string]string{"de": " Sommerfest ", "en": "Summer party", "ar": "حفلة الصيف", "tr": ""},
				"description": map[string]string{"de": "Musik und Essen.\n\nFür alle.", "en": "Music and food."},
				"timezone":    tc.timezone, "starts_at": tc.starts, "ends_at": tc.ends, "all_day": tc.allDay,
				"venue": map[string]string{"name": "Kulturzentrum Faust", "street": "Zur Bettfedernfabrik 3",
					"postcode": "30451", "city": "Hannover", "accessibility_notes": "Stufenlos"},
				"capacity": 200, "waitlist": true, "max_party_size": 6, "access": "public",
				"registration_closes_at": tc.closes, "price_note": "Eintritt frei",
			}
			if status := a.JSON(t, http.MethodPost, "/api/v1/orgs/a/events", tok, body, nil); status != http.StatusCreated {
				t.Fatalf("API: %d", status)
			}
			if got, want := storedEvent(t, a.DB, "api-"+slug), storedEvent(t, a.DB, "form-"+slug); !reflect.DeepEqual(got, want) {
				t.Errorf("stored rows differ:\nAPI:  %v\nform: %v", got, want)
			}
		})
	}
}

// storedEvent is an event's row as stored, without what names it (id, slug)
// or dates the write.
func storedEvent(t *testing.T, db *sqlx.DB, slug string) map[string]any {
	t.Helper()
	var raw []byte
	if err := db.GetContext(t.Context(), &raw, `SELECT to_jsonb(e) FROM events e WHERE slug = $1`, slug); err != nil {
		t.Fatalf("event %s: %v", slug, err)
	}
	var row map[string]any
	if err := json.Unmarshal(raw, &row); err != nil {
		t.Fatal(err)
	}
	maps.DeleteFunc(row, func(k string, _ any) bool {
		return k == "id" || k == "slug" || k == "created_at" || k == "updated_at" || k == "calendar_changed_at"
	})
	return row
}
