// Package checkin admits people at the door: a scan of a ticket's code
// becomes one verdict (ok, already checked in, unknown, cancelled, wrong
// event, not today), every scan is logged, and a ticket is checked in at most
// once per event day — by a unique index, so for any number of scanners and
// app instances. docs/checkin.md describes the rules.
package checkin

import (
	"net/url"
	"strings"
	"time"
)

// Verdicts of a scan; part of the public API.
const (
	OK               = "ok"
	AlreadyCheckedIn = "already_checked_in"
	Unknown          = "unknown"
	Cancelled        = "cancelled"
	WrongEvent       = "wrong_event"
	NotToday         = "not_today"
	// Undone is logged for an undo; a scan never answers it.
	Undone = "undone"
)

// Attendee is who a ticket admits.
type Attendee struct {
	Name      string `json:"name" db:"name"`
	PartySize int    `json:"party_size" db:"party_size"`
	Seat      int    `json:"seat" db:"seat"`
	// Answers are the answers to the event's door questions, in order.
	Answers []DoorAnswer `json:"answers,omitempty" db:"-"`
}

// Result is the answer to a scan (and to an undo).
type Result struct {
	Result   string    `json:"result"`
	Attendee *Attendee `json:"attendee"`
	// CheckedInAt is when the ticket was checked in on Day (the new
	// check-in for ok, the earlier one for already_checked_in).
	CheckedInAt *time.Time `json:"checked_in_at"`
	// Time is CheckedInAt as HH:MM in the event's zone, By who checked in
	// (a staff email or a token's name).
	Time string `json:"time,omitempty"`
	By   string `json:"by,omitempty"`
	// Code is the ticket code read from the scan (also from a URL), for undo.
	Code string `json:"code,omitempty"`
	Day  string `json:"day"`
	// ScanID echoes the client's scan id; Replayed says that this scan id
	// was seen before and the first answer is repeated without a new effect.
	ScanID   string `json:"scan_id,omitempty"`
	Replayed bool   `json:"replayed,omitempty"`
}

// ScanInput is one scan.
type ScanInput struct {
	// Code is the ticket code or the URL BASE_URL/t/{code} the QR code carries.
	Code string `json:"code"`
	// Event is the slug of the event the door admits to.
	Event string `json:"event"`
	// Day is YYYY-MM-DD, optional: the scanner's chosen event day. A day
	// other than today's event day is not_today.
	Day string `json:"day"`
	// ScanID is the client's unique id of the scan, optional; a repeat of
	// it has no further effect.
	ScanID string `json:"scan_id"`
	// ScannedAt is when an offline scan happened on the device, optional.
	ScannedAt *time.Time `json:"scanned_at"`
	// Session is the key of a session of the event, optional: the scan is
	// then at that session's door (sessions.go).
	Session string `json:"session"`
}

// ticketCode reads the code from what a scanner delivers: the bare code or
// the URL …/t/{code} (with or without query, fragment or trailing slash).
func ticketCode(raw string) string {
	s := strings.TrimSpace(raw)
	if i := strings.LastIndex(s, "/t/"); i >= 0 {
		if u, err := url.Parse(s); err == nil && u.Path != "" {
			s = u.Path
			i = strings.LastIndex(s, "/t/")
		}
		if i >= 0 {
			s = s[i+3:]
		}
		s = strings.TrimSuffix(s, "/")
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[:j]
		}
	}
	if len(s) > 100 {
		return ""
	}
	return s
}

// dayCutoff is when an event day ends on the next calendar day: a scan at
// 01:30 during a night of a multi-day festival still counts for the evening
// before, and an event that ends at 02:00 has no extra day.
const dayCutoff = 6 * time.Hour

// eventDays returns the first and last event day of an event (dates in its
// zone, at midnight UTC for easy comparison).
func eventDays(start, end time.Time, loc *time.Location) (time.Time, time.Time) {
	first := dateOf(start.In(loc))
	last := dateOf(end.In(loc))
	if last.After(first) {
		last = dateOf(end.In(loc).Add(-dayCutoff))
		if last.Before(first) {
			last = first
		}
	}
	return first, last
}

// EventDay is the event day that a scan at now belongs to: the calendar
// day in the event's zone, where the small hours before dayCutoff still
// belong to the day before once the event has begun.
func EventDay(now, start time.Time, loc *time.Location) time.Time {
	first := dateOf(start.In(loc))
	d := dateOf(now.In(loc).Add(-dayCutoff))
	if d.Before(first) {
		d = dateOf(now.In(loc))
	}
	return d
}

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

const dayLayout = "2006-01-02"

// DoorDay is the event day of now for an event from start to end in loc
// (YYYY-MM-DD), and whether it is one of the event's days: the day a
// check-in at now is recorded on.
func DoorDay(now, start, end time.Time, loc *time.Location) (string, bool) {
	d := EventDay(now, start, loc)
	first, last := eventDays(start, end, loc)
	return d.Format(dayLayout), !d.Before(first) && !d.After(last)
}
