// Package event holds events: the model, its validation, its SQL, and the
// organiser-facing service that creates, changes and cancels them.
package event

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Kinds of event, in the order forms list them.
var Kinds = []string{"conference", "seminar", "festival", "workshop", "meeting", "other"}

// Status values.
const (
	Draft     = "draft"
	Published = "published"
	Cancelled = "cancelled"
)

// DefaultTimezone is the network's home (Hannover): events default to it,
// and staff pages, mails and API date filters read times in it.
const DefaultTimezone = "Europe/Berlin"

// Defaults is a new event before an organiser's input: a draft in
// DefaultTimezone, German, waitlist on, parties of one, public access.
func Defaults() Event {
	return Event{
		Kind: "other", DefaultLang: "de", Timezone: DefaultTimezone, Status: Draft,
		Waitlist: true, MaxPartySize: 1, Access: AccessPublic,
	}
}

// Access rules.
const (
	AccessPublic  = "public"
	AccessMembers = "members"
)

// Texts is a text per language code, stored as jsonb.
type Texts map[string]string

// In returns the text in lang, else in def, and the language it is in.
func (t Texts) In(lang, def string) (string, string) {
	if s := t[lang]; s != "" {
		return s, lang
	}
	return t[def], def
}

// Value implements driver.Valuer.
func (t Texts) Value() (driver.Value, error) {
	if t == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]string(t))
}

// Scan implements sql.Scanner.
func (t *Texts) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		if s, isStr := src.(string); isStr {
			b = []byte(s)
		} else {
			return errors.New("texts: unsupported type")
		}
	}
	return json.Unmarshal(b, (*map[string]string)(t))
}

// Venue is where an event takes place.
type Venue struct {
	ID                 *int64 `db:"id" json:"-"`
	Name               string `db:"name" json:"name"`
	Street             string `db:"street" json:"street"`
	Postcode           string `db:"postcode" json:"postcode"`
	City               string `db:"city" json:"city"`
	AccessibilityNotes string `db:"accessibility_notes" json:"accessibility_notes"`
	VenueFacts
}

// Address is the venue on one line.
func (v Venue) Address() string {
	s := v.Street
	place := v.Postcode
	if v.City != "" {
		if place != "" {
			place += " "
		}
		place += v.City
	}
	if place != "" {
		if s != "" {
			s += ", "
		}
		s += place
	}
	return s
}

// Event is one event with the figures pages and the API show.
type Event struct {
	ID                   int64      `db:"id"`
	OrgID                int64      `db:"org_id"`
	OrgSlug              string     `db:"org_slug"`
	OrgName              string     `db:"org_name"`
	OrgEmail             string     `db:"org_email"`
	Slug                 string     `db:"slug"`
	Kind                 string     `db:"kind"`
	DefaultLang          string     `db:"default_lang"`
	Title                Texts      `db:"title"`
	Description          Texts      `db:"description"`
	StartsAt             time.Time  `db:"starts_at"`
	EndsAt               time.Time  `db:"ends_at"`
	AllDay               bool       `db:"all_day"`
	Timezone             string     `db:"timezone"`
	Venue                Venue      `db:"venue"`
	Status               string     `db:"status"`
	Capacity             *int       `db:"capacity"`
	Waitlist             bool       `db:"waitlist"`
	RegistrationOpensAt  *time.Time `db:"registration_opens_at"`
	RegistrationClosesAt *time.Time `db:"registration_closes_at"`
	MaxPartySize         int        `db:"max_party_size"`
	Access               string     `db:"access"`
	// ConfirmEmail puts every sign-up through a confirmation link mailed to
	// the address given (docs/access.md); members-only events always do.
	ConfirmEmail bool `db:"confirm_email"`
	// Approval makes every sign-up an application that an organiser
	// approves or declines (selection by approval, issue 19).
	Approval       bool   `db:"approval"`
	MinAge         *int   `db:"min_age"`
	MaxAge         *int   `db:"max_age"`
	PriceNote      string `db:"price_note"`
	SeatsConfirmed int    `db:"seats_confirmed"`
	WaitlistLength int    `db:"waitlist_length"`
	Sequence       int    `db:"sequence"`
	// CalendarChangedAt is when Sequence last rose (LAST-MODIFIED in
	// calendars); CancelledAt is when the event was cancelled.
	CalendarChangedAt time.Time  `db:"calendar_changed_at"`
	CancelledAt       *time.Time `db:"cancelled_at"`
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`

	// Partners are the partner organisations the event names; on a
	// members-only event their members may sign up too.
	Partners Partners `db:"partners"`
	// Questions are asked at sign-up, in order (questions.go).
	Questions Questions `db:"questions"`

	// MaxSessions limits how many sessions one registration chooses; nil
	// is no limit. Sessions are the event's sessions (sessions.go).
	MaxSessions *int     `db:"max_sessions"`
	Sessions    Sessions `db:"sessions"`
	// storedSessions are the sessions as stored before an input changed
	// them, for the rules that compare (checkSessions).
	storedSessions Sessions
	// EventFacts are languages and accessibility (access.go).
	EventFacts
	// Image is the event's picture (image.go), nil without one.
	Image *Image `db:"image"`
}

// Location is the event's time zone; events are validated to have a valid one.
func (e *Event) Location() *time.Location {
	return Zone(e.Timezone)
}

var zones sync.Map // name → *time.Location

// Zone is the time zone of that name, or UTC for a name that is none.
// time.LoadLocation reads the zone file on every call; pages, feeds, mails
// and door scans ask for a handful of zones thousands of times a second.
func Zone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, loc)
	return loc
}

// SeatsLeft is nil for unlimited events.
func (e *Event) SeatsLeft() *int {
	if e.Capacity == nil {
		return nil
	}
	left := max(*e.Capacity-e.SeatsConfirmed, 0)
	return &left
}

// Full reports that no seat is free.
func (e *Event) Full() bool {
	left := e.SeatsLeft()
	return left != nil && *left == 0
}

// ClosesAt is when sign-up ends: the set time, else the end of
// the event (people may still sign up for a festival that has begun).
func (e *Event) ClosesAt() time.Time {
	if e.RegistrationClosesAt != nil {
		return *e.RegistrationClosesAt
	}
	return e.EndsAt
}

// RegistrationState says why sign-up is or is not possible at now.
func (e *Event) RegistrationState(now time.Time) string {
	switch {
	case e.Status == Cancelled:
		return "cancelled"
	case e.Status != Published:
		return "draft"
	case e.RegistrationOpensAt != nil && now.Before(*e.RegistrationOpensAt):
		return "not_yet_open"
	case !now.Before(e.ClosesAt()):
		return "closed"
	}
	return "open"
}

// RegistrationOpen reports whether sign-up is possible at now.
func (e *Event) RegistrationOpen(now time.Time) bool { return e.RegistrationState(now) == "open" }

// UID is the event's identity in every calendar object Treffpunkt writes
// (feeds and email attachments), so calendar apps merge them. It must never
// change for an event; host is BASE_URL's host.
func (e *Event) UID(host string) string {
	return fmt.Sprintf("event-%d@%s", e.ID, host)
}
