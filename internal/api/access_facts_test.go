package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"treffpunkt/internal/auth"
)

// TestAccessFactsAndLanguagesThroughTheAPI: an organiser sets the venue's
// facts (true, false or unknown), its position, the languages spoken and
// the event's own facts; the public API shows them and filters by them
// (access=…, lang=…); bad values are 422 naming the field or parameter.
func TestAccessFactsAndLanguagesThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	tok := a.token(miso.ID, auth.Organiser)
	create := func(body string) *response {
		return a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events", tok, body)
	}
	r := create(`{"slug":"fest","title":{"de":"Fest"},"status":"published","starts_at":"2031-05-01T14:00:00+02:00","ends_at":"2031-05-01T22:00:00+02:00",
		"venue":{"name":"Faust","street":"Zur Bettfedernfabrik 3","postcode":"30451","city":"Hannover","step_free":true,"accessible_toilet":false,"lat":52.3759,"lon":9.7320},
		"languages":["de","ar","ku"],"interpreting":["fa"],"sign_language":true,"childcare":true}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if r := create(`{"slug":"quiz","title":{"de":"Quiz","tr":"Bilgi yarışması"},"status":"published","starts_at":"2031-05-02T20:00:00+02:00","ends_at":"2031-05-02T22:00:00+02:00","venue":{"name":"Keller"}}`); r.Status != http.StatusCreated {
		t.Fatalf("create quiz: %d %s", r.Status, r.Body)
	}

	var ev struct {
		Venue struct {
			StepFree         *bool    `json:"step_free"`
			AccessibleToilet *bool    `json:"accessible_toilet"`
			HearingLoop      *bool    `json:"hearing_loop"`
			Lat              *float64 `json:"lat"`
			Lon              *float64 `json:"lon"`
		} `json:"venue"`
		Languages    []string `json:"languages"`
		Interpreting []string `json:"interpreting"`
		SignLanguage bool     `json:"sign_language"`
		Childcare    bool     `json:"childcare"`
	}
	if err := json.Unmarshal(a.get("/api/v1/events/fest", "").Body, &ev); err != nil {
		t.Fatal(err)
	}
	v := ev.Venue
	if v.StepFree == nil || !*v.StepFree || v.AccessibleToilet == nil || *v.AccessibleToilet || v.HearingLoop != nil || v.Lat == nil || *v.Lat != 52.3759 {
		t.Errorf("venue facts %+v", v)
	}
	if !slices.Equal(ev.Languages, []string{"de", "ar", "ku"}) || !slices.Equal(ev.Interpreting, []string{"fa"}) || !ev.SignLanguage || !ev.Childcare {
		t.Errorf("event facts %+v", ev)
	}

	slugs := func(q string) []string {
		t.Helper()
		res := a.get("/api/v1/events?from=2031-01-01"+q, "")
		var list struct{ Events []struct{ Slug string } }
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &list) != nil {
			t.Fatalf("%s: %d %s", q, res.Status, res.Body)
		}
		var out []string
		for _, e := range list.Events {
			out = append(out, e.Slug)
		}
		return out
	}
	for q, want := range map[string][]string{
		"":                                   {"fest", "quiz"},
		"&access=step_free":                  {"fest"},
		"&access=step_free,childcare":        {"fest"},
		"&access=accessible_toilet":          nil, // known to be false
		"&access=hearing_loop":               nil, // not known
		"&access=interpreting,sign_language": {"fest"},
		"&lang=ar":                           {"fest"},
		"&lang=ku":                           {"fest"},
		// Without languages, the languages of the title count.
		"&lang=tr": {"quiz"},
		"&lang=de": {"fest", "quiz"},
		"&lang=fa": nil,
	} {
		if got := slugs(q); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}

	// Sending the same place again with facts does not move the event:
	// calendars and attendees are not told of a change.
	seq := func() any { return a.get("/api/v1/events/fest", "").object(t)["sequence"] }
	before := seq()
	if r := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/fest", tok, `{"venue":{"name":"Faust","street":"Zur Bettfedernfabrik 3","postcode":"30451","city":"Hannover","step_free":true,"hearing_loop":true,"lat":52.3759,"lon":9.7320}}`); r.Status != http.StatusOK {
		t.Fatalf("patch venue: %d %s", r.Status, r.Body)
	}
	if after := seq(); after != before {
		t.Errorf("sequence %v → %v for the same place", before, after)
	}
	if got := slugs("&access=hearing_loop"); !slices.Equal(got, []string{"fest"}) {
		t.Errorf("hearing loop after the change: %v", got)
	}

	for q, param := range map[string]string{"?access=wheelchair": "access", "?access=step_free,,": "access", "?lang=xx": "lang"} {
		if e := a.get("/api/v1/events"+q, "").apiErr(t, http.StatusUnprocessableEntity, "invalid"); e.Fields[param] == "" {
			t.Errorf("%s: fields %v", q, e.Fields)
		}
	}
	for body, field := range map[string]string{
		`{"languages":["de","xx"]}`:                   "languages",
		`{"venue":{"name":"Faust","lat":52}}`:         "venue.lat",
		`{"venue":{"name":"Faust","lat":95,"lon":9}}`: "venue.lat",
		`{"sign_language":"yes"}`:                     "sign_language",
	} {
		r := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/fest", tok, body)
		if e := r.apiErr(t, http.StatusUnprocessableEntity, "invalid"); e.Fields[field] == "" {
			t.Errorf("%s: fields %v", body, e.Fields)
		}
	}
}
