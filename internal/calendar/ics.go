package calendar

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// formatVersion is part of every ETag: change it whenever the rendering
// changes, so that calendar apps fetch the new form of unchanged data.
const formatVersion = "1"

const prodID = "-//Treffpunkt//Treffpunkt Calendar//EN"

// refresh is how often calendar apps should poll a feed (REFRESH-INTERVAL,
// X-PUBLISHED-TTL). Google ignores it and polls every few hours.
const refresh = "PT1H"

// maxOctets is the longest content line RFC 5545 allows, without its CRLF.
const maxOctets = 75

// entry is one VEVENT: an event and, in a personal feed, the participant's
// registration of it.
type entry struct {
	Event *event.Event
	// Registration is the registration's status in a personal feed, empty
	// in public feeds.
	Registration string
	// RegSequence and RegChangedAt count and date the registration's status
	// changes; they add to the event's SEQUENCE and LAST-MODIFIED.
	RegSequence  int
	RegChangedAt time.Time
	// Session, in a personal feed, makes this the VEVENT of a session the
	// registration holds a place in (sessions.go).
	Session *sessionEntry
}

// doc is one calendar object to write.
type doc struct {
	Name, Desc string // X-WR-CALNAME, X-WR-CALDESC; empty for an invitation
	Lang       string
	BaseURL    string
	Entries    []entry
}

// Invite returns one event as a standalone iCalendar object (RFC 5545) for an
// email attachment: BEGIN:VCALENDAR with VERSION, PRODID, CALSCALE:GREGORIAN
// and METHOD:PUBLISH, and one VEVENT that is byte for byte the event's VEVENT
// in the feeds of that language (same UID, SEQUENCE, LAST-MODIFIED, DTSTAMP, STATUS,
// SUMMARY, …), so that calendar apps merge the two. Texts are in lang, else in
// the event's default language; links start with baseURL (BASE_URL). Lines
// end in CRLF and are folded at 75 octets. The calendar's own words (SUMMARY
// markers, kinds) come from cat. Attach it as
// `text/calendar; charset=utf-8; method=PUBLISH`.
func Invite(cat *i18n.Catalogue, e *event.Event, lang, baseURL string) ([]byte, error) {
	return render(cat, doc{Lang: lang, BaseURL: baseURL, Entries: []entry{{Event: e}}})
}

