package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// admEventForm is a complete editor form for a summer party in two
// languages.
func admEventForm(slug string) url.Values {
	return url.Values{
		"slug": {slug}, "kind": {"festival"}, "default_lang": {"de"},
		"title_de": {"Sommerfest"}, "title_en": {"Summer party"}, "title_ar": {"حفلة الصيف"},
		"description_de": {"Musik und Essen.\r\n\r\nFür alle."}, "description_en": {"Music and food."},
		"timezone": {"Europe/Berlin"}, "starts_at": {"2030-07-06T15:00"}, "ends_at": {"2030-07-06T22:00"},
		"venue_name": {"Kulturzentrum Faust"}, "venue_street": {"Zur Bettfedernfabrik 3"},
		"venue_postcode": {"30451"}, "venue_city": {"Hannover"}, "venue_accessibility_notes": {"Stufenlos"},
		"capacity": {"200"}, "waitlist": {"yes"}, "max_party_size": {"6"}, "access": {"public"},
		"registration_opens_at": {""}, "registration_closes_at": {"2030-07-06T12:00"},
		"min_age": {""}, "max_age": {""}, "price_note": {"Eintritt frei"},
	}
}

func admOrganiser(t *testing.T) (*testapp.App, *admClient) {
	a := testapp.New(t)
	o := a.Org(t, "a")
	a.Staff(t, o, "organiser@a.example", auth.Organiser, false)
	w := &admWorld{App: a, t: t}
	return a, w.client("organiser@a.example")
}

// The editor writes every field of the event, in the event's time zone;
// a draft is not public until it is published; the preview shows the
// public page without saving.
func TestEventEditorSavesDraftThenPublishes(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	f := admEventForm("sommerfest")
	f.Set("action", "draft")
	resp, body := c.post("/admin/orgs/a/new-event", f)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/orgs/a/events/sommerfest" {
		t.Fatalf("create: %d %q\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	e, err := a.Events.Get(t.Context(), "sommerfest")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := time.Date(2030, 7, 6, 15, 0, 0, 0, berlin)
	if e.Status != event.Draft || !e.StartsAt.Equal(want) || e.Timezone != "Europe/Berlin" || e.Kind != "festival" ||
		e.Title["en"] != "Summer party" || e.Title["ar"] != "حفلة الصيف" || e.Description["de"] != "Musik und Essen.\n\nFür alle." ||
		e.Capacity == nil || *e.Capacity != 200 || e.MaxPartySize != 6 || !e.Waitlist || e.PriceNote != "Eintritt frei" ||
		e.Venue.Name != "Kulturzentrum Faust" || e.Venue.AccessibilityNotes != "Stufenlos" || e.MinAge != nil ||
		e.RegistrationOpensAt != nil || e.RegistrationClosesAt == nil || !e.RegistrationClosesAt.Equal(time.Date(2030, 7, 6, 12, 0, 0, 0, berlin)) {
		t.Fatalf("stored event: %+v", e)
	}
	if code, _ := a.Browser(t).Get("/events/sommerfest"); code != http.StatusNotFound {
		t.Fatalf("a draft is public: %d", code)
	}
	_, page := c.Get("/admin/orgs/a/events/sommerfest")
	for _, want := range []string{`id="flash"`, `value="2030-07-06T15:00"`, `value="Summer party"`, `dir="rtl" value="حفلة الصيف"`, "Entwurf"} {
		if !strings.Contains(page, want) {
			t.Errorf("editor lacks %q", want)
		}
	}
	code, page := c.Get("/admin/orgs/a/events/sommerfest/preview")
	if code != http.StatusOK || !strings.Contains(page, "Sommerfest") || !strings.Contains(page, "Vorschau") || strings.Contains(page, `action="/events/sommerfest/register"`) {
		t.Fatalf("preview of the draft: %d", code)
	}

	// A preview of unsaved changes saves nothing.
	f = admEventForm("")
	f.Set("title_de", "Sommerfest mit Grill")
	resp, page = c.post("/admin/orgs/a/events/sommerfest/preview", f)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sommerfest mit Grill") {
		t.Fatalf("preview of a change: %d", resp.StatusCode)
	}
	if e, _ := a.Events.Get(t.Context(), "sommerfest"); e.Title["de"] != "Sommerfest" {
		t.Fatalf("the preview saved the change")
	}

	f = admEventForm("")
	f.Set("action", "publish")
	resp, _ = c.post("/admin/orgs/a/events/sommerfest", f)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	code, page = a.Browser(t).Get("/events/sommerfest?lang=en")
	if code != http.StatusOK || !strings.Contains(page, "Summer party") {
		t.Fatalf("published event page: %d", code)
	}
	if _, page := a.Browser(t).Get("/?lang=de"); !strings.Contains(page, "Sommerfest") {
		t.Fatalf("the published event is not on the public list")
	}
}

