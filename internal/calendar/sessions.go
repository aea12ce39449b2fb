package calendar

import (
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
)

// sessionEntry is, in a personal feed, a session the registration holds a
// place in (issue 18): one VEVENT besides the event's, with its own UID.
type sessionEntry struct {
	Session *event.Session
	// Sequence and ChangedAt count and date the changes of the choice.
	Sequence  int
	ChangedAt time.Time
}

// sessionVEvent is the VEVENT of en's session: its times and room, the
// event's venue and organiser; SEQUENCE is the event's, the session's and
// the choice's together, so that it rises with any change of the three.
func (w *writer) sessionVEvent(en entry) *ics.VEvent {
	e, s := en.Event, en.Session.Session
	title, textLang := s.Title.In(w.lang, e.DefaultLang)
	eventTitle, _ := e.Title.In(w.lang, e.DefaultLang)
	ws := w.in(textLang)
	link := w.baseURL + "/events/" + e.Slug
	v := &ics.VEvent{ComponentBase: ics.ComponentBase{Properties: make([]ics.IANAProperty, 0, 14)}}
	add := func(p ics.ComponentProperty, value string) {
		v.Properties = append(v.Properties, ics.IANAProperty{BaseProperty: ics.BaseProperty{IANAToken: string(p), Value: value}})
	}
	add(ics.ComponentPropertyUniqueId, s.UID(w.host))
	modified := e.CalendarChangedAt
	for _, t := range []time.Time{s.ChangedAt, en.Session.ChangedAt} {
		if t.After(modified) {
			modified = t
		}
	}
	add(ics.ComponentPropertyDtstamp, utc(modified))
	add(ics.ComponentPropertyLastModified, utc(modified))
	add(ics.ComponentPropertySequence, strconv.Itoa(e.Sequence+s.Sequence+en.Session.Sequence))
	add(ics.ComponentPropertyDtStart, utc(s.StartsAt))
	add(ics.ComponentPropertyDtEnd, utc(s.EndsAt))
	status, summary := ics.ObjectStatusConfirmed, clean(title)+" · "+clean(eventTitle)
	if e.Status == event.Cancelled || s.Status == event.SessionCancelled {
		status, summary = ics.ObjectStatusCancelled, ws.l.T("event.ics_cancelled", map[string]any{"Title": summary})
	}
	add(ics.ComponentPropertyStatus, string(status))
	add(ics.ComponentPropertySummary, summary)
	desc, _ := s.Description.In(w.lang, e.DefaultLang)
	more := ws.more + " " + link
	if desc = strings.TrimSpace(clean(desc)); desc != "" {
		desc += "\n\n" + more
	} else {
		desc = more
	}
	add(ics.ComponentPropertyDescription, desc)
	loc := location(e.Venue)
	if room := clean(s.Room); room != "" {
		if loc != "" {
			loc = room + ", " + loc
		} else {
			loc = room
		}
	}
	if loc != "" {
		add(ics.ComponentPropertyLocation, loc)
	}
	// The event page's programme, so that a VEVENT's URL names one event
	// (the validators match the event's by it).
	add(ics.ComponentPropertyUrl, link+"#programme")
	v.Properties = append(v.Properties, organizer(e, w.baseURL))
	add(ics.ComponentPropertyCategories, ws.kinds[e.Kind])
	return v
}
