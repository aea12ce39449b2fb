package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

type feedResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// fetch requests path with header name/value pairs, like a calendar app.
func fetch(t *testing.T, a *testapp.App, method, path string, header ...string) feedResponse {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return feedResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// feed fetches a feed that must be there, checks the HTTP side and the line
// structure, and parses it with golang-ical.
func feed(t *testing.T, a *testapp.App, path string) (feedResponse, *ics.Calendar) {
	t.Helper()
	r := fetch(t, a, http.MethodGet, path)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d: %.300s", path, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	if et := r.Header.Get("ETag"); !strings.HasPrefix(et, `"`) || len(et) < 10 {
		t.Errorf("%s: ETag %q is not a strong ETag", path, et)
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Errorf("%s: sets a cookie", path)
	}
	checkLines(t, path, r.Body)
	cal, err := ics.ParseCalendar(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("%s: golang-ical cannot parse: %v\n%s", path, err, r.Body)
	}
	for _, p := range []ics.Property{ics.PropertyVersion, ics.PropertyProductId, ics.PropertyXWRCalName,
		ics.PropertyXWRCalDesc, "REFRESH-INTERVAL", ics.PropertyXPublishedTTL} {
		if calProp(cal, p) == "" {
			t.Errorf("%s: no %s", path, p)
		}
	}
	if m := calProp(cal, ics.PropertyMethod); m != "PUBLISH" {
		t.Errorf("%s: METHOD %q", path, m)
	}
	for _, v := range cal.Events() {
		for _, p := range []ics.ComponentProperty{ics.ComponentPropertyUniqueId, ics.ComponentPropertyDtstamp,
			ics.ComponentPropertyLastModified, ics.ComponentPropertySequence, ics.ComponentPropertyDtStart,
			ics.ComponentPropertyDtEnd, ics.ComponentPropertyStatus, ics.ComponentPropertySummary,
			ics.ComponentPropertyDescription, ics.ComponentPropertyUrl, ics.ComponentPropertyOrganizer,
			ics.ComponentPropertyCategories} {
			if v.GetProperty(p) == nil {
				t.Errorf("%s: VEVENT %s has no %s", path, v.Id(), p)
			}
		}
	}
	return r, cal
}

// checkLines: every line ends in CRLF, is at most 75 octets and holds whole
// UTF-8 characters.
func checkLines(t *testing.T, path string, body []byte) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Errorf("%s: does not end in CRLF", path)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("%s: line %d has a bare CR or LF", path, i+1)
		}
		if len(line) > 75 {
			t.Errorf("%s: line %d has %d octets", path, i+1, len(line))
		}
		if !utf8.Valid(line) {
			t.Errorf("%s: line %d splits a character", path, i+1)
		}
	}
}

func calProp(cal *ics.Calendar, p ics.Property) string {
	for _, cp := range cal.CalendarProperties {
		if cp.IANAToken == string(p) {
			return cp.Value
		}
	}
	return ""
}

func prop(v *ics.VEvent, p ics.ComponentProperty) string {
	if pr := v.GetProperty(p); pr != nil {
		return pr.Value
	}
	return ""
}

// bySlug maps the VEVENTs of a feed by the slug in their URL.
func bySlug(cal *ics.Calendar) map[string]*ics.VEvent {
	out := map[string]*ics.VEvent{}
	for _, v := range cal.Events() {
		u := prop(v, ics.ComponentPropertyUrl)
		out[u[strings.LastIndex(u, "/")+1:]] = v
	}
	return out
}

func at(t *testing.T, y int, m time.Month, d, h, min int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

func when(start, end time.Time, allDay bool) func(*event.Input) {
	return func(in *event.Input) {
		in.StartsAt, in.EndsAt = &start, &end
		in.AllDay = &allDay
	}
}

func kind(k string) func(*event.Input) { return func(in *event.Input) { in.Kind = &k } }

func titled(tt event.Texts) func(*event.Input) { return func(in *event.Input) { in.Title = tt } }

func all(fs ...func(*event.Input)) func(*event.Input) {
	return func(in *event.Input) {
		for _, f := range fs {
			f(in)
		}
	}
}

// program is a network with two organisations and events of every shape.
func program(t *testing.T, a *testapp.App) (*org.Org, *org.Org) {
	t.Helper()
	next := time.Now().Year() + 1
	miso, faust := a.Org(t, "miso"), a.Org(t, "faust")
	a.Event(t, miso, "konferenz", all(kind("conference"), when(at(t, next, 7, 3, 10, 0), at(t, next, 7, 3, 18, 0), false),
		titled(event.Texts{
			"de": "Migrationskonferenz: Teilhabe, Arbeit; Wohnen \\ Bildung",
			"tr": "Göç konferansı: katılım, iş ve konut üzerine büyük buluşma İstanbul'dan",
			"ar": "مؤتمر الهجرة: المشاركة والعمل والسكن في هانوفر للجميع",
			"fa": "کنفرانس مهاجرت: مشارکت، کار و مسکن در هانوفر برای همه",
			"en": "Migration conference",
		})))
	a.Event(t, miso, "empfang", all(kind("meeting"), when(at(t, next, 1, 19, 15, 0), at(t, next, 1, 19, 18, 0), false),
		titled(event.Texts{"de": "Neujahrsempfang"})))
	a.Event(t, miso, "loccum", all(kind("seminar"), when(at(t, next, 1, 23, 17, 0), at(t, next, 1, 25, 14, 0), false),
		titled(event.Texts{"de": "Wochenende in Loccum"})))
	a.Event(t, faust, "maifest", all(kind("festival"), when(at(t, next, 5, 1, 0, 0), at(t, next, 5, 1, 23, 59), true),
		titled(event.Texts{"de": "Internationales 1. Mai-Fest"}), func(in *event.Input) {
			in.Description = event.Texts{"de": "Musik, Essen; Tanz \\ Spiele\r\nfür alle\rund jede"}
		}))
	return miso, faust
}

func TestEveryFeedParsesWithCRLFFoldingAndAllFields(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	program(t, a)
	next := time.Now().Year() + 1
	for _, path := range []string{"/calendar.ics", "/calendar.ics?lang=en", "/calendar.ics?kind=seminar",
		"/orgs/miso/calendar.ics", "/orgs/faust/calendar.ics?lang=tr", "/events/konferenz.ics?lang=ar", "/events/maifest.ics"} {
		r, cal := feed(t, a, path)
		if r.Header.Get("Cache-Control") != "public, max-age=300" || r.Header.Get("Last-Modified") == "" {
			t.Errorf("%s: Cache-Control %q, Last-Modified %q", path, r.Header.Get("Cache-Control"), r.Header.Get("Last-Modified"))
		}
		if len(cal.Events()) == 0 {
			t.Errorf("%s: no events", path)
		}
	}

	_, cal := feed(t, a, "/calendar.ics")
	evs := bySlug(cal)
	if len(evs) != 4 {
		t.Fatalf("network feed has %d events, want 4", len(evs))
	}
	for slug, want := range map[string][2]string{
		// Summer: Berlin is UTC+2; winter: UTC+1; a weekend seminar spans
		// its days; an all-day festival has dates with an exclusive end.
		"konferenz": {"%d0703T080000Z", "%d0703T160000Z"},
		"empfang":   {"%d0119T140000Z", "%d0119T170000Z"},
		"loccum":    {"%d0123T160000Z", "%d0125T130000Z"},
		"maifest":   {"%d0501", "%d0502"},
	} {
		v := evs[slug]
		if got, w := prop(v, ics.ComponentPropertyDtStart), strings.Replace(want[0], "%d", itoa(next), 1); got != w {
			t.Errorf("%s: DTSTART %s, want %s", slug, got, w)
		}
		if got, w := prop(v, ics.ComponentPropertyDtEnd), strings.Replace(want[1], "%d", itoa(next), 1); got != w {
			t.Errorf("%s: DTEND %s, want %s", slug, got, w)
		}
	}
	if p := evs["maifest"].GetProperty(ics.ComponentPropertyDtStart); p.ICalParameters["VALUE"][0] != "DATE" {
		t.Errorf("all-day DTSTART without VALUE=DATE")
	}
	k := evs["konferenz"]
	if got := prop(k, ics.ComponentPropertySummary); got != "Migrationskonferenz: Teilhabe, Arbeit; Wohnen \\ Bildung" {
		t.Errorf("SUMMARY %q", got)
	}
	if !bytes.Contains(bytes.ReplaceAll(mustGet(t, a, "/calendar.ics"), []byte("\r\n "), nil),
		[]byte(`SUMMARY:Migrationskonferenz: Teilhabe\, Arbeit\; Wohnen \\ Bildung`+"\r\n")) {
		t.Errorf("SUMMARY is not escaped as RFC 5545 says")
	}
	if got := prop(evs["maifest"], ics.ComponentPropertyDescription); !strings.HasPrefix(got, "Musik, Essen; Tanz \\ Spiele\nfür alle\nund jede\n\n") {
		t.Errorf("DESCRIPTION %q", got)
	}
	if got := prop(k, ics.ComponentPropertyLocation); got != "Kulturzentrum Faust, Zur Bettfedernfabrik 3, 30451 Hannover" {
		t.Errorf("LOCATION %q", got)
	}
	if got := prop(k, ics.ComponentPropertyUrl); got != a.URL+"/events/konferenz" {
		t.Errorf("URL %q", got)
	}
	if org := k.GetProperty(ics.ComponentPropertyOrganizer); org.ICalParameters["CN"][0] != "MISO e. V." || org.Value != "mailto:info@miso.example" {
		t.Errorf("ORGANIZER %+v", org)
	}
	if got := prop(k, ics.ComponentPropertyCategories); got != "Konferenz" {
		t.Errorf("CATEGORIES %q", got)
	}

	// ?lang= picks the title, else the event's default language; ?kind=
	// keeps one kind; an organisation's feed has its events only.
	for path, want := range map[string]map[string]string{
		"/events/konferenz.ics?lang=en":      {"konferenz": "Migration conference"},
		"/events/empfang.ics?lang=en":        {"empfang": "Neujahrsempfang"},
		"/events/konferenz.ics?lang=tr":      {"konferenz": "Göç konferansı: katılım, iş ve konut üzerine büyük buluşma İstanbul'dan"},
		"/events/konferenz.ics?lang=ar":      {"konferenz": "مؤتمر الهجرة: المشاركة والعمل والسكن في هانوفر للجميع"},
		"/events/konferenz.ics?lang=fa":      {"konferenz": "کنفرانس مهاجرت: مشارکت، کار و مسکن در هانوفر برای همه"},
		"/calendar.ics?kind=seminar":         {"loccum": "Wochenende in Loccum"},
		"/orgs/faust/calendar.ics":           {"maifest": "Internationales 1. Mai-Fest"},
		"/orgs/miso/calendar.ics?kind=other": {},
	} {
		_, cal := feed(t, a, path)
		got := bySlug(cal)
		if len(got) != len(want) {
			t.Errorf("%s: %d events, want %d", path, len(got), len(want))
		}
		for slug, title := range want {
			if v := got[slug]; v == nil || prop(v, ics.ComponentPropertySummary) != title {
				t.Errorf("%s: %s is missing or not titled %q", path, slug, title)
			}
		}
	}
	if _, cal := feed(t, a, "/calendar.ics?lang=en&kind=seminar"); calProp(cal, ics.PropertyXWRCalName) != "Treffpunkt: all events: Seminar" {
		t.Errorf("X-WR-CALNAME %q", calProp(cal, ics.PropertyXWRCalName))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustGet(t *testing.T, a *testapp.App, path string) []byte {
	t.Helper()
	r := fetch(t, a, http.MethodGet, path)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d", path, r.Status)
	}
	return r.Body
}

func TestFeedsRefuseWhatDoesNotExist(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso, _ := program(t, a)
	draft := event.Draft
	a.Event(t, miso, "entwurf", func(in *event.Input) { in.Status = &draft })
	for path, status := range map[string]int{
		"/calendar.ics?kind=party":                   400,
		"/calendar.ics?lang=xx":                      400,
		"/orgs/nope/calendar.ics":                    404,
		"/events/nope.ics":                           404,
		"/events/entwurf.ics":                        404,
		"/feeds/nope.ics":                            404,
		"/feeds/" + strings.Repeat("a", 32) + ".ics": 404,
		"/feeds/" + strings.Repeat("a", 32):          404,
	} {
		if r := fetch(t, a, http.MethodGet, path); r.Status != status {
			t.Errorf("%s: %d, want %d", path, r.Status, status)
		}
	}
	_, cal := feed(t, a, "/calendar.ics")
	if bySlug(cal)["entwurf"] != nil {
		t.Errorf("a draft is in the network feed")
	}
}

// SEQUENCE and LAST-MODIFIED rise with every change a calendar shows; the
// ETag changes when, and only when, the feed's content does.
func TestSequenceAndETagFollowCalendarChanges(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso, _ := program(t, a)
	ctx := context.Background()
	state := func(path string) (etag string, seq, modified, status, summary string) {
		t.Helper()
		r, cal := feed(t, a, path)
		v := bySlug(cal)["empfang"]
		return r.Header.Get("ETag"), prop(v, ics.ComponentPropertySequence), prop(v, ics.ComponentPropertyLastModified),
			prop(v, ics.ComponentPropertyStatus), prop(v, ics.ComponentPropertySummary)
	}
	tag0, seq0, mod0, _, _ := state("/events/empfang.ics")
	net0, _, _, _, _ := state("/calendar.ics")
	if seq0 != "0" {
		t.Fatalf("new event has SEQUENCE %s", seq0)
	}
	if tag, _, _, _, _ := state("/events/empfang.ics"); tag != tag0 {
		t.Errorf("ETag changed without a change: %s then %s", tag0, tag)
	}
	// A change no calendar shows (capacity, sign-ups) keeps ETag and SEQUENCE.
	if _, err := a.Events.Update(ctx, miso.ID, "empfang", event.Input{Capacity: event.Some(50)}); err != nil {
		t.Fatal(err)
	}
	if tag, seq, _, _, _ := state("/events/empfang.ics"); tag != tag0 || seq != "0" {
		t.Errorf("capacity change: ETag %s→%s, SEQUENCE %s", tag0, tag, seq)
	}
	if tag, _, _, _, _ := state("/calendar.ics"); tag != net0 {
		t.Errorf("network feed ETag changed with the capacity")
	}
	// Another event's change leaves this event's feed alone.
	if _, err := a.Events.Update(ctx, miso.ID, "loccum", event.Input{Title: event.Texts{"de": "Wochenende in Loccum (neu)"}}); err != nil {
		t.Fatal(err)
	}
	if tag, _, _, _, _ := state("/events/empfang.ics"); tag != tag0 {
		t.Errorf("ETag of one event's feed changed with another event")
	}
	net1, _, _, _, _ := state("/calendar.ics")
	if net1 == net0 {
		t.Errorf("network ETag did not change with a title")
	}
	time.Sleep(1100 * time.Millisecond) // LAST-MODIFIED has seconds
	later := at(t, time.Now().Year()+1, 1, 19, 16, 0)
	if _, err := a.Events.Update(ctx, miso.ID, "empfang", event.Input{StartsAt: &later}); err != nil {
		t.Fatal(err)
	}
	tag1, seq1, mod1, _, _ := state("/events/empfang.ics")
	if tag1 == tag0 || seq1 != "1" || mod1 <= mod0 {
		t.Errorf("moved: ETag %s→%s, SEQUENCE %s, LAST-MODIFIED %s→%s", tag0, tag1, seq1, mod0, mod1)
	}
	if _, err := a.Events.Cancel(ctx, miso.ID, "empfang"); err != nil {
		t.Fatal(err)
	}
	tag2, seq2, _, status, summary := state("/events/empfang.ics")
	if tag2 == tag1 || seq2 != "2" || status != "CANCELLED" || summary != "Abgesagt: Neujahrsempfang" {
		t.Errorf("cancelled: ETag changed %v, SEQUENCE %s, STATUS %s, SUMMARY %q", tag2 != tag1, seq2, status, summary)
	}
	if _, seq, _, status, summary := state("/calendar.ics?lang=en"); seq != "2" || status != "CANCELLED" || summary != "Cancelled: Neujahrsempfang" {
		t.Errorf("network feed: SEQUENCE %s, STATUS %s, SUMMARY %q", seq, status, summary)
	}
}

func TestConditionalRequestsAnswer304WithoutBody(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso, _ := program(t, a)
	for _, path := range []string{"/calendar.ics", "/orgs/miso/calendar.ics?lang=en", "/events/loccum.ics"} {
		r := fetch(t, a, http.MethodGet, path)
		etag, lm := r.Header.Get("ETag"), r.Header.Get("Last-Modified")
		lmTime, err := http.ParseTime(lm)
		if err != nil {
			t.Fatalf("%s: Last-Modified %q: %v", path, lm, err)
		}
		for name, c := range map[string]struct {
			method string
			header []string
			status int
		}{
			"If-None-Match":                    {"GET", []string{"If-None-Match", etag}, 304},
			"If-None-Match weak":               {"GET", []string{"If-None-Match", "W/" + etag}, 304},
			"If-None-Match list":               {"GET", []string{"If-None-Match", `"x", ` + etag}, 304},
			"If-None-Match star":               {"GET", []string{"If-None-Match", "*"}, 304},
			"If-None-Match other":              {"GET", []string{"If-None-Match", `"other"`}, 200},
			"If-Modified-Since":                {"GET", []string{"If-Modified-Since", lm}, 304},
			"If-Modified-Since later":          {"GET", []string{"If-Modified-Since", lmTime.Add(time.Hour).Format(http.TimeFormat)}, 304},
			"If-Modified-Since earlier":        {"GET", []string{"If-Modified-Since", lmTime.Add(-time.Second).Format(http.TimeFormat)}, 200},
			"If-None-Match wins":               {"GET", []string{"If-None-Match", `"other"`, "If-Modified-Since", lm}, 200},
			"If-None-Match wins the other way": {"GET", []string{"If-None-Match", etag, "If-Modified-Since", lmTime.Add(-time.Hour).Format(http.TimeFormat)}, 304},
			"HEAD":                             {"HEAD", nil, 200},
			"HEAD If-None-Match":               {"HEAD", []string{"If-None-Match", etag}, 304},
		} {
			got := fetch(t, a, c.method, path, c.header...)
			if got.Status != c.status {
				t.Errorf("%s %s: %d, want %d", path, name, got.Status, c.status)
			}
			if got.Header.Get("ETag") != etag || got.Header.Get("Cache-Control") != "public, max-age=300" {
				t.Errorf("%s %s: ETag %q, Cache-Control %q", path, name, got.Header.Get("ETag"), got.Header.Get("Cache-Control"))
			}
			if (got.Status == 304 || c.method == "HEAD") && len(got.Body) != 0 {
				t.Errorf("%s %s: %d bytes of body", path, name, len(got.Body))
			}
			if c.status == 200 && c.method == "GET" && !bytes.Equal(got.Body, r.Body) {
				t.Errorf("%s %s: body differs from the first answer", path, name)
			}
		}
	}
	// After a change, the old validators get the new feed.
	r := fetch(t, a, http.MethodGet, "/events/loccum.ics")
	time.Sleep(1100 * time.Millisecond)
	if _, err := a.Events.Update(context.Background(), miso.ID, "loccum", event.Input{Description: event.Texts{"de": "Neu."}}); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]string{{"If-None-Match", r.Header.Get("ETag")}, {"If-Modified-Since", r.Header.Get("Last-Modified")}} {
		got := fetch(t, a, http.MethodGet, "/events/loccum.ics", h...)
		if got.Status != 200 || got.Header.Get("ETag") == r.Header.Get("ETag") || !bytes.Contains(got.Body, []byte("Neu.")) {
			t.Errorf("after a change, %s: %d, same ETag %v", h[0], got.Status, got.Header.Get("ETag") == r.Header.Get("ETag"))
		}
	}
}

// Ended events stay 90 days and cancelled ones 30 days after the
// cancellation; one that dropped out moves Last-Modified.
func TestFeedWindowsKeepRecentPastAndCancelledEvents(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso := a.Org(t, "miso")
	now := time.Now().Truncate(time.Minute)
	day := 24 * time.Hour
	for slug, ago := range map[string]time.Duration{"vor-10-tagen": 10 * day, "vor-100-tagen": 100 * day, "vor-95-tagen": 95 * day} {
		a.Event(t, miso, slug, when(now.Add(-ago-3*time.Hour), now.Add(-ago), false))
	}
	a.Event(t, miso, "abgesagt-neu", nil)
	a.Event(t, miso, "abgesagt-alt", nil)
	for _, slug := range []string{"abgesagt-neu", "abgesagt-alt"} {
		if _, err := a.Events.Cancel(context.Background(), miso.ID, slug); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DB.Exec(`UPDATE events SET cancelled_at = now() - interval '31 days' WHERE slug = 'abgesagt-alt'`); err != nil {
		t.Fatal(err)
	}
	r, cal := feed(t, a, "/calendar.ics")
	evs := bySlug(cal)
	for slug, in := range map[string]bool{"vor-10-tagen": true, "vor-100-tagen": false, "vor-95-tagen": false, "abgesagt-neu": true, "abgesagt-alt": false} {
		if (evs[slug] != nil) != in {
			t.Errorf("%s in the feed: %v, want %v", slug, evs[slug] != nil, in)
		}
	}
	if v := evs["abgesagt-neu"]; v != nil && prop(v, ics.ComponentPropertyStatus) != "CANCELLED" {
		t.Errorf("cancelled event is %s", prop(v, ics.ComponentPropertyStatus))
	}
	// vor-95-tagen left the feed five days ago: later than every change of
	// what is in it, so Last-Modified says so.
	lm, _ := http.ParseTime(r.Header.Get("Last-Modified"))
	left := now.Add(-95 * day).Add(90 * day)
	if lm.Before(left.Add(-time.Second)) {
		t.Errorf("Last-Modified %s is before the latest drop-out %s", lm, left)
	}
	// The event's own feed shows it whatever its age.
	if _, cal := feed(t, a, "/events/vor-100-tagen.ics"); len(cal.Events()) != 1 {
		t.Errorf("an old event's own feed is empty")
	}
}

var feedLinkRE = regexp.MustCompile(`https?://[^"]+/feeds/([a-z2-7]{32})\.ics`)

// personalLink opens a registration page in b and returns its personal feed
// token, or "".
func personalLink(t *testing.T, b *testapp.Browser, manage string) (token, page string) {
	t.Helper()
	code, page := b.Get("/r/" + manage)
	if code != 200 {
		t.Fatalf("registration page: %d", code)
	}
	if m := feedLinkRE.FindStringSubmatch(page); m != nil {
		return m[1], page
	}
	return "", page
}

func calendarButton(t *testing.T, b *testapp.Browser, manage, action string) *http.Response {
	t.Helper()
	resp, _ := b.Post("/r/"+manage, "/r/"+manage+"/calendar", url.Values{"action": {action}})
	return resp
}

func signUp(t *testing.T, a *testapp.App, slug, email string) *registration.Registration {
	t.Helper()
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{Name: "Ayşe", Email: email, PartySize: 1, Consent: true})
	if err != nil {
		t.Fatalf("sign up for %s: %v", slug, err)
	}
	return res.Registration
}

// The personal feed holds one person's registrations with their status,
// grows through the pages of their other registrations, and a new link
// kills the old one at once.
func TestPersonalFeedShowsStatusesAndRevokesOldLinks(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso, _ := program(t, a)
	ctx := context.Background()
	a.Event(t, miso, "voll", func(in *event.Input) { in.Capacity = event.Some(1) })
	signUp(t, a, "voll", "first@example.org")

	confirmed := signUp(t, a, "konferenz", "ayse@example.org")
	waiting := signUp(t, a, "voll", "Ayse@Example.org")
	withdrawn := signUp(t, a, "loccum", "ayse@example.org")
	dropped := signUp(t, a, "empfang", "ayse@example.org")

	b := a.Browser(t)
	if tok, page := personalLink(t, b, confirmed.ManageToken); tok != "" || !strings.Contains(page, `value="create"`) {
		t.Fatalf("a registration without a feed shows a link or no button")
	}
	if resp := calendarButton(t, b, confirmed.ManageToken, "create"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	token, page := personalLink(t, b, confirmed.ManageToken)
	if token == "" || !strings.Contains(page, "webcal://") || !strings.Contains(page, `value="new"`) {
		t.Fatalf("no personal feed link (webcal and https) and renew button after creating one")
	}
	// The same browser adds the person's other registrations.
	for _, r := range []*registration.Registration{waiting, withdrawn, dropped} {
		if _, page := personalLink(t, b, r.ManageToken); !strings.Contains(page, `value="join"`) {
			t.Fatalf("the page of another registration of the same address offers no join")
		}
		if resp := calendarButton(t, b, r.ManageToken, "join"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("join: %d", resp.StatusCode)
		}
		if tok, _ := personalLink(t, b, r.ManageToken); tok != token {
			t.Fatalf("joined registration shows link %q, want %q", tok, token)
		}
	}
	if _, err := a.Registrations.Cancel(ctx, withdrawn.ManageToken); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Events.Cancel(ctx, miso.ID, "empfang"); err != nil {
		t.Fatal(err)
	}

	path := "/feeds/" + token + ".ics"
	r, cal := feed(t, a, path)
	if r.Header.Get("Cache-Control") != "private, max-age=300" {
		t.Errorf("personal feed Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	evs := bySlug(cal)
	for slug, want := range map[string][2]string{
		"konferenz": {"CONFIRMED", "Migrationskonferenz: Teilhabe, Arbeit; Wohnen \\ Bildung"},
		"voll":      {"TENTATIVE", "Werkstatt voll (Warteliste)"},
		"loccum":    {"CANCELLED", "Abgemeldet: Wochenende in Loccum"},
		"empfang":   {"CANCELLED", "Abgesagt: Neujahrsempfang"},
	} {
		v := evs[slug]
		if v == nil {
			t.Errorf("%s is not in the personal feed", slug)
			continue
		}
		if got := [2]string{prop(v, ics.ComponentPropertyStatus), prop(v, ics.ComponentPropertySummary)}; got != want {
			t.Errorf("%s: %q, want %q", slug, got, want)
		}
	}
	if len(evs) != 4 {
		t.Errorf("personal feed has %d events, want 4", len(evs))
	}
	// Moving up from the waitlist is a change the calendar must take.
	seq := prop(evs["voll"], ics.ComponentPropertySequence)
	if _, err := a.Events.Update(ctx, miso.ID, "voll", event.Input{Capacity: event.Some(2)}); err != nil {
		t.Fatal(err)
	}
	up := fetch(t, a, http.MethodGet, path, "If-None-Match", r.Header.Get("ETag"))
	if up.Status != 200 {
		t.Fatalf("after moving up: %d", up.Status)
	}
	_, cal = feed(t, a, path)
	if v := bySlug(cal)["voll"]; prop(v, ics.ComponentPropertyStatus) != "CONFIRMED" || prop(v, ics.ComponentPropertySequence) <= seq {
		t.Errorf("moved up: STATUS %s, SEQUENCE %s (was %s)", prop(v, ics.ComponentPropertyStatus), prop(v, ics.ComponentPropertySequence), seq)
	}
	if got := fetch(t, a, http.MethodGet, path, "If-None-Match", up.Header.Get("ETag")); got.Status != 304 {
		t.Errorf("personal feed If-None-Match: %d", got.Status)
	}

	// A new link: the old one is gone at once, the new one shows the same.
	if resp := calendarButton(t, b, waiting.ManageToken, "new"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("new link: %d", resp.StatusCode)
	}
	fresh, _ := personalLink(t, b, confirmed.ManageToken)
	if fresh == "" || fresh == token {
		t.Fatalf("new link %q (old %q)", fresh, token)
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		if got := fetch(t, a, m, path); got.Status != 404 {
			t.Errorf("%s old token: %d, want 404", m, got.Status)
		}
	}
	if got := fetch(t, a, http.MethodGet, path, "If-None-Match", up.Header.Get("ETag")); got.Status != 404 {
		t.Errorf("old token with If-None-Match: %d, want 404", got.Status)
	}
	if _, cal := feed(t, a, "/feeds/"+fresh+".ics"); len(cal.Events()) != 4 {
		t.Errorf("new link shows %d events", len(cal.Events()))
	}
}

// Anybody may sign up with anybody's address; that must not open the
// address owner's personal feed.
func TestPersonalFeedIsNotOpenedBySomeoneElsesSignup(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	program(t, a)
	victim := signUp(t, a, "konferenz", "ayse@example.org")
	b := a.Browser(t)
	calendarButton(t, b, victim.ManageToken, "create")
	token, _ := personalLink(t, b, victim.ManageToken)

	stranger := signUp(t, a, "loccum", "AYSE@example.org")
	s := a.Browser(t)
	if tok, page := personalLink(t, s, stranger.ManageToken); tok != "" || strings.Contains(page, `value="join"`) || strings.Contains(page, token) {
		t.Fatalf("a stranger's registration page shows the victim's feed or offers to join it")
	}
	if resp := calendarButton(t, s, stranger.ManageToken, "join"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("join without the feed's cookie: %d, want 404", resp.StatusCode)
	}
	calendarButton(t, s, stranger.ManageToken, "create")
	own, _ := personalLink(t, s, stranger.ManageToken)
	if own == "" || own == token {
		t.Fatalf("stranger's own feed %q", own)
	}
	if _, cal := feed(t, a, "/feeds/"+own+".ics"); len(cal.Events()) != 1 || bySlug(cal)["loccum"] == nil {
		t.Errorf("the stranger's feed shows more than their own registration")
	}
	if _, cal := feed(t, a, "/feeds/"+token+".ics"); len(cal.Events()) != 1 || bySlug(cal)["konferenz"] == nil {
		t.Errorf("the victim's feed changed")
	}
	// A remembered feed of another address offers nothing either.
	other := signUp(t, a, "maifest", "omid@example.org")
	if _, page := personalLink(t, b, other.ManageToken); strings.Contains(page, `value="join"`) {
		t.Errorf("a feed of another address offers to join")
	}
	if resp := calendarButton(t, b, other.ManageToken, "join"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("join with a feed of another address: %d, want 403", resp.StatusCode)
	}
}

var googleRE = regexp.MustCompile(`href="(https://calendar\.google\.com/calendar/render\?[^"]+)"`)

func TestPagesOfferSubscribeAndAddToCalendar(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	program(t, a)
	host := strings.TrimPrefix(a.URL, "http://")
	for path, want := range map[string][]string{
		"/?lang=en":               {`href="webcal://` + host + `/calendar.ics?lang=en"`, `value="` + a.URL + `/calendar.ics?lang=en"`, "Google Calendar", "Outlook", "Apple"},
		"/?org=miso&kind=seminar": {`webcal://` + host + `/orgs/miso/calendar.ics?kind=seminar&amp;lang=de`},
		"/orgs/miso":              {`webcal://` + host + `/orgs/miso/calendar.ics?lang=de`, a.URL + `/orgs/miso/calendar.ics?lang=de`},
		"/events/loccum":          {`href="/events/loccum.ics?lang=de"`, `webcal://` + host + `/events/loccum.ics?lang=de`, "calendar.google.com/calendar/render?action=TEMPLATE"},
	} {
		code, body := a.Browser(t).Get(path)
		if code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: missing %s", path, w)
			}
		}
	}
	_, body := a.Browser(t).Get("/events/loccum")
	m := googleRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no Google Calendar link")
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	next := itoa(time.Now().Year() + 1)
	q := u.Query()
	if q.Get("action") != "TEMPLATE" || q.Get("text") != "Wochenende in Loccum" || q.Get("dates") != next+"0123T160000Z/"+next+"0125T130000Z" ||
		q.Get("details") != a.URL+"/events/loccum" || !strings.HasPrefix(q.Get("location"), "Kulturzentrum Faust") {
		t.Errorf("Google Calendar link %v", q)
	}
	_, body = a.Browser(t).Get("/events/maifest")
	if m := googleRE.FindStringSubmatch(body); m == nil || !strings.Contains(html.UnescapeString(m[1]), "dates="+next+"0501%2F"+next+"0502") {
		t.Errorf("all-day Google Calendar link %v", m)
	}
}
