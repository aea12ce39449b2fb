package calendar

import (
	"net/url"

	"treffpunkt/internal/event"
)

// GoogleCalendarURL opens Google Calendar's form for a new event, filled in
// with e in lang: "add to calendar" for people whose calendar does not take
// .ics files. Times are UTC, all-day events dates with an exclusive end, as
// in the feeds.
func GoogleCalendarURL(e *event.Event, lang, baseURL string) string {
	title, _ := e.Title.In(lang, e.DefaultLang)
	var dates string
	if e.AllDay {
		first, end := days(e, e.Location())
		dates = first.Format("20060102") + "/" + end.Format("20060102")
	} else {
		const utc = "20060102T150405Z"
		dates = e.StartsAt.UTC().Format(utc) + "/" + e.EndsAt.UTC().Format(utc)
	}
	q := url.Values{}
	q.Set("action", "TEMPLATE")
	q.Set("text", title)
	q.Set("dates", dates)
	q.Set("details", baseURL+"/events/"+e.Slug)
	if loc := location(e.Venue); loc != "" {
		q.Set("location", loc)
	}
	return "https://calendar.google.com/calendar/render?" + q.Encode()
}
