package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"treffpunkt/internal/event"
)

func slugsOf(t *testing.T, res *response) []string {
	t.Helper()
	res.wantStatus(t, http.StatusOK)
	var b struct {
		Events []struct {
			Slug string `json:"slug"`
		} `json:"events"`
	}
	if err := json.Unmarshal(res.Body, &b); err != nil || b.Events == nil {
		t.Fatalf("answer %s (%v)", res.Body, err)
	}
	out := []string{}
	for _, e := range b.Events {
		out = append(out, e.Slug)
	}
	return out
}

func TestEventListShowsUpcomingPublishedAndCancelled(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso, faust := a.org("miso"), a.org("faust")
	in := func(d time.Duration) func(*event.Input) {
		return func(in *event.Input) {
			s := time.Now().Add(d).Truncate(time.Minute)
			in.StartsAt, in.EndsAt = &s, ptr(s.Add(2*time.Hour))
		}
	}
	a.event(miso.ID, "bald", in(48*time.Hour))
	a.event(miso.ID, "spaeter", in(40*24*time.Hour))
	a.event(miso.ID, "vorbei", in(-48*time.Hour))
	a.event(miso.ID, "entwurf", func(i *event.Input) { in(72 * time.Hour)(i); i.Status = ptr(event.Draft) })
	a.event(faust.ID, "quiz", func(i *event.Input) { in(24 * time.Hour)(i); i.Kind = ptr("other") })
	abgesagt := a.event(miso.ID, "abgesagt", in(96*time.Hour))
	if _, err := a.Events.Cancel(t.Context(), miso.ID, abgesagt.Slug); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"quiz", "bald", "abgesagt", "spaeter"}},
		{"?org=miso", []string{"bald", "abgesagt", "spaeter"}},
		{"?org=niemand", []string{}},
		{"?kind=other", []string{"quiz"}},
		{"?from=" + time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339), []string{"vorbei", "quiz", "bald", "abgesagt", "spaeter"}},
		{"?to=" + inBerlin(3*24*time.Hour), []string{"quiz", "bald"}},
		{"?from=" + inBerlin(30*24*time.Hour), []string{"spaeter"}},
	} {
		if got := slugsOf(t, a.get("/api/v1/events"+tc.query, "")); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
		}
	}
}

// inBerlin is the date in Hannover d from now: API dates are Berlin days.
func inBerlin(d time.Duration) string {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return time.Now().Add(d).In(loc).Format(time.DateOnly)
}

func TestEventListRejectsBadQuery(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, tc := range []struct{ query, field string }{
		{"?from=morgen", "from"},
		{"?to=2026-13-01", "to"},
		{"?from=2026-01-01T10:00:00", "from"},
		{"?kind=party", "kind"},
		{"?lang=xx", "lang"},
	} {
		e := a.get("/api/v1/events"+tc.query, "").apiErr(t, http.StatusUnprocessableEntity, "invalid")
		if e.Fields[tc.field] == "" {
			t.Errorf("%s: fields %v, want %s", tc.query, e.Fields, tc.field)
		}
	}
}

func TestEventShowsFiguresAndResolvesLanguage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "konferenz", func(in *event.Input) {
		in.Capacity = event.Some(3)
		in.Title = event.Texts{"de": "Migrationskonferenz", "en": "Migration conference"}
		in.Venue = &event.Venue{Name: "Freizeitheim Vahrenwald", City: "Hannover"}
		in.Timezone = ptr("Europe/Berlin")
	})
	a.event(a.org("faust").ID, "offen", func(in *event.Input) { in.Capacity, in.Venue = event.Null[int]{Set: true}, nil })
	for _, email := range []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org"} {
		a.postJSON(http.MethodPost, "/api/v1/events/konferenz/registrations", "", signup(email)).wantStatus(t, http.StatusCreated)
	}

	res := a.get("/api/v1/events/konferenz?lang=ar", "")
	res.wantStatus(t, http.StatusOK)
	b := res.object(t)
	want := map[string]any{
		"slug": "konferenz", "status": "published", "capacity": json.Number("3"),
		"seats_left": json.Number("0"), "waitlist_length": json.Number("1"), "registration_open": true,
		"registration_state": "open", "url": a.URL + "/events/konferenz",
		"title_text": "Migrationskonferenz", "description_text": "Beschreibung", "timezone": "Europe/Berlin",
	}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("%s = %v, want %v", k, b[k], v)
		}
	}
	if org := b["org"].(map[string]any); org["slug"] != "miso" || org["name"] != "MISO e. V." {
		t.Errorf("org %v", org)
	}
	if v := b["venue"].(map[string]any); v["name"] != "Freizeitheim Vahrenwald" || v["city"] != "Hannover" {
		t.Errorf("venue %v", v)
	}
	start, err := time.Parse(time.RFC3339, b["starts_at"].(string))
	if _, off := start.Zone(); err != nil || (off != 3600 && off != 7200) {
		t.Errorf("starts_at %v is not in Berlin time (%v)", b["starts_at"], err)
	}

	if b := a.get("/api/v1/events/konferenz?lang=en", "").object(t); b["title_text"] != "Migration conference" {
		t.Errorf("title_text %v", b["title_text"])
	}
	if b := a.get("/api/v1/events/konferenz", "").object(t); b["title_text"] != nil {
		t.Errorf("title_text %v without ?lang", b["title_text"])
	}

	b = a.get("/api/v1/events/offen", "").object(t)
	for _, k := range []string{"capacity", "seats_left", "venue"} {
		if v, ok := b[k]; !ok || v != nil {
			t.Errorf("%s = %v, want null", k, v)
		}
	}
}

func TestDraftEventIsNotFound(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "entwurf", func(in *event.Input) { in.Status = ptr(event.Draft) })
	a.get("/api/v1/events/entwurf", "").apiErr(t, http.StatusNotFound, "not_found")
	a.get("/api/v1/events/gibt-es-nicht", "").apiErr(t, http.StatusNotFound, "not_found")
}