// render writes a VCALENDAR with golang-ical, which escapes TEXT values,
// and folds its lines.
func render(cat *i18n.Catalogue, d doc) ([]byte, error) {
	base, err := url.Parse(d.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("calendar base URL: %w", err)
	}
	cal := ics.NewCalendarFor("Treffpunkt")
	cal.SetProductId(prodID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	if d.Name != "" {
		cal.SetXWRCalName(clean(d.Name))
		cal.SetXWRCalDesc(clean(d.Desc))
		// golang-ical's SetRefreshInterval writes ";VALUE=DURATION" into the
		// property name, which its parser then does not know.
		cal.CalendarProperties = append(cal.CalendarProperties, ics.CalendarProperty{BaseProperty: ics.BaseProperty{
			IANAToken: "REFRESH-INTERVAL", Value: refresh,
			ICalParameters: map[string][]string{string(ics.ParameterValue): {string(ics.ValueDataTypeDuration)}},
		}})
		cal.SetXPublishedTTL(refresh)
	}
	w := writer{cat: cat, lang: d.Lang, baseURL: strings.TrimRight(d.BaseURL, "/"), host: base.Host,
		words: map[string]*words{}, zones: map[string]*time.Location{}}
	// golang-ical is told not to fold (it folds at word boundaries, with its
	// own line ends): fold writes RFC 5545 lines. Each VEVENT is serialized
	// on its own into a reused buffer, which keeps a large feed from
	// holding every event twice.
	cfg := &ics.SerializationConfiguration{MaxLength: 1 << 30, PropertyMaxLength: 1 << 30, NewLine: "\n"}
	var raw bytes.Buffer
	if err := cal.SerializeTo(&raw, cfg); err != nil {
		return nil, fmt.Errorf("serialize calendar: %w", err)
	}
	const end = "END:VCALENDAR\n"
	head := bytes.TrimSuffix(raw.Bytes(), []byte(end))
	out := make([]byte, 0, len(head)+800*len(d.Entries)+64)
	out = fold(out, head)
	for _, en := range d.Entries {
		raw.Reset()
		if err := w.vevent(en).SerializeTo(&raw, cfg); err != nil {
			return nil, fmt.Errorf("serialize event: %w", err)
		}
		out = fold(out, raw.Bytes())
	}
	return fold(out, []byte(end)), nil
}

// writer adds VEVENTs, translating the words it needs once per language.
type writer struct {
	cat           *i18n.Catalogue
	lang          string
	baseURL, host string
	words         map[string]*words
	zones         map[string]*time.Location
}

// zone is e.Location(), which reads the zone from disk each time, once per
// zone.
func (w *writer) zone(e *event.Event) *time.Location {
	if loc := w.zones[e.Timezone]; loc != nil {
		return loc
	}
	loc := e.Location()
	w.zones[e.Timezone] = loc
	return loc
}

// words are the translations every VEVENT needs, in one language.
type words struct {
	l     *i18n.Localizer
	more  string
	kinds map[string]string
}

func (w *writer) in(textLang string) *words {
	if ws := w.words[textLang]; ws != nil {
		return ws
	}
	l := localizer(w.cat, w.lang, textLang)
	ws := &words{l: l, more: l.T("event.ics_more", nil), kinds: map[string]string{}}
	for _, k := range event.Kinds {
		ws.kinds[k] = l.T("kind."+k, nil)
	}
	w.words[textLang] = ws
	return ws
}

func (w *writer) vevent(en entry) *ics.VEvent {
	if en.Session != nil {
		return w.sessionVEvent(en)
	}
	e := en.Event
	title, textLang := e.Title.In(w.lang, e.DefaultLang)
	ws := w.in(textLang)
	link := w.baseURL + "/events/" + e.Slug

	// Properties are appended directly rather than through golang-ical's
	// setters, which make a parameter map for each: a large feed renders in
	// half the time.
	v := &ics.VEvent{ComponentBase: ics.ComponentBase{Properties: make([]ics.IANAProperty, 0, 15)}}
	add := func(p ics.ComponentProperty, value string, params map[string][]string) {
		v.Properties = append(v.Properties, ics.IANAProperty{BaseProperty: ics.BaseProperty{
			IANAToken: string(p), Value: value, ICalParameters: params,
		}})
	}
	add(ics.ComponentPropertyUniqueId, e.UID(w.host), nil)
	modified := e.CalendarChangedAt
	if modified.IsZero() {
		modified = e.UpdatedAt
	}
	if en.RegChangedAt.After(modified) {
		modified = en.RegChangedAt
	}
	// DTSTAMP is the time this version of the object was made, which is
	// when it last changed: a DTSTAMP of "now" would change the feed, and
	// its ETag, on every request.
	add(ics.ComponentPropertyDtstamp, utc(modified), nil)
	add(ics.ComponentPropertyLastModified, utc(modified), nil)
	add(ics.ComponentPropertySequence, strconv.Itoa(e.Sequence+en.RegSequence), nil)
	if e.AllDay {
		first, end := days(e, w.zone(e))
		add(ics.ComponentPropertyDtStart, first.Format(dateFormat), dateParam)
		add(ics.ComponentPropertyDtEnd, end.Format(dateFormat), dateParam)
	} else {
		add(ics.ComponentPropertyDtStart, utc(e.StartsAt), nil)
		add(ics.ComponentPropertyDtEnd, utc(e.EndsAt), nil)
	}

	status, summary := ics.ObjectStatusConfirmed, clean(title)
	marked := func(id string) string { return ws.l.T(id, map[string]any{"Title": summary}) }
	switch {
	case e.Status == event.Cancelled:
		status, summary = ics.ObjectStatusCancelled, marked("event.ics_cancelled")
	case en.Registration == registration.Cancelled || en.Registration == registration.Expired:
		status, summary = ics.ObjectStatusCancelled, marked("event.ics_withdrawn")
	case en.Registration == registration.Waitlisted:
		status, summary = ics.ObjectStatusTentative, marked("event.ics_waitlisted")
	case en.Registration == registration.Pending:
		status, summary = ics.ObjectStatusTentative, marked("event.ics_pending")
	case en.Registration == registration.Applied:
		status, summary = ics.ObjectStatusTentative, marked("event.ics_applied")
	case en.Registration == registration.Declined:
		status, summary = ics.ObjectStatusCancelled, marked("event.ics_declined")
	}
	add(ics.ComponentPropertyStatus, string(status), nil)
	add(ics.ComponentPropertySummary, summary, nil)

	desc, _ := e.Description.In(w.lang, e.DefaultLang)
	more := ws.more + " " + link
	if desc = strings.TrimSpace(clean(desc)); desc != "" {
		desc += "\n\n" + more
	} else {
		desc = more
	}
	add(ics.ComponentPropertyDescription, desc, nil)
	if loc := location(e.Venue); loc != "" {
		add(ics.ComponentPropertyLocation, loc, nil)
	}
	add(ics.ComponentPropertyUrl, link, nil)
	v.Properties = append(v.Properties, organizer(e, w.baseURL))
	add(ics.ComponentPropertyCategories, ws.kinds[e.Kind], nil)
	return v
}

const dateFormat = "20060102"

var dateParam = map[string][]string{string(ics.ParameterValue): {string(ics.ValueDataTypeDate)}}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// days are the first day of an all-day event and the day after its last,
// in the event's time zone: a DATE end is exclusive.
func days(e *event.Event, loc *time.Location) (first, end time.Time) {
	s, l := e.StartsAt.In(loc), e.EndsAt.In(loc)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC),
		time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, time.UTC)
}

