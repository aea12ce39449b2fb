package web_test

import (
	"strings"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// TestEventPageShowsFactsInWordsAndWhereItIs: each known fact is written
// out (the icon beside it is hidden from screen readers, never alone), the
// languages spoken are badges in their own script, the venue links
// OpenStreetMap and a geo: URI, and the JSON-LD carries the facts as the
// Place's amenityFeature and its position. Without coordinates the map
// link searches for the address.
func TestEventPageShowsFactsInWordsAndWhereItIs(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "faust")
	a.Event(t, o, "fest", func(in *event.Input) {
		in.Venue.StepFree, in.Venue.HearingLoop = new(true), new(false)
		in.Venue.Lat, in.Venue.Lon = new(52.3759), new(9.732)
		in.Languages = &[]string{"de", "ar"}
		in.Childcare = new(true)
	})
	_, body := a.Browser(t).Get("/events/fest?lang=en")
	for _, want := range []string{
		`<span class="icon" aria-hidden="true">♿</span> Step-free access</li>`,
		`<span class="icon" aria-hidden="true">🦻</span> No hearing loop</li>`,
		`Childcare on site</li>`,
		`<li lang="ar" dir="rtl">العربية</li>`,
		`href="https://www.openstreetmap.org/?mlat=52.3759&amp;mlon=9.732#map=17/52.3759/9.732"`,
		`href="geo:52.3759,9.732"`,
		`"amenityFeature":[{"@type":"LocationFeatureSpecification","name":"step_free","value":true}`,
		`"geo":{"@type":"GeoCoordinates","latitude":52.3759,"longitude":9.732}`,
		`"inLanguage":["de","ar"]`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "Accessible toilet") || strings.Contains(body, "accessible toilet") {
		t.Error("an unknown fact is shown")
	}
	if _, list := a.Browser(t).Get("/?lang=en"); !strings.Contains(list, `<li lang="ar" dir="rtl">العربية</li>`) {
		t.Error("the list lacks the language badges")
	}

	a.Event(t, o, "quiz", nil)
	_, body = a.Browser(t).Get("/events/quiz?lang=en")
	if !strings.Contains(body, `href="https://www.openstreetmap.org/search?query=Kulturzentrum&#43;Faust%2C&#43;Zur&#43;Bettfedernfabrik&#43;3%2C&#43;30451&#43;Hannover"`) || strings.Contains(body, "geo:") {
		t.Errorf("no address search without coordinates")
	}
}
