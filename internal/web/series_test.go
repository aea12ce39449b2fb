package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testapp"
)

// quizSeries creates a published weekly series of three dates, starting
// next week at 19:00 Berlin time, with a German and an Arabic title.
func quizSeries(t *testing.T, a *testapp.App, o *org.Org) *event.Series {
	t.Helper()
	berlin := event.Zone("Europe/Berlin")
	d := time.Now().In(berlin).AddDate(0, 0, 7)
	first := time.Date(d.Year(), d.Month(), d.Day(), 19, 0, 0, 0, berlin)
	sr, err := a.Events.CreateSeries(context.Background(), o.ID, event.SeriesInput{
		Slug:     "quiz",
		Template: json.RawMessage(`{"title":{"de":"Quizabend","ar":"أمسية المسابقة"},"kind":"meeting","status":"published","capacity":30,"max_party_size":4}`),
		RRule:    "FREQ=WEEKLY;COUNT=3",
		First:    &event.Span{StartsAt: first, EndsAt: first.Add(150 * time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

// The series page lists every date with the places left, in German and in
// Arabic; each date's page links its siblings and the series; the embed
// stays in its frame.
func TestSeriesPageListsDatesAndDatesLinkSiblings(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.CaptureLogs()
	sr := quizSeries(t, a, a.Org(t, "miso"))
	a.Signed(t, sr.Dates[0].Slug, "Ayla Demir", 2)
	b := a.Browser(t)
	for lang, want := range map[string][]string{
		"de": {"Alle Termine: Quizabend", "28 Plätze frei", "30 Plätze frei", "/series/quiz.ics?lang=de"},
		"ar": {"كل المواعيد: أمسية المسابقة", `dir="rtl"`},
	} {
		code, body := b.Get("/series/quiz?lang=" + lang)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", lang, code)
		}
		for _, d := range sr.Dates {
			want = append(want, `href="/events/`+d.Slug+`"`)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: series page lacks %q", lang, w)
			}
		}
	}
	code, body := b.Get("/events/" + sr.Dates[1].Slug + "?lang=de")
	if code != http.StatusOK || !strings.Contains(body, "Weitere Termine dieser Reihe") ||
		!strings.Contains(body, `href="/events/`+sr.Dates[0].Slug+`"`) || !strings.Contains(body, `href="/events/`+sr.Dates[2].Slug+`"`) ||
		strings.Contains(body, `href="/events/`+sr.Dates[1].Slug+`"`) || !strings.Contains(body, `href="/series/quiz"`) {
		t.Fatalf("date page does not link its siblings: %d\n%s\n%s", code, body, a.Logs)
	}
	code, body = b.Get("/embed/series/quiz?lang=de")
	if code != http.StatusOK || !strings.Contains(body, `href="/embed/events/`+sr.Dates[0].Slug+`?lang=de" target="_self"`) || strings.Contains(body, `class="site"`) {
		t.Fatalf("embed series: %d\n%.800s", code, body)
	}
	// A stand-alone event shows no series box; an unknown series is a 404.
	a.Event(t, a.Org(t, "faust"), "fest", nil)
	if _, body := b.Get("/events/fest?lang=de"); strings.Contains(body, "Weitere Termine") {
		t.Fatal("stand-alone event shows a series box")
	}
	if code, _ := b.Get("/series/nichts"); code != http.StatusNotFound {
		t.Fatalf("unknown series: %d", code)
	}
}

// The series feed has one VEVENT per date with the events' own UIDs (the
// same the event's feed and the mails use), and passes both independent
// parsers.
func TestSeriesFeedHasOneStableEventPerDate(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	sr := quizSeries(t, a, a.Org(t, "miso"))
	code, body := a.Browser(t).Get("/series/quiz.ics")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	uids := regexp.MustCompile(`(?m)^UID:(.*)\r$`).FindAllStringSubmatch(body, -1)
	if len(uids) != 3 {
		t.Fatalf("%d UIDs, want 3:\n%s", len(uids), body)
	}
	for i, u := range uids {
		if !strings.HasPrefix(u[1], "event-") || !strings.Contains(u[1], "@") || u[1] != sr.Dates[i].UID(u[1][strings.Index(u[1], "@")+1:]) {
			t.Errorf("UID %q is not date %d's event UID", u[1], i)
		}
	}
	if code, _ := a.Browser(t).Get("/series/nichts.ics"); code != http.StatusNotFound {
		t.Fatalf("unknown series feed: %d", code)
	}

	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "validate-feeds.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(script, "--check-tools").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("feed validators missing in CI: %s", out)
		}
		t.Skipf("feed validators missing: %s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, a.URL, "/series/quiz.ics", "/series/quiz.ics?lang=ar").CombinedOutput()
	if err != nil {
		t.Fatalf("validate-feeds: %v\n%s", err, out)
	}
}

// The series page, a date's page with its siblings, and the series embed
// have no serious or critical axe violation, in German and in Arabic.
func TestAccessibilityAxeSeries(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	a := testapp.New(t)
	sr := quizSeries(t, a, a.Org(t, "miso"))
	page := axePages(a.URL)
	states := []a11yState{
		{"series page", page("/series/quiz", "main h1")},
		{"date of a series", page("/events/"+sr.Dates[1].Slug, "#series-h")},
		{"embedded series", page("/embed/series/quiz", "main h1")},
	}
	for _, lang := range []string{"de", "ar"} {
		// One language after the other in the test's own place: a
		// parallel subtest would wait behind all of the package's tests.
		t.Run(lang, func(t *testing.T) {
			checkA11y(t, src, lang, states)
		})
	}
}

// The editor of a date says it belongs to a series and whether the series'
// template still reaches it; once the date is saved on its own, it says so.
func TestEditorSaysWhetherADateFollowsItsSeries(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	sr := quizSeries(t, a, o)
	b := a.LoggedIn(t, a.Staff(t, o, "organiser@miso.example", "organiser", false))
	path := "/admin/orgs/miso/events/" + sr.Dates[0].Slug + "?lang=de"
	code, body := b.Get(path)
	if code != http.StatusOK || !strings.Contains(body, `id="series-note"`) || !strings.Contains(body, "bis er hier einzeln geändert wird") {
		t.Fatalf("editor of a date: %d\n%s", code, body)
	}
	if _, err := a.Events.Update(context.Background(), o.ID, sr.Dates[0].Slug, event.Input{Capacity: event.Some(12)}); err != nil {
		t.Fatal(err)
	}
	if _, body := b.Get(path); !strings.Contains(body, "Einzeln geändert") {
		t.Fatalf("editor does not say the date was edited alone:\n%s", body)
	}
}