// Times are read in the zone the form names, and an all-day event spans
// whole days there.
func TestEventEditorReadsTimesInTheEventsZone(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	f := admEventForm("istanbul")
	f.Set("timezone", "Europe/Istanbul")
	f.Set("registration_closes_at", "")
	c.post("/admin/orgs/a/new-event", f)
	e, err := a.Events.Get(t.Context(), "istanbul")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.StartsAt.UTC(); !got.Equal(time.Date(2030, 7, 6, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("15:00 in Istanbul stored as %v", got)
	}
	f = admEventForm("ganztags")
	f.Set("all_day", "yes")
	f.Set("starts_at", "2030-07-06T10:30")
	f.Set("ends_at", "2030-07-07T09:00")
	f.Set("registration_closes_at", "")
	c.post("/admin/orgs/a/new-event", f)
	e, err = a.Events.Get(t.Context(), "ganztags")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if !e.AllDay || !e.StartsAt.Equal(time.Date(2030, 7, 6, 0, 0, 0, 0, berlin)) || !e.EndsAt.Equal(time.Date(2030, 7, 7, 23, 59, 0, 0, berlin)) {
		t.Errorf("all-day event: %v – %v (all day %v)", e.StartsAt.In(berlin), e.EndsAt.In(berlin), e.AllDay)
	}
}

// Every bad field is marked at the field and named in a summary that links
// to it, in one round trip; nothing is saved.
func TestEventEditorShowsEveryErrorAtItsField(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	f := admEventForm("Bad Slug")
	f.Set("title_de", "")
	f.Set("capacity", "viele")
	f.Set("ends_at", "2030-07-06T14:00")
	f.Set("max_age", "10")
	f.Set("min_age", "12")
	f.Set("registration_opens_at", "morgen")
	f.Set("venue_name", "")
	resp, page := c.post("/admin/orgs/a/new-event", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, field := range []string{"slug", "title-de", "capacity", "ends_at", "max_age", "registration_opens_at", "venue-name"} {
		if !strings.Contains(page, `id="e-`+field+`"`) {
			t.Errorf("field %s not marked", field)
		}
		if !strings.Contains(page, `href="#f-`+field+`"`) {
			t.Errorf("summary does not link %s", field)
		}
	}
	if !strings.Contains(page, `value="viele"`) {
		t.Errorf("the bad value is not shown back")
	}
	if n := a.Count(t, `SELECT count(*) FROM events`); n != 0 {
		t.Fatalf("events = %d", n)
	}
	f = admEventForm("ok")
	f.Set("timezone", "Mars/Olympus")
	resp, page = c.post("/admin/orgs/a/new-event", f)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-timezone"`) {
		t.Fatalf("bad zone: %d", resp.StatusCode)
	}
}

// A venue used before is picked from the list and not stored twice; the
// capacity cannot go below the confirmed seats; a copy is a new draft; a
// cancelled event cannot be changed.
func TestEventEditorReusesVenuesDuplicatesAndCancels(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	f := admEventForm("erstes")
	f.Set("action", "publish")
	c.post("/admin/orgs/a/new-event", f)
	var venueID int64
	if err := a.DB.Get(&venueID, `SELECT venue_id FROM events WHERE slug = 'erstes'`); err != nil {
		t.Fatal(err)
	}
	_, page := c.Get("/admin/orgs/a/new-event")
	if !strings.Contains(page, `<option value="`+strconv.FormatInt(venueID, 10)+`">Kulturzentrum Faust`) {
		t.Fatalf("the venue is not offered")
	}
	f = admEventForm("zweites")
	for _, k := range []string{"venue_name", "venue_street", "venue_postcode", "venue_city", "venue_accessibility_notes"} {
		f.Del(k)
	}
	f.Set("venue_pick", strconv.FormatInt(venueID, 10))
	if resp, body := c.post("/admin/orgs/a/new-event", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create with a picked venue: %d\n%.500s", resp.StatusCode, body)
	}
	if n := a.Count(t, `SELECT count(DISTINCT venue_id) FROM events`); n != 1 {
		t.Errorf("venues used = %d, want 1", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM venues`); n != 1 {
		t.Errorf("venues stored = %d, want 1", n)
	}
	// A venue of another organisation cannot be picked.
	b := a.Org(t, "b")
	other := a.Event(t, b, "fremd", nil)
	f.Set("slug", "drittes")
	f.Set("venue_pick", strconv.FormatInt(*other.Venue.ID, 10))
	if resp, page := c.post("/admin/orgs/a/new-event", f); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-venue_pick"`) {
		t.Fatalf("foreign venue: %d", resp.StatusCode)
	}

	admSignUp(t, a, "erstes", "Ayşe", "ayse@example.org", 1)
	f = admEventForm("")
	f.Set("capacity", "0")
	resp, page := c.post("/admin/orgs/a/events/erstes", f)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-capacity"`) {
		t.Fatalf("capacity below confirmed: %d", resp.StatusCode)
	}

	resp, _ = c.post("/admin/orgs/a/events/erstes/duplicate", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/orgs/a/events/erstes-2" {
		t.Fatalf("duplicate: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cp, err := a.Events.Get(t.Context(), "erstes-2")
	if err != nil {
		t.Fatal(err)
	}
	if cp.Status != event.Draft || cp.Title["en"] != "Summer party" || cp.SeatsConfirmed != 0 || cp.Venue.Name != "Kulturzentrum Faust" {
		t.Errorf("copy: %+v", cp)
	}
	if resp, _ := c.post("/admin/orgs/a/events/erstes-2/duplicate", nil); resp.Header.Get("Location") != "/admin/orgs/a/events/erstes-3" {
		t.Errorf("copy of a copy: %q", resp.Header.Get("Location"))
	}

	resp, _ = c.post("/admin/orgs/a/events/erstes/cancel", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if e, _ := a.Events.Get(t.Context(), "erstes"); e.Status != event.Cancelled {
		t.Fatalf("status %s", e.Status)
	}
	_, page = c.Get("/admin/orgs/a/events/erstes")
	if !strings.Contains(page, "abgesagt und kann nicht mehr geändert werden") || !strings.Contains(page, "disabled") {
		t.Errorf("the editor of a cancelled event is not read-only")
	}
	if resp, _ := c.post("/admin/orgs/a/events/erstes", admEventForm("")); resp.StatusCode != http.StatusConflict {
		t.Errorf("change of a cancelled event: %d, want 409", resp.StatusCode)
	}
	if _, page := c.Get("/admin/orgs/a"); !strings.Contains(page, "erstes-2") || !strings.Contains(page, "Abgesagt") {
		t.Errorf("the event list lacks the copy or the cancelled state")
	}
}
