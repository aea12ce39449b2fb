package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
)

// TestSeriesMadeFromAnEventThroughTheForm: "every 2 weeks on Tuesday, 4
// dates" from an event makes four events named by their day, each with
// the event's texts, rules, questions and facts and 19:00 local across the
// change to summer time (31 March 2030); the event itself stays alone.
// "Every month on the same weekday until" picks the second Tuesday. The
// series page lists the dates with links to their editors.
func TestSeriesMadeFromAnEventThroughTheForm(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Event(t, o, "quiz", func(in *event.Input) {
		in.Title = event.Texts{"de": "Hirnschmalz-Battle", "ar": "مسابقة المعلومات"}
		in.Capacity = event.Some(40)
		in.Questions = &event.Questions{{Key: "team", Type: event.QText, Label: event.Texts{"de": "Team"}}}
		in.Languages = &[]string{"de", "tr"}
		in.Childcare = new(true)
		in.Venue.StepFree = new(true)
	})
	if code, page := c.Get("/admin/orgs/a/events/quiz/series"); code != http.StatusOK ||
		!strings.Contains(page, `name="slug" type="text" required maxlength="69" pattern="[a-z0-9][a-z0-9\-]*" dir="ltr" autocomplete="off" value="quiz"`) {
		t.Fatalf("form: %d\n%.500s", code, page)
	}
	resp, body := c.post("/admin/orgs/a/events/quiz/series", url.Values{
		"slug": {"quiz-reihe"}, "first_starts": {"2030-03-19T19:00"}, "first_ends": {"2030-03-19T22:00"},
		"freq": {"weeks"}, "interval": {"2"}, "weekday": {"TU"}, "count": {"4"},
	})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/orgs/a/series#series-quiz-reihe" {
		t.Fatalf("create: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	berlin := event.Zone("Europe/Berlin")
	want := []string{"2030-03-19", "2030-04-02", "2030-04-16", "2030-04-30"}
	for _, d := range want {
		e, err := a.Events.GetForOrg(t.Context(), o.ID, "quiz-reihe-"+d)
		if err != nil {
			t.Fatalf("date %s: %v", d, err)
		}
		if got := e.StartsAt.In(berlin).Format("2006-01-02 15:04"); got != d+" 19:00" {
			t.Errorf("date %s starts %s", d, got)
		}
		if e.Title["de"] != "Hirnschmalz-Battle" || e.Capacity == nil || *e.Capacity != 40 || len(e.Questions) != 1 ||
			!e.Childcare || strings.Join(e.Languages, ",") != "de,tr" || e.Venue.StepFree == nil || !*e.Venue.StepFree {
			t.Errorf("date %s lacks the event's contents: %+v", d, e)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM series_events se JOIN events e ON e.id = se.event_id WHERE e.slug = 'quiz'`); n != 0 {
		t.Error("the template event became a date of the series")
	}
	_, page := c.Get("/admin/orgs/a/series")
	for _, d := range want {
		if !strings.Contains(page, `href="/admin/orgs/a/events/quiz-reihe-`+d+`"`) {
			t.Errorf("the series page lacks the editor link of %s", d)
		}
	}
	if !strings.Contains(page, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=4") {
		t.Error("the series page does not show the rule")
	}

	resp, body = c.post("/admin/orgs/a/events/quiz/series", url.Values{
		"slug": {"monat"}, "first_starts": {"2030-03-12T18:30"}, "first_ends": {"2030-03-12T20:00"},
		"freq": {"monthly"}, "weekday": {"TU"}, "until": {"2030-06-30"},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("monthly: %d\n%.800s", resp.StatusCode, body)
	}
	for _, d := range []string{"2030-03-12", "2030-04-09", "2030-05-14", "2030-06-11"} {
		if _, err := a.Events.GetForOrg(t.Context(), o.ID, "monat-"+d); err != nil {
			t.Errorf("second Tuesday %s: %v", d, err)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM series_events se JOIN series s ON s.id = se.series_id WHERE s.slug = 'monat'`); n != 4 {
		t.Errorf("monthly series has %d dates, want 4", n)
	}
}

// TestSeriesFormRefusesWhatItCannotRepeatWritingNothing: no end, both
// ends, a first date on another weekday than the one chosen, a bad slug,
// an interval of 0: each shown at its field, no series and no event
// written.
func TestSeriesFormRefusesWhatItCannotRepeatWritingNothing(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Event(t, o, "quiz", nil)
	events := a.Count(t, `SELECT count(*) FROM events`)
	good := func() url.Values {
		return url.Values{"slug": {"reihe"}, "first_starts": {"2030-03-19T19:00"}, "first_ends": {"2030-03-19T22:00"},
			"freq": {"weekly"}, "interval": {"2"}, "weekday": {"TU"}, "count": {"4"}}
	}
	for name, tc := range map[string]struct {
		change map[string]string
		field  string
	}{
		"no end":            {map[string]string{"count": ""}, "count"},
		"both ends":         {map[string]string{"until": "2030-06-30"}, "count"},
		"too many":          {map[string]string{"count": "101"}, "count"},
		"another weekday":   {map[string]string{"weekday": "WE"}, "first_starts"},
		"bad slug":          {map[string]string{"slug": "Reihe!"}, "slug"},
		"interval 0":        {map[string]string{"freq": "weeks", "interval": "0"}, "interval"},
		"ends before start": {map[string]string{"first_ends": "2030-03-19T18:00"}, "first_ends"},
		"no such weekday":   {map[string]string{"weekday": "XX"}, "weekday"},
	} {
		t.Run(name, func(t *testing.T) {
			f := good()
			for k, v := range tc.change {
				f.Set(k, v)
			}
			resp, body := c.post("/admin/orgs/a/events/quiz/series", f)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%.600s", resp.StatusCode, body)
			}
			if !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, `href="#f-`+tc.field+`"`) {
				t.Errorf("no error at %s\n%.3000s", tc.field, body[strings.Index(body, "<main"):])
			}
		})
	}
	if n := a.Count(t, `SELECT count(*) FROM series`); n != 0 {
		t.Errorf("%d series written", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM events`); n != events {
		t.Errorf("%d events written", n-events)
	}
}

// TestSeriesPageAddsAndCancelsOneDate: a date added on the series page
// gets the template's contents; a bad one is shown at its field and adds
// nothing; a date cancelled there is cancelled as its event (the other
// dates stay), and a date of another series is not found through it.
func TestSeriesPageAddsAndCancelsOneDate(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Date(2030, 3, 5, 19, 0, 0, 0, event.Zone("Europe/Berlin"))
	for _, slug := range []string{"treff", "andere"} {
		if _, err := a.Events.CreateSeries(t.Context(), o.ID, event.SeriesInput{Slug: slug,
			Template: []byte(`{"title":{"de":"Treffen"},"capacity":12,"status":"published"}`), RRule: "FREQ=WEEKLY;COUNT=2",
			First: &event.Span{StartsAt: first, EndsAt: first.Add(2 * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := c.post("/admin/orgs/a/series/treff/dates", url.Values{"starts_at": {"2030-04-01T19:00"}, "ends_at": {"2030-04-01T21:00"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d\n%.800s", resp.StatusCode, body)
	}
	e, err := a.Events.GetForOrg(t.Context(), o.ID, "treff-2030-04-01")
	if err != nil {
		t.Fatal(err)
	}
	if e.Capacity == nil || *e.Capacity != 12 || e.Title["de"] != "Treffen" || e.Status != event.Published ||
		e.StartsAt.In(event.Zone("Europe/Berlin")).Hour() != 19 {
		t.Errorf("the added date lacks the template: %+v", e)
	}
	for name, f := range map[string]url.Values{
		"ends before it starts": {"starts_at": {"2030-04-08T19:00"}, "ends_at": {"2030-04-08T18:00"}},
		"not a time":            {"starts_at": {"morgen"}, "ends_at": {"2030-04-08T18:00"}},
		"same day as another":   {"starts_at": {"2030-04-01T10:00"}, "ends_at": {"2030-04-01T11:00"}},
	} {
		resp, body := c.post("/admin/orgs/a/series/treff/dates", f)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `class="error" id="e-treff-`) {
			t.Errorf("%s: %d, want 422 with the error at the field\n%.600s", name, resp.StatusCode, body)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM series_events se JOIN series s ON s.id = se.series_id WHERE s.slug = 'treff'`); n != 3 {
		t.Errorf("treff has %d dates, want 3", n)
	}

	if resp, _ := c.post("/admin/orgs/a/series/treff/dates/andere-2030-03-05/cancel", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a date of another series: %d, want 404", resp.StatusCode)
	}
	resp, _ = c.post("/admin/orgs/a/series/treff/dates/treff-2030-03-12/cancel", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	for slug, want := range map[string]string{"treff-2030-03-12": event.Cancelled, "treff-2030-03-05": event.Published, "andere-2030-03-05": event.Published} {
		e, err := a.Events.GetForOrg(t.Context(), o.ID, slug)
		if err != nil || e.Status != want {
			t.Errorf("%s: %v %v, want %s", slug, e.Status, err, want)
		}
	}
	_, page := c.Get("/admin/orgs/a/series")
	if strings.Contains(page, `action="/admin/orgs/a/series/treff/dates/treff-2030-03-12/cancel"`) {
		t.Error("a cancelled date can be cancelled again")
	}
	if !strings.Contains(page, `action="/admin/orgs/a/series/treff/dates/treff-2030-03-05/cancel"`) {
		t.Error("an upcoming date has no cancel button")
	}
}
