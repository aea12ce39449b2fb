package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

// The event rules live in one place (internal/event): the same event sent
// through the API and through the organisers' form is stored as the same
// row, defaults, trimming and the all-day span included (an all-day event
// runs from 00:00 of its first day to 23:59 of its last in its zone,
// whatever times either face sent). The facts (issue 20) go the same way:
// languages spoken and interpreted into, sign language, childcare, and the
// venue's yes/no/unknown facts and position (a decimal comma typed in the
// form is a point).
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
		// facts: the form's fields and the API's, when the case sets them.
		factsForm url.Values
		factsAPI  map[string]any
		venueAPI  map[string]any
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
		"facts": {
			form:   map[string]string{"starts_at": "2030-07-06T15:00", "ends_at": "2030-07-06T22:00"},
			starts: "2030-07-06T15:00:00+02:00", ends: "2030-07-06T22:00:00+02:00", timezone: "Europe/Berlin",
			closes: "2030-07-06T12:00:00+02:00",
			factsForm: url.Values{
				// Sent out of order: stored in the checkboxes' order, as the API's list is.
				"languages": {"ar", "de"}, "interpreting": {"en"}, "sign_language": {"yes"}, "childcare": {"yes"},
				"venue_name":      {"Kulturzentrum Faust (Form)"},
				"venue_step_free": {"yes"}, "venue_accessible_toilet": {"no"}, "venue_hearing_loop": {""},
				"venue_lat": {"52,3759"}, "venue_lon": {" 9.732 "},
			},
			factsAPI: map[string]any{"languages": []string{"de", "ar"}, "interpreting": []string{"en"}, "sign_language": true, "childcare": true},
			venueAPI: map[string]any{"name": "Kulturzentrum Faust (API)", "step_free": true, "accessible_toilet": false, "hearing_loop": nil,
				"lat": 52.3759, "lon": 9.732},
		},
	} {
		t.Run(name, func(t *testing.T) {
			slug := map[string]string{"timed": "timed", "all day, API times in UTC": "allday", "all day in Istanbul": "istanbul", "facts": "facts"}[name]
			f := admEventForm("form-" + slug)
			for k, v := range tc.form {
				f.Set(k, v)
			}
			maps.Copy(f, tc.factsForm)
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
			maps.Copy(body, tc.factsAPI)
			if tc.venueAPI != nil {
				v := map[string]any{}
				for k, x := range body["venue"].(map[string]string) {
					v[k] = x
				}
				maps.Copy(v, tc.venueAPI)
				body["venue"] = v
			}
			if status := a.JSON(t, http.MethodPost, "/api/v1/orgs/a/events", tok, body, nil); status != http.StatusCreated {
				t.Fatalf("API: %d", status)
			}
			got, want := storedEvent(t, a.DB, "api-"+slug), storedEvent(t, a.DB, "form-"+slug)
			if tc.factsAPI != nil && (got["venue"] == nil || got["venue"].(map[string]any)["lat"] != 52.3759 || len(got["languages"].([]any)) != 2) {
				t.Errorf("the facts were not stored: %v", got)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stored rows differ:\nAPI:  %v\nform: %v", got, want)
			}
		})
	}
}

// storedEvent is an event's row as stored, without what names it (id, slug)
// or dates the write, with its venue's row in place of the venue's id
// (without the venue's id and name).
func storedEvent(t *testing.T, db *sqlx.DB, slug string) map[string]any {
	t.Helper()
	var raw []byte
	if err := db.GetContext(t.Context(), &raw, `
SELECT to_jsonb(e) || jsonb_build_object('venue', to_jsonb(v) - 'id' - 'name')
FROM events e LEFT JOIN venues v ON v.id = e.venue_id WHERE slug = $1`, slug); err != nil {
		t.Fatalf("event %s: %v", slug, err)
	}
	var row map[string]any
	if err := json.Unmarshal(raw, &row); err != nil {
		t.Fatal(err)
	}
	maps.DeleteFunc(row, func(k string, _ any) bool {
		return k == "id" || k == "slug" || k == "created_at" || k == "updated_at" || k == "calendar_changed_at" || k == "venue_id"
	})
	return row
}

// A position or fact the editor cannot read is shown at its field with a
// clear message, as are coordinates out of range and a latitude without
// its longitude, and nothing is written.
func TestEditorRefusesBadCoordinatesAndFactsWritingNothing(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	for name, tc := range map[string]struct {
		fields url.Values
		want   []string // ids of the error messages
	}{
		"not numbers": {url.Values{"venue_lat": {"Nord"}, "venue_lon": {"9.7x"}, "venue_step_free": {"vielleicht"}},
			[]string{`id="e-venue-lat"`, `id="e-venue-lon"`, `id="e-venue-step_free"`, `href="#f-venue-lat"`}},
		"out of range": {url.Values{"venue_lat": {"95"}, "venue_lon": {"-181"}}, []string{`id="e-venue-lat"`, `id="e-venue-lon"`}},
		"half a pair":  {url.Values{"venue_lat": {"52.37"}}, []string{`id="e-venue-lat"`}},
		"no language":  {url.Values{"languages": {"de", "xx"}}, []string{`id="e-languages"`, `href="#f-languages"`}},
	} {
		t.Run(name, func(t *testing.T) {
			f := admEventForm("bad")
			maps.Copy(f, tc.fields)
			f.Set("action", "draft")
			resp, body := c.post("/admin/orgs/a/new-event", f)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s", w)
				}
			}
			if n := a.Count(t, `SELECT count(*) FROM events WHERE slug = 'bad'`); n != 0 {
				t.Errorf("%d events written", n)
			}
		})
	}
}

// A venue picked from the editor's list keeps its facts and position: the
// event saved with it writes them back as they are, not as unknown.
func TestVenuePickedFromTheListKeepsItsFacts(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Event(t, o, "first", func(in *event.Input) {
		in.Venue.StepFree, in.Venue.HearingLoop = new(true), new(false)
		in.Venue.Lat, in.Venue.Lon = new(52.3759), new(9.732)
	})
	var id int64
	if err := a.DB.Get(&id, `SELECT venue_id FROM events WHERE slug = 'first'`); err != nil {
		t.Fatal(err)
	}
	f := admEventForm("second")
	f.Set("venue_pick", strconv.FormatInt(id, 10))
	f.Set("action", "draft")
	if resp, body := c.post("/admin/orgs/a/new-event", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form: %d\n%.800s", resp.StatusCode, body)
	}
	var got struct {
		VenueID  int64    `db:"venue_id"`
		StepFree *bool    `db:"step_free"`
		Loop     *bool    `db:"hearing_loop"`
		Lat      *float64 `db:"lat"`
	}
	if err := a.DB.Get(&got, `SELECT e.venue_id, v.step_free, v.hearing_loop, v.lat FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.slug = 'second'`); err != nil {
		t.Fatal(err)
	}
	if got.VenueID != id || got.StepFree == nil || !*got.StepFree || got.Loop == nil || *got.Loop || got.Lat == nil || *got.Lat != 52.3759 {
		t.Errorf("picked venue after saving: %+v", got)
	}
}
