package calendar

import (
	"fmt"
	"testing"
	"time"

	"treffpunkt/internal/event"
)

// BenchmarkRenderFeed1000 renders a feed of 1,000 events, each with a
// multi-line German description and a full address (target: < 20 ms).
func BenchmarkRenderFeed1000(b *testing.B) {
	loc := berlin(b)
	d := doc{Name: "Treffpunkt: alle Veranstaltungen", Desc: "Alle", Lang: "de", BaseURL: "https://treffpunkt.example"}
	start := time.Date(2026, 1, 1, 18, 0, 0, 0, loc)
	for i := range 1000 {
		e := sampleEvent(b, fmt.Sprintf("Veranstaltung Nummer %d: Gespräch über Teilhabe, Arbeit und Wohnen", i),
			start.Add(time.Duration(i)*7*time.Hour), start.Add(time.Duration(i)*7*time.Hour+3*time.Hour))
		e.ID = int64(i + 1)
		e.Slug = fmt.Sprintf("veranstaltung-%d", i)
		e.Description = event.Texts{"de": "Wir laden herzlich ein.\n\nEs gibt Getränke, Essen und Musik; der Eintritt ist frei.\nAnmeldung erbeten."}
		e.AllDay = i%10 == 0
		d.Entries = append(d.Entries, entry{Event: e})
	}
	cat := testCatalogue(b)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		body, err := render(cat, d)
		if err != nil {
			b.Fatal(err)
		}
		size = len(body)
	}
	b.ReportMetric(float64(size), "bytes/feed")
}
