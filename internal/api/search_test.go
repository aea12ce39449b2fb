package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// listSlugs is GET /api/v1/events?query: the status and the events' slugs.
func listSlugs(t *testing.T, a *testapp.App, query string) (int, []string, string) {
	t.Helper()
	resp, err := http.Get(a.URL + "/api/v1/events?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var list struct{ Events []struct{ Slug string } }
	_ = json.Unmarshal(raw, &list)
	var out []string
	for _, e := range list.Events {
		out = append(out, e.Slug)
	}
	return resp.StatusCode, out, string(raw)
}

// TestSearchFindsWordsInFiveLanguages: ?q= finds titles and descriptions in
// any language and the organisation's name, whatever the case and
// diacritics on either side (German, Turkish, Kurmanji, Arabic with and
// without harakat and tatweel, Persian and Arabic spellings of the same
// letters), and every word must be found.
func TestSearchFindsWordsInFiveLanguages(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso := a.Org(t, "miso")
	kurd := a.Org(t, "kurd")
	if _, err := a.DB.ExecContext(context.Background(), `UPDATE organisations SET name = 'Navenda Çanda Kurdî' WHERE id = $1`, kurd.ID); err != nil {
		t.Fatal(err)
	}
	texts := func(title, desc event.Texts) func(*event.Input) {
		return func(in *event.Input) {
			in.Title, in.Description = title, desc
			for l := range title {
				in.DefaultLang = &l
			}
		}
	}
	a.Event(t, miso, "muzik", texts(event.Texts{"tr": "Türk Müzik Akşamı", "de": "Türkischer Musikabend"}, event.Texts{"de": "Saz und Gesang."}))
	a.Event(t, miso, "maerchen", texts(event.Texts{"de": "Märchen für Groß und Klein"}, event.Texts{"de": "Vorlesen in der Bücherei."}))
	a.Event(t, kurd, "newroz", texts(event.Texts{"ku": "Şahiya Newrozê"}, event.Texts{"ku": "Stran û dîlan."}))
	a.Event(t, miso, "arabic", texts(event.Texts{"ar": "أمسية مُوسِيقِيّة عربيـــة"}, event.Texts{"de": "Oud und Gesang."}))
	a.Event(t, miso, "persian", texts(event.Texts{"fa": "شب شعر فارسی"}, event.Texts{"fa": "خواندن شعرهای حافظ و کتاب"}))
	a.Event(t, miso, "percent", texts(event.Texts{"de": "50% Rabatt für Mitglieder"}, nil))

	for q, want := range map[string][]string{
		// German: umlaut and ß folded, or typed.
		"märchen": {"maerchen"}, "MARCHEN": {"maerchen"}, "gross klein": {"maerchen"}, "groß": {"maerchen"}, "bucherei": {"maerchen"},
		// Turkish: ü, ğ, ş and dotless ı.
		"muzik": {"muzik"}, "MÜZİK": {"muzik"}, "aksami": {"muzik"}, "akşamı": {"muzik"},
		// Kurmanji: ş, ê, î, û; and the organisation's name.
		"newroze": {"newroz"}, "Şahiya": {"newroz"}, "dilan": {"newroz"}, "kurdi": {"newroz"}, "canda": {"newroz"},
		// Arabic: without harakat and tatweel, and with others than stored.
		"موسيقية": {"arabic"}, "مُوسِيقِيَّة": {"arabic"}, "عربية": {"arabic"}, "امسية": {"arabic"},
		// Persian: with the Arabic yeh and kaf that an Arabic keyboard types.
		"فارسی": {"persian"}, "فارسي": {"persian"}, "كتاب": {"persian"}, "حافظ": {"persian"},
		// Every word must be found, in any text of the event.
		"saz muzik": {"muzik"}, "saz märchen": nil, "gesang": {"muzik", "arabic"},
		// LIKE's wildcards are literal; a short word is found.
		"50%": {"percent"}, "%": {"percent"}, "0%": {"percent"}, "_": nil, "oud": {"arabic"},
		"nichtda": nil,
	} {
		status, got, body := listSlugs(t, a, "q="+url.QueryEscape(q))
		slices.Sort(got)
		slices.Sort(want)
		if status != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("q=%q: %d %v, want %v (%s)", q, status, got, want, body)
		}
	}
	// The search combines with the other filters.
	if _, got, _ := listSlugs(t, a, "q=gesang&org=miso&kind=festival"); len(got) != 0 {
		t.Errorf("q with kind=festival: %v", got)
	}
	if _, got, _ := listSlugs(t, a, "q=kurdi&org=miso"); len(got) != 0 {
		t.Errorf("q=kurdi&org=miso: %v", got)
	}
}

