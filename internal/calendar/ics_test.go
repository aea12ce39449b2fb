package calendar

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	webfs "treffpunkt/web"
)

// testCatalogue is the app's catalogue with German as the default, as
// cmd/treffpunkt builds it for DEFAULT_LANG=de.
func testCatalogue(t testing.TB) *i18n.Catalogue {
	t.Helper()
	cat, err := i18n.Load(webfs.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func sampleEvent(t testing.TB, title string, start, end time.Time) *event.Event {
	t.Helper()
	return &event.Event{
		ID: 42, Slug: "fest", OrgSlug: "miso", OrgName: "MiSO e. V.", OrgEmail: "info@miso.example",
		Kind: "festival", DefaultLang: "de", Title: event.Texts{"de": title},
		Description: event.Texts{"de": "Beschreibung."},
		StartsAt:    start.UTC(), EndsAt: end.UTC(), Timezone: "Europe/Berlin", Status: event.Published,
		Venue:    event.Venue{Name: "Kulturzentrum Faust", Street: "Zur Bettfedernfabrik 3", Postcode: "30451", City: "Hannover"},
		Sequence: 3, CalendarChangedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// CheckLines fails unless every line of an iCalendar object ends in CRLF,
// is at most 75 octets long and holds whole UTF-8 characters.
func CheckLines(t testing.TB, body []byte) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Errorf("object does not end in CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 75 {
			t.Errorf("line %d is %d octets long: %q", i+1, len(line), line)
		}
		if !utf8.Valid(line) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, line)
		}
	}
}

func parseOne(t testing.TB, body []byte) *ics.VEvent {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("golang-ical cannot parse: %v\n%s", err, body)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	return evs[0]
}

func prop(v *ics.VEvent, p ics.ComponentProperty) string {
	if pr := v.GetProperty(p); pr != nil {
		return pr.Value
	}
	return ""
}

