package calendar

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
)

// FuzzInviteText puts arbitrary text into an event's title, description
// and venue and checks what calendar apps rely on: every line ends in CRLF,
// is at most 75 octets and holds whole UTF-8 characters; the object parses;
// and the texts come back as they were (after clean: CR and control
// characters normalised) — so escaping round-trips. Seed corpus:
// testdata/fuzz/FuzzInviteText; `make fuzz` runs it briefly.
func FuzzInviteText(f *testing.F) {
	f.Add("Internationales 1. Mai-Fest", "Beschreibung.\n\nZweiter Absatz.", "Kulturzentrum Faust")
	f.Add("Kochen, Essen; Reden \\ Tanzen\r\nzweite Zeile\rdritte", "a\\nb\\,c", "Saal; Haus, 1 \\ 2")
	f.Add(strings.Repeat("ğüşİöç", 30), strings.Repeat("نوروز مبارک ", 20), strings.Repeat("Ж", 80))
	f.Add("\x00\x1f\x7f\xff\xfe", "\t\t\t", "\r")
	f.Add("ends with backslash \\", "\"quoted\" :colon: ;semi", "emoji 🎉🎉🎉")
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	start := time.Date(2026, 5, 1, 14, 0, 0, 0, loc)
	cat := testCatalogue(f)
	f.Fuzz(func(t *testing.T, title, desc, venue string) {
		if strings.TrimSpace(title) == "" {
			t.Skip("an event always has a title")
		}
		e := sampleEvent(t, title, start, start.Add(8*time.Hour))
		e.Description = event.Texts{"de": desc}
		e.Venue.Name = venue
		body, err := Invite(cat, e, "de", "https://treffpunkt.example")
		if err != nil {
			t.Fatal(err)
		}
		CheckLines(t, body)
		v := parseOne(t, body)
		if got, want := prop(v, ics.ComponentPropertySummary), clean(title); got != want {
			t.Errorf("SUMMARY = %q, want %q", got, want)
		}
		got := prop(v, ics.ComponentPropertyDescription)
		if d := strings.TrimSpace(clean(desc)); d != "" && !strings.HasPrefix(got, d+"\n\n") {
			t.Errorf("DESCRIPTION = %q, want it to start with %q", got, d)
		}
		if !strings.HasSuffix(got, "https://treffpunkt.example/events/fest") {
			t.Errorf("DESCRIPTION = %q lost its link", got)
		}
		if n := clean(venue); n != "" && !strings.HasPrefix(prop(v, ics.ComponentPropertyLocation), n+", ") {
			t.Errorf("LOCATION = %q, want it to start with %q", prop(v, ics.ComponentPropertyLocation), n)
		}
	})
}
