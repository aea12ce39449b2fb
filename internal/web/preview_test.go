package web_test

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testutil"
)

var (
	jsonLDRE = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
	metaRE   = regexp.MustCompile(`<meta property="(og:[a-z:_]+)" content="([^"]*)">`)
)

// pagePreview fetches a page and returns its OpenGraph tags (the first of
// each name) and its JSON-LD, decoded.
func pagePreview(t *testing.T, a *testapp.App, path string) (map[string]string, map[string]any, string) {
	t.Helper()
	_, body := a.Browser(t).Get(path)
	og := map[string]string{}
	for _, m := range metaRE.FindAllStringSubmatch(body, -1) {
		if _, seen := og[m[1]]; !seen {
			og[m[1]] = html.UnescapeString(m[2])
		}
	}
	m := jsonLDRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s: no JSON-LD", path)
	}
	var ld map[string]any
	if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
		t.Fatalf("%s: JSON-LD does not parse: %v\n%s", path, err, m[1])
	}
	return og, ld, body
}

func field(t *testing.T, ld map[string]any, path string) any {
	t.Helper()
	var cur any = ld
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("JSON-LD %s: %v is not an object", path, cur)
		}
		cur = obj[k]
	}
	return cur
}

// TestEventPageCarriesOpenGraphAndSchemaOrgEvent: the JSON-LD of an event
// page is parsed and checked field by field (times with the event's
// offset, status, place and address, organiser, free entry with an offer
// at price 0, language, picture); the OpenGraph tags carry absolute
// addresses from BASE_URL; the page links its calendar as an alternate.
func TestEventPageCarriesOpenGraphAndSchemaOrgEvent(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "faust")
	start := time.Date(2031, 5, 1, 14, 0, 0, 0, event.Zone("Europe/Berlin"))
	e := a.Event(t, o, "mai-fest", func(in *event.Input) {
		in.Kind = new("festival")
		in.Title = event.Texts{"de": "Internationales 1. Mai-Fest", "tr": "Uluslararası 1 Mayıs Şenliği"}
		in.Description = event.Texts{"de": "Musik, Essen und Reden <im Hof> & auf der Bühne.\n\nZweiter Absatz."}
		in.StartsAt, in.EndsAt = &start, new(start.Add(8*time.Hour))
	})
	if _, err := a.Events.SetImage(context.Background(), o.ID, e.Slug, testutil.PNGWithGPS(1700, 170, false), event.Texts{"de": "Bühne im Hof"}); err != nil {
		t.Fatal(err)
	}
	og, ld, body := pagePreview(t, a, "/events/mai-fest?lang=de")

	base := a.Config.BaseURL
	for k, want := range map[string]string{
		"og:title":       "Internationales 1. Mai-Fest",
		"og:url":         base + "/events/mai-fest",
		"og:locale":      "de_DE",
		"og:image:width": "1600",
		"og:image:alt":   "Bühne im Hof",
	} {
		if og[k] != want {
			t.Errorf("%s = %q, want %q", k, og[k], want)
		}
	}
	if !strings.HasPrefix(og["og:image"], base+"/images/") || !strings.Contains(og["og:description"], "Musik, Essen und Reden <im Hof> & auf der Bühne.") {
		t.Errorf("og:image %q, og:description %q", og["og:image"], og["og:description"])
	}
	if !strings.Contains(body, `<meta property="og:locale:alternate" content="tr_TR">`) {
		t.Error("no og:locale:alternate for the Turkish title")
	}
	if !strings.Contains(body, `<link rel="alternate" type="text/calendar" title="`) || !strings.Contains(body, `href="`+base+`/events/mai-fest.ics">`) {
		t.Error("no calendar alternate")
	}

	for path, want := range map[string]any{
		"@context":                         "https://schema.org",
		"@type":                            "Event",
		"name":                             "Internationales 1. Mai-Fest",
		"url":                              base + "/events/mai-fest",
		"startDate":                        "2031-05-01T14:00:00+02:00",
		"endDate":                          "2031-05-01T22:00:00+02:00",
		"eventStatus":                      "https://schema.org/EventScheduled",
		"eventAttendanceMode":              "https://schema.org/OfflineEventAttendanceMode",
		"location.@type":                   "Place",
		"location.name":                    "Kulturzentrum Faust",
		"location.address.@type":           "PostalAddress",
		"location.address.streetAddress":   "Zur Bettfedernfabrik 3",
		"location.address.postalCode":      "30451",
		"location.address.addressLocality": "Hannover",
		"organizer.@type":                  "Organization",
		"organizer.name":                   o.Name,
		"organizer.url":                    base + "/orgs/faust",
		"isAccessibleForFree":              true,
		"offers.@type":                     "Offer",
		"offers.price":                     float64(0),
		"offers.priceCurrency":             "EUR",
		"offers.availability":              "https://schema.org/InStock",
	} {
		if got := field(t, ld, path); got != want {
			t.Errorf("JSON-LD %s = %#v, want %#v", path, got, want)
		}
	}
	if d, _ := ld["description"].(string); !strings.Contains(d, "<im Hof>") {
		t.Errorf("description %q", d)
	}
	if imgs, _ := ld["image"].([]any); len(imgs) != 3 || !strings.HasPrefix(imgs[0].(string), base+"/images/") {
		t.Errorf("image %v", ld["image"])
	}
	if !strings.Contains(jsonLDRE.FindString(body), `\u003cim Hof\u003e`) {
		t.Error("the JSON-LD does not escape < inside <script>")
	}
	if lang := field(t, ld, "inLanguage"); lang == nil {
		t.Error("no inLanguage")
	}

	// Cancelled, with a price note: cancelled status, not free, no offer;
	// the title in og says so.
	if _, err := a.Events.Update(context.Background(), o.ID, e.Slug, event.Input{PriceNote: new("5 € at the door")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Events.Cancel(context.Background(), o.ID, e.Slug); err != nil {
		t.Fatal(err)
	}
	og, ld, _ = pagePreview(t, a, "/events/mai-fest?lang=tr")
	if field(t, ld, "eventStatus") != "https://schema.org/EventCancelled" || ld["isAccessibleForFree"] != nil || ld["offers"] != nil {
		t.Errorf("cancelled, paid: %v %v %v", ld["eventStatus"], ld["isAccessibleForFree"], ld["offers"])
	}
	if og["og:locale"] != "tr_TR" || !strings.HasSuffix(og["og:title"], "Uluslararası 1 Mayıs Şenliği") || og["og:title"] == "Uluslararası 1 Mayıs Şenliği" {
		t.Errorf("tr: locale %q title %q", og["og:locale"], og["og:title"])
	}
}

// TestListPagesLinkTheirCalendarFeed: the home page and an organisation's
// page name their feed as <link rel="alternate" type="text/calendar">.
func TestListPagesLinkTheirCalendarFeed(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Org(t, "miso")
	base := a.Config.BaseURL
	for path, feed := range map[string]string{"/?lang=en": base + "/calendar.ics?lang=en", "/orgs/miso?lang=en": base + "/orgs/miso/calendar.ics?lang=en"} {
		_, body := a.Browser(t).Get(path)
		if !strings.Contains(body, `type="text/calendar"`) || !strings.Contains(body, `href="`+feed+`"`) {
			t.Errorf("%s does not link %s", path, feed)
		}
	}
}