// TestSearchDatePresets: when=today|weekend|month against a set clock, in
// the network's home zone.
func TestSearchDatePresets(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	set := a.SettableClock()
	o := a.Org(t, "miso")
	berlin := event.Zone(event.DefaultTimezone)
	at := func(slug string, start time.Time) {
		end := start.Add(2 * time.Hour)
		a.Event(t, o, slug, func(in *event.Input) { in.StartsAt, in.EndsAt = &start, &end })
	}
	// Thursday 2031-05-15.
	at("thu", time.Date(2031, 5, 15, 19, 0, 0, 0, berlin))
	at("thu-late", time.Date(2031, 5, 15, 23, 30, 0, 0, berlin))
	at("fri", time.Date(2031, 5, 16, 19, 0, 0, 0, berlin))
	at("sat", time.Date(2031, 5, 17, 10, 0, 0, 0, berlin))
	at("sun", time.Date(2031, 5, 18, 21, 0, 0, 0, berlin))
	at("mon", time.Date(2031, 5, 19, 19, 0, 0, 0, berlin))
	at("june", time.Date(2031, 6, 1, 10, 0, 0, 0, berlin))

	check := func(now time.Time, query string, want ...string) {
		t.Helper()
		set(now)
		status, got, body := listSlugs(t, a, query)
		if status != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("%s at %s: %d %v, want %v (%s)", query, now, status, got, want, body)
		}
	}
	thuNoon := time.Date(2031, 5, 15, 12, 0, 0, 0, berlin)
	check(thuNoon, "when=today", "thu", "thu-late")
	check(thuNoon, "when=weekend", "sat", "sun")
	check(thuNoon, "when=month", "thu", "thu-late", "fri", "sat", "sun", "mon")
	// On Sunday the weekend is what is left of it.
	check(time.Date(2031, 5, 18, 12, 0, 0, 0, berlin), "when=weekend", "sun")
	// Late on Saturday: the event under way on Saturday morning is over.
	check(time.Date(2031, 5, 17, 12, 30, 0, 0, berlin), "when=weekend", "sun")
	// Dates are days in Europe/Berlin: 23:30 there is the next day in UTC.
	check(thuNoon, "from=2031-05-15&to=2031-05-15", "thu", "thu-late")
	check(thuNoon, "when=today&q=thu-late", "thu-late")
}

// TestSearchBadParametersAre422: every bad value is a 422 that names its
// parameter, never a 5xx, whatever the bytes. (Bytes that are not text
// (invalid UTF-8, NUL) are refused as 400 before the handler by the
// router's query check; the handler would say 422.)
func TestSearchBadParametersAre422(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	long := make([]byte, event.MaxQueryBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	for query, field := range map[string]string{
		"q=" + string(long):          "q",
		"q=a+b+c+d+e+f+g":            "q",
		"when=tomorrow":              "when",
		"when=today&from=2031-01-01": "when",
		"from=2031-02-30":            "from",
		"lang=xx":                    "lang",
		"access=wifi":                "access",
	} {
		status, _, body := listSlugs(t, a, query)
		var e struct {
			Error struct{ Fields map[string]string }
		}
		_ = json.Unmarshal([]byte(body), &e)
		if status != http.StatusUnprocessableEntity || e.Error.Fields[field] == "" {
			t.Errorf("%s: %d, want 422 naming %q: %s", query, status, field, body)
		}
	}
	for _, query := range []string{"q=%ff%fe", "q=a%00b", "when=%ff", "to=%00", "org=%ff", "org=a%00", "kind=%c3", "q=%c0%af"} {
		if status, _, body := listSlugs(t, a, query); status != http.StatusBadRequest && status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 400 or 422: %s", query, status, body)
		}
	}
	// Bytes that are no problem are simply not found.
	for _, query := range []string{"q=%27%3B+DROP+TABLE+events", "q=%5C", "q=%E2%80%8F", "q=+++"} {
		if status, _, body := listSlugs(t, a, query); status != http.StatusOK {
			t.Errorf("%s: %d %s", query, status, body)
		}
	}
}