// localizer speaks the requested language when there is a catalogue for it,
// else the language the event's texts are shown in.
func localizer(cat *i18n.Catalogue, lang, textLang string) *i18n.Localizer {
	if cat.Has(lang) {
		return cat.For(lang)
	}
	return cat.For(textLang)
}

// location is the venue's name and full address on one line.
func location(v event.Venue) string {
	parts := make([]string, 0, 2)
	if v.Name != "" {
		parts = append(parts, v.Name)
	}
	if a := v.Address(); a != "" {
		parts = append(parts, a)
	}
	return clean(strings.Join(parts, ", "))
}

// organizer is ORGANIZER;CN="<organisation>":mailto:<contact>, or the
// organisation's page when it has no address. golang-ical escapes parameter
// values with backslashes, which RFC 5545 does not know, so the property is
// written with a quoted CN in its name.
func organizer(e *event.Event, baseURL string) ics.IANAProperty {
	name := strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, e.OrgName)
	addr := baseURL + "/orgs/" + e.OrgSlug
	if e.OrgEmail != "" && !strings.ContainsAny(e.OrgEmail, ",;:\\\" ") {
		addr = "mailto:" + e.OrgEmail
	}
	return ics.IANAProperty{BaseProperty: ics.BaseProperty{
		IANAToken: string(ics.ComponentPropertyOrganizer) + `;CN="` + name + `"`,
		Value:     addr,
	}}
}

// clean makes user text safe for a TEXT value: golang-ical escapes
// backslash, comma, semicolon and LF but writes CR and other control
// characters as they are, which would break the line structure.
func clean(s string) string {
	if plain(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// fold appends LF-separated, unfolded content lines to out as RFC 5545
// lines: CRLF ends, at most 75 octets each, continuation lines starting with
// a space, never splitting a UTF-8 sequence.
func fold(out, raw []byte) []byte {
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		line := raw
		if i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		limit := maxOctets
		for len(line) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			out = append(out, line[:cut]...)
			out = append(out, "\r\n "...)
			line = line[cut:]
			limit = maxOctets - 1
		}
		out = append(out, line...)
		out = append(out, "\r\n"...)
	}
	return out
}

// plain reports valid UTF-8 without control characters other than LF and
// tab: the common case, which clean returns as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}
