package web_test

import (
	"testing"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/config"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testdb"
)

// Feeds asked for without ?lang= speak DEFAULT_LANG, from the catalogue the
// app hands the calendar (not one it loads for itself); ?lang= still wins.
func TestFeedsWithoutLangSpeakDefaultLang(t *testing.T) {
	t.Parallel()
	a := testapp.OnDBWith(t, testdb.New(t), func(c *config.Config) { c.DefaultLang = "tr" })
	program(t, a)
	for path, want := range map[string][2]string{
		"/calendar.ics":         {"Treffpunkt: tüm etkinlikler", "Göçmen kuruluşları ağının etkinlikleri"},
		"/calendar.ics?lang=en": {"Treffpunkt: all events", "Events of the network of migrant organisations"},
		"/calendar.ics?lang=de": {"Treffpunkt: alle Veranstaltungen", "Veranstaltungen des Netzwerks der Migrant*innenorganisationen"},
	} {
		_, cal := feed(t, a, path)
		if name, desc := calProp(cal, ics.PropertyXWRCalName), calProp(cal, ics.PropertyXWRCalDesc); name != want[0] || desc != want[1] {
			t.Errorf("%s: X-WR-CALNAME %q, X-WR-CALDESC %q, want %q, %q", path, name, desc, want[0], want[1])
		}
	}
}
