package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
)

type seriesAnswer struct {
	Slug   string `json:"slug"`
	Events []struct {
		Slug        string    `json:"slug"`
		StartsAt    time.Time `json:"starts_at"`
		EndsAt      time.Time `json:"ends_at"`
		Status      string    `json:"status"`
		Capacity    *int      `json:"capacity"`
		SeatsLeft   *int      `json:"seats_left"`
		Title       map[string]string
		EditedAlone bool `json:"edited_alone"`
	} `json:"events"`
}

func decodeSeries(t *testing.T, r *response) seriesAnswer {
	t.Helper()
	var s seriesAnswer
	if err := json.Unmarshal(r.Body, &s); err != nil {
		t.Fatalf("%v\n%s", err, r.Body)
	}
	return s
}

const quizTemplate = `{"title":{"de":"Quizabend","ar":"أمسية المسابقة"},"kind":"meeting","status":"published","capacity":30,
 "venue":{"name":"Kulturzentrum Faust","street":"Zur Bettfedernfabrik 3","postcode":"30451","city":"Hannover"}}`

func TestCreateSeriesFromDatesMakesOneEventPerDate(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	tok := a.token(miso.ID, auth.Organiser)
	res := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/series", tok, `{"slug":"quiz","template":`+quizTemplate+`,
	 "dates":[{"starts_at":"2030-05-07T19:00:00+02:00","ends_at":"2030-05-07T21:30:00+02:00"},
	          {"starts_at":"2030-06-04T19:00:00+02:00","ends_at":"2030-06-04T21:30:00+02:00"}]}`)
	res.wantStatus(t, http.StatusCreated)
	s := decodeSeries(t, res)
	if len(s.Events) != 2 || s.Events[0].Slug != "quiz-2030-05-07" || s.Events[1].Slug != "quiz-2030-06-04" {
		t.Fatalf("%s", res.Body)
	}
	if *s.Events[0].Capacity != 30 || s.Events[0].Status != "published" {
		t.Fatalf("template not applied: %s", res.Body)
	}
	// Each date is an ordinary event: its own sign-ups and places.
	a.postJSON(http.MethodPost, "/api/v1/events/quiz-2030-05-07/registrations", "", signup("ayse@example.org")).wantStatus(t, http.StatusCreated)
	pub := decodeSeries(t, a.get("/api/v1/series/quiz", ""))
	if len(pub.Events) != 2 || *pub.Events[0].SeatsLeft != 29 || *pub.Events[1].SeatsLeft != 30 {
		t.Fatalf("public series: %+v", pub)
	}
}

func TestCreateSeriesFromRuleKeepsLocalTimeAcrossSummerTime(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	tok := a.token(miso.ID, auth.Organiser)
	// 2030-03-31 is the last Sunday of March: Berlin moves to summer time.
	res := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/series", tok, `{"slug":"quiz","template":`+quizTemplate+`,
	 "rrule":"FREQ=WEEKLY;BYDAY=TU;COUNT=4","first":{"starts_at":"2030-03-19T19:00:00+01:00","ends_at":"2030-03-19T21:30:00+01:00"}}`)
	res.wantStatus(t, http.StatusCreated)
	s := decodeSeries(t, res)
	if len(s.Events) != 4 {
		t.Fatalf("%s", res.Body)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for i, e := range s.Events {
		st, en := e.StartsAt.In(berlin), e.EndsAt.In(berlin)
		if st.Hour() != 19 || st.Minute() != 0 || en.Hour() != 21 || en.Minute() != 30 || st.Weekday() != time.Tuesday {
			t.Errorf("date %d: %s – %s, want Tuesday 19:00–21:30 local", i, st, en)
		}
	}
	if _, off := s.Events[1].StartsAt.Zone(); off != 1*3600 {
		t.Errorf("second date offset %d, want +01:00", off)
	}
	if _, off := s.Events[2].StartsAt.Zone(); off != 2*3600 {
		t.Errorf("third date (after the change) offset %d, want +02:00", off)
	}
	if a.count(`SELECT count(*) FROM series_events`) != 4 {
		t.Fatal("dates not linked to the series")
	}
}

func TestCreateSeriesRefusesBadInputNamingTheFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	tok := a.token(miso.ID, auth.Organiser)
	var many []string
	for i := range 101 {
		d := time.Date(2030, 1, 1, 19, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		many = append(many, fmt.Sprintf(`{"starts_at":%q,"ends_at":%q}`, d.Format(time.RFC3339), d.Add(time.Hour).Format(time.RFC3339)))
	}
	first := `"first":{"starts_at":"2030-01-01T19:00:00+01:00","ends_at":"2030-01-01T21:00:00+01:00"}`
	cases := []struct{ name, body, field string }{
		{"101 dates", `{"slug":"q","template":` + quizTemplate + `,"dates":[` + strings.Join(many, ",") + `]}`, "dates"},
		{"ends before starts", `{"slug":"q","template":` + quizTemplate + `,"dates":[{"starts_at":"2030-01-01T19:00:00Z","ends_at":"2030-01-01T18:00:00Z"}]}`, "dates[0].ends_at"},
		{"rule part", `{"slug":"q","template":` + quizTemplate + `,"rrule":"FREQ=HOURLY;COUNT=3",` + first + `}`, "rrule"},
		{"rule too long", `{"slug":"q","template":` + quizTemplate + `,"rrule":"FREQ=DAILY;COUNT=150",` + first + `}`, "rrule"},
		{"rule without end", `{"slug":"q","template":` + quizTemplate + `,"rrule":"FREQ=DAILY",` + first + `}`, "rrule"},
		{"rule without first", `{"slug":"q","template":` + quizTemplate + `,"rrule":"FREQ=DAILY;COUNT=2"}`, "first"},
		{"neither", `{"slug":"q","template":` + quizTemplate + `}`, "dates"},
		{"two on one day", `{"slug":"q","template":` + quizTemplate + `,"dates":[{"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T11:00:00Z"},{"starts_at":"2030-01-01T15:00:00Z","ends_at":"2030-01-01T16:00:00Z"}]}`, "dates[1].starts_at"},
		{"template without title", `{"slug":"q","template":{"kind":"meeting"},"dates":[{"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T11:00:00Z"}]}`, "template.title"},
		{"time in the template", `{"slug":"q","template":{"starts_at":"2030-01-01T10:00:00Z","title":{"de":"x"}},"dates":[{"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T11:00:00Z"}]}`, "template.starts_at"},
		{"sessions in the template", `{"slug":"q","template":{"title":{"de":"x"},"sessions":[]},"dates":[{"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T11:00:00Z"}]}`, "template.sessions"},
		{"bad slug", `{"slug":"Quiz!","template":` + quizTemplate + `,"dates":[{"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T11:00:00Z"}]}`, "slug"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/series", tok, c.body).apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if _, ok := e.Fields[c.field]; !ok {
				t.Fatalf("fields %v, want %s", e.Fields, c.field)
			}
		})
	}
	if n := a.count(`SELECT count(*) FROM events`) + a.count(`SELECT count(*) FROM series`); n != 0 {
		t.Fatalf("refused input wrote %d rows", n)
	}
}

func TestPatchSeriesTemplateChangesFutureUneditedDatesOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	tok := a.token(miso.ID, auth.Organiser)
	past := time.Now().AddDate(0, 0, -14).Truncate(time.Hour)
	soon := time.Now().AddDate(0, 0, 7).Truncate(time.Hour)
	later := time.Now().AddDate(0, 0, 14).Truncate(time.Hour)
	span := func(t time.Time) string {
		return fmt.Sprintf(`{"starts_at":%q,"ends_at":%q}`, t.Format(time.RFC3339), t.Add(2*time.Hour).Format(time.RFC3339))
	}
	a.postJSON(http.MethodPost, "/api/v1/orgs/miso/series", tok, `{"slug":"quiz","template":`+quizTemplate+`,"dates":[`+
		span(past)+`,`+span(soon)+`,`+span(later)+`]}`).wantStatus(t, http.StatusCreated)
	slug := func(t time.Time) string { return "quiz-" + t.In(berlin()).Format("2006-01-02") }

	// The later date is edited on its own: it keeps its own title.
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/"+slug(later), tok, `{"title":{"de":"Sonderquiz"}}`).wantStatus(t, http.StatusOK)
	res := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/series/quiz", tok, `{"template":{"title":{"de":"Quiz im Faust"},"capacity":40}}`)
	res.wantStatus(t, http.StatusOK)
	s := decodeSeries(t, res)
	if len(s.Events) != 3 {
		t.Fatalf("%s", res.Body)
	}
	want := []struct {
		title  string
		cap    int
		edited bool
	}{{"Quizabend", 30, false}, {"Quiz im Faust", 40, false}, {"Sonderquiz", 30, true}}
	for i, w := range want {
		e := s.Events[i]
		if e.Title["de"] != w.title || *e.Capacity != w.cap || e.EditedAlone != w.edited {
			t.Errorf("date %d (%s): title %q capacity %d edited %v, want %+v", i, e.Slug, e.Title["de"], *e.Capacity, e.EditedAlone, w)
		}
	}

	// A date added later takes the template as it is now; one date is
	// cancelled through the event's own path.
	extra := time.Now().AddDate(0, 0, 21).Truncate(time.Hour)
	res = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/series/quiz", tok, `{"add_dates":[`+span(extra)+`]}`)
	res.wantStatus(t, http.StatusOK)
	s = decodeSeries(t, res)
	if len(s.Events) != 4 || s.Events[3].Title["de"] != "Quiz im Faust" || *s.Events[3].Capacity != 40 {
		t.Fatalf("added date: %s", res.Body)
	}
	a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events/"+slug(soon)+"/cancel", tok, "").wantStatus(t, http.StatusOK)
	pub := decodeSeries(t, a.get("/api/v1/series/quiz", ""))
	if len(pub.Events) != 4 || pub.Events[1].Status != "cancelled" {
		t.Fatalf("public after cancel: %+v", pub)
	}
	// The same day twice is refused with the field named.
	e := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/series/quiz", tok, `{"add_dates":[`+span(extra)+`]}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	if _, ok := e.Fields["add_dates[0].starts_at"]; !ok {
		t.Fatalf("fields %v", e.Fields)
	}
	// Another organisation's token sees no such series.
	other := a.token(a.org("faust").ID, auth.Organiser)
	a.postJSON(http.MethodPatch, "/api/v1/orgs/faust/series/quiz", other, `{"template":{"capacity":1}}`).apiErr(t, http.StatusNotFound, "not_found")
	a.get("/api/v1/series/nichts", "").apiErr(t, http.StatusNotFound, "not_found")
}

func berlin() *time.Location {
	l, _ := time.LoadLocation("Europe/Berlin")
	return l
}