func TestInviteIsOnePublishedEventWithTheFeedsFields(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	e := sampleEvent(t, "Internationales 1. Mai-Fest", time.Date(2026, 5, 1, 14, 0, 0, 0, loc), time.Date(2026, 5, 1, 22, 0, 0, 0, loc))
	body, err := Invite(testCatalogue(t), e, "de", "https://treffpunkt.example")
	if err != nil {
		t.Fatal(err)
	}
	CheckLines(t, body)
	if !bytes.Contains(body, []byte("\r\nMETHOD:PUBLISH\r\n")) {
		t.Errorf("no METHOD:PUBLISH")
	}
	v := parseOne(t, body)
	for p, want := range map[ics.ComponentProperty]string{
		ics.ComponentPropertyUniqueId:     "event-42@treffpunkt.example",
		ics.ComponentPropertyDtstamp:      "20260102T030405Z",
		ics.ComponentPropertyLastModified: "20260102T030405Z",
		ics.ComponentPropertySequence:     "3",
		ics.ComponentPropertyDtStart:      "20260501T120000Z",
		ics.ComponentPropertyDtEnd:        "20260501T200000Z",
		ics.ComponentPropertyStatus:       "CONFIRMED",
		ics.ComponentPropertySummary:      "Internationales 1. Mai-Fest",
		ics.ComponentPropertyLocation:     "Kulturzentrum Faust, Zur Bettfedernfabrik 3, 30451 Hannover",
		ics.ComponentPropertyUrl:          "https://treffpunkt.example/events/fest",
		ics.ComponentPropertyCategories:   "Fest",
		ics.ComponentPropertyDescription:  "Beschreibung.\n\nMehr und Anmeldung: https://treffpunkt.example/events/fest",
	} {
		if got := prop(v, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	org := v.GetProperty(ics.ComponentPropertyOrganizer)
	if org == nil || org.Value != "mailto:info@miso.example" || org.ICalParameters["CN"][0] != "MiSO e. V." {
		t.Errorf("ORGANIZER = %+v", org)
	}
}

// Commas, semicolons, backslashes and line breaks of every kind survive a
// round trip in titles, descriptions and places; a CR never reaches the
// output as such.
func TestTextIsEscapedIncludingCR(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	nasty := "Kochen, Essen; Reden \\ Tanzen\r\nzweite Zeile\rdritte Zeile\nvierte"
	want := "Kochen, Essen; Reden \\ Tanzen\nzweite Zeile\ndritte Zeile\nvierte"
	e := sampleEvent(t, nasty, time.Date(2026, 5, 1, 14, 0, 0, 0, loc), time.Date(2026, 5, 1, 22, 0, 0, 0, loc))
	e.Description = event.Texts{"de": nasty}
	e.Venue.Name = "Saal; Haus, 1 \\ 2"
	body, err := Invite(testCatalogue(t), e, "de", "https://treffpunkt.example")
	if err != nil {
		t.Fatal(err)
	}
	CheckLines(t, body)
	unfolded := strings.ReplaceAll(string(body), "\r\n ", "")
	if !strings.Contains(unfolded, `SUMMARY:Kochen\, Essen\; Reden \\ Tanzen\nzweite Zeile\ndritte Zeile\nvierte`+"\r\n") {
		t.Errorf("SUMMARY not escaped as RFC 5545 says:\n%s", unfolded)
	}
	v := parseOne(t, body)
	if got := prop(v, ics.ComponentPropertySummary); got != want {
		t.Errorf("SUMMARY = %q, want %q", got, want)
	}
	if got := prop(v, ics.ComponentPropertyDescription); !strings.HasPrefix(got, want+"\n\n") {
		t.Errorf("DESCRIPTION = %q", got)
	}
	if got := prop(v, ics.ComponentPropertyLocation); !strings.HasPrefix(got, "Saal; Haus, 1 \\ 2, ") {
		t.Errorf("LOCATION = %q", got)
	}
}

// Long titles in German, Turkish, Arabic and Persian fold at 75 octets
// without splitting a character and come back unchanged.
func TestUTF8TitlesFoldWithoutBreakingCharacters(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	for lang, title := range map[string]string{
		"de": "Neujahrsempfang der Ezidischen Akademie – Grüße, Gespräche und Musik für alle Größen",
		"tr": "Yeni yıl resepsiyonu: Ağrı'dan İstanbul'a şarkılar, sohbetler ve güzel yemekler",
		"ar": "حفل استقبال رأس السنة الجديدة في هانوفر مع الموسيقى والحوار والطعام للجميع",
		"fa": "جشن سال نو در هانوفر با موسیقی، شعر، گفت‌وگو و غذاهای خوشمزه برای همه",
	} {
		e := sampleEvent(t, "x", time.Date(2026, 1, 19, 15, 0, 0, 0, loc), time.Date(2026, 1, 19, 18, 0, 0, 0, loc))
		e.DefaultLang = lang
		e.Title = event.Texts{lang: title}
		body, err := Invite(testCatalogue(t), e, lang, "https://treffpunkt.example")
		if err != nil {
			t.Fatal(err)
		}
		CheckLines(t, body)
		if got := prop(parseOne(t, body), ics.ComponentPropertySummary); got != title {
			t.Errorf("%s: SUMMARY = %q, want %q", lang, got, title)
		}
	}
}

// Times are UTC: Europe/Berlin is +02:00 in summer and +01:00 in winter,
// and a seminar from Friday to Sunday spans its days.
func TestInstantsAreUTCInSummerWinterAndAcrossDays(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	for name, c := range map[string]struct {
		start, end         time.Time
		wantStart, wantEnd string
	}{
		"summer":                  {time.Date(2026, 7, 3, 18, 0, 0, 0, loc), time.Date(2026, 7, 3, 21, 0, 0, 0, loc), "20260703T160000Z", "20260703T190000Z"},
		"winter":                  {time.Date(2026, 1, 16, 18, 0, 0, 0, loc), time.Date(2026, 1, 16, 21, 0, 0, 0, loc), "20260116T170000Z", "20260116T200000Z"},
		"friday to sunday":        {time.Date(2026, 1, 23, 17, 0, 0, 0, loc), time.Date(2026, 1, 25, 14, 0, 0, 0, loc), "20260123T160000Z", "20260125T130000Z"},
		"across the clock change": {time.Date(2026, 3, 28, 10, 0, 0, 0, loc), time.Date(2026, 3, 29, 16, 0, 0, 0, loc), "20260328T090000Z", "20260329T140000Z"},
	} {
		body, err := Invite(testCatalogue(t), sampleEvent(t, "x", c.start, c.end), "de", "https://treffpunkt.example")
		if err != nil {
			t.Fatal(err)
		}
		v := parseOne(t, body)
		if got := prop(v, ics.ComponentPropertyDtStart); got != c.wantStart {
			t.Errorf("%s: DTSTART %s, want %s", name, got, c.wantStart)
		}
		if got := prop(v, ics.ComponentPropertyDtEnd); got != c.wantEnd {
			t.Errorf("%s: DTEND %s, want %s", name, got, c.wantEnd)
		}
	}
}

// An all-day event is dated in its own time zone, with DTEND the day after
// its last day.
func TestAllDayEventsUseDatesWithExclusiveEnd(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	for name, c := range map[string]struct {
		start, end         time.Time
		wantStart, wantEnd string
	}{
		// Midnight in Berlin is the evening before in UTC.
		"one day":    {time.Date(2026, 5, 1, 0, 0, 0, 0, loc), time.Date(2026, 5, 1, 23, 59, 0, 0, loc), "20260501", "20260502"},
		"three days": {time.Date(2026, 1, 25, 0, 0, 0, 0, loc), time.Date(2026, 1, 27, 23, 59, 0, 0, loc), "20260125", "20260128"},
		"year end":   {time.Date(2026, 12, 31, 0, 0, 0, 0, loc), time.Date(2026, 12, 31, 0, 0, 0, 0, loc), "20261231", "20270101"},
	} {
		e := sampleEvent(t, "Wochenende in Loccum", c.start, c.end)
		e.AllDay = true
		body, err := Invite(testCatalogue(t), e, "de", "https://treffpunkt.example")
		if err != nil {
			t.Fatal(err)
		}
		unfolded := strings.ReplaceAll(string(body), "\r\n ", "")
		for _, want := range []string{"DTSTART;VALUE=DATE:" + c.wantStart + "\r\n", "DTEND;VALUE=DATE:" + c.wantEnd + "\r\n"} {
			if !strings.Contains(unfolded, want) {
				t.Errorf("%s: missing %q in\n%s", name, want, unfolded)
			}
		}
		v := parseOne(t, body)
		if _, err := v.GetAllDayStartAt(); err != nil {
			t.Errorf("%s: DTSTART is no date: %v", name, err)
		}
	}
}

func TestCancelledEventSaysSoInItsLanguage(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	e := sampleEvent(t, "Hirnschmalz-Battle", time.Date(2026, 2, 25, 20, 0, 0, 0, loc), time.Date(2026, 2, 25, 23, 0, 0, 0, loc))
	e.Title["en"] = "Brain Battle"
	e.Status = event.Cancelled
	for lang, want := range map[string]string{"de": "Abgesagt: Hirnschmalz-Battle", "en": "Cancelled: Brain Battle", "tr": "İptal edildi: Hirnschmalz-Battle", "ar": "ملغاة: Hirnschmalz-Battle", "ru": "Отменено: Hirnschmalz-Battle"} {
		body, err := Invite(testCatalogue(t), e, lang, "https://treffpunkt.example")
		if err != nil {
			t.Fatal(err)
		}
		v := parseOne(t, body)
		if got := prop(v, ics.ComponentPropertySummary); got != want {
			t.Errorf("%s: SUMMARY %q, want %q", lang, got, want)
		}
		if got := prop(v, ics.ComponentPropertyStatus); got != "CANCELLED" {
			t.Errorf("%s: STATUS %q", lang, got)
		}
	}
}

func TestFoldKeepsShortLinesAndSplitsLongOnes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ä", 100) // 200 octets
	out := fold(nil, []byte("A:b\nX:"+long+"\n"))
	CheckLines(t, out)
	if got := strings.ReplaceAll(string(out), "\r\n ", ""); got != "A:b\r\nX:"+long+"\r\n" {
		t.Errorf("unfolding does not give the line back: %q", got)
	}
}
