package event

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/text"
)

// Null is a JSON field that distinguishes absent, null and a value, so that a
// PATCH can clear a capacity (null = unlimited) without touching it when absent.
type Null[T any] struct {
	Set   bool // present in the input
	Valid bool // not null
	V     T
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Null[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(b, []byte("null")) {
		n.Valid = false
		return nil
	}
	n.Valid = true
	return json.Unmarshal(b, &n.V)
}

// Some is a set, non-null value.
func Some[T any](v T) Null[T] { return Null[T]{Set: true, Valid: true, V: v} }

// Input is what an organiser sends to create or change an event. Absent
// fields (nil, or Null with Set false) are left as they are.
type Input struct {
	Slug                 *string         `json:"slug"`
	Kind                 *string         `json:"kind"`
	DefaultLang          *string         `json:"default_lang"`
	Title                Texts           `json:"title"`
	Description          Texts           `json:"description"`
	StartsAt             *time.Time      `json:"starts_at"`
	EndsAt               *time.Time      `json:"ends_at"`
	AllDay               *bool           `json:"all_day"`
	Timezone             *string         `json:"timezone"`
	Venue                *Venue          `json:"venue"`
	Status               *string         `json:"status"`
	Capacity             Null[int]       `json:"capacity"`
	Waitlist             *bool           `json:"waitlist"`
	RegistrationOpensAt  Null[time.Time] `json:"registration_opens_at"`
	RegistrationClosesAt Null[time.Time] `json:"registration_closes_at"`
	MaxPartySize         *int            `json:"max_party_size"`
	Access               *string         `json:"access"`
	MinAge               Null[int]       `json:"min_age"`
	MaxAge               Null[int]       `json:"max_age"`
	PriceNote            *string         `json:"price_note"`
	ConfirmEmail         *bool           `json:"confirm_email"`
	Approval             *bool           `json:"approval"`
	// PartnerOrgs are organisation slugs; absent or null leaves the
	// partners as they are, [] removes them.
	PartnerOrgs *[]string `json:"partner_orgs"`
	// Questions replaces the whole list when present ([] removes them all).
	Questions *Questions `json:"questions"`
	// Sessions replaces the whole list when present, matched by key
	// (sessions.go); MaxSessions limits the choice per registration.
	Sessions    *[]SessionInput `json:"sessions"`
	MaxSessions Null[int]       `json:"max_sessions"`
	// FactsInput sets languages and accessibility (access.go).
	FactsInput
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,79}$`)

// apply copies the set fields of in onto e.
func (in *Input) apply(e *Event) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&e.Slug, in.Slug)
	set(&e.Kind, in.Kind)
	set(&e.DefaultLang, in.DefaultLang)
	set(&e.Timezone, in.Timezone)
	set(&e.Status, in.Status)
	set(&e.Access, in.Access)
	set(&e.PriceNote, in.PriceNote)
	if in.Title != nil {
		e.Title = trimTexts(in.Title)
	}
	if in.Description != nil {
		e.Description = trimTexts(in.Description)
	}
	if in.StartsAt != nil {
		e.StartsAt = *in.StartsAt
	}
	if in.EndsAt != nil {
		e.EndsAt = *in.EndsAt
	}
	if in.AllDay != nil {
		e.AllDay = *in.AllDay
	}
	if in.Venue != nil {
		v := *in.Venue
		v.ID = nil
		e.Venue = v
	}
	if in.Questions != nil {
		e.Questions = trimQuestions(*in.Questions)
	}
	e.storedSessions = e.Sessions
	if in.Sessions != nil {
		applySessions(e, *in.Sessions)
	}
	applyNull(&e.MaxSessions, in.MaxSessions)
	if in.ConfirmEmail != nil {
		e.ConfirmEmail = *in.ConfirmEmail
	}
	if in.Approval != nil {
		e.Approval = *in.Approval
	}
	if in.PartnerOrgs != nil {
		e.Partners = partnerSlugs(*in.PartnerOrgs)
	}
	if in.Waitlist != nil {
		e.Waitlist = *in.Waitlist
	}
	if in.MaxPartySize != nil {
		e.MaxPartySize = *in.MaxPartySize
	}
	in.FactsInput.apply(e)
	applyNull(&e.Capacity, in.Capacity)
	applyNull(&e.MinAge, in.MinAge)
	applyNull(&e.MaxAge, in.MaxAge)
	applyNull(&e.RegistrationOpensAt, in.RegistrationOpensAt)
	applyNull(&e.RegistrationClosesAt, in.RegistrationClosesAt)
	// Only an input that touches the span shapes it: a change of capacity
	// alone leaves an event stored before this rule as it is (and its
	// calendars and attendees undisturbed).
	touched := in.StartsAt != nil || in.EndsAt != nil || in.AllDay != nil || in.Timezone != nil
	if e.AllDay && touched {
		e.StartsAt, e.EndsAt = allDay(e.StartsAt, e.EndsAt, e.Location())
	}
}

// allDay is the span of an all-day event: from 00:00 of its first day to
// 23:59 of its last, in its own zone, whatever times were sent, so that the
// API and the form store the same event.
func allDay(start, end time.Time, loc *time.Location) (time.Time, time.Time) {
	if !start.IsZero() {
		y, m, d := start.In(loc).Date()
		start = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	if !end.IsZero() {
		y, m, d := end.In(loc).Date()
		end = time.Date(y, m, d, 23, 59, 0, 0, loc)
	}
	return start, end
}

func applyNull[T any](dst **T, n Null[T]) {
	if !n.Set {
		return
	}
	if !n.Valid {
		*dst = nil
		return
	}
	v := n.V
	*dst = &v
}

func trimTexts(t Texts) Texts {
	out := make(Texts, len(t))
	for k, v := range t {
		if v = strings.TrimSpace(v); v != "" {
			out[strings.TrimSpace(k)] = v
		}
	}
	return out
}

// validate checks a complete event and names every bad field.
func validate(e *Event) error {
	f := apperr.Fields{}
	if e.Slug == "" {
		f.Add("slug", "err.required")
	} else if !slugRE.MatchString(e.Slug) {
		f.Add("slug", "err.slug")
	}
	if !slices.Contains(Kinds, e.Kind) {
		f.Add("kind", "err.choice")
	}
	if !slices.Contains(config.Languages, e.DefaultLang) {
		f.Add("default_lang", "err.lang")
	}
	checkTexts(f, "title", e.Title, 200, false)
	checkTexts(f, "description", e.Description, 20000, true)
	if f["title"].ID == "" && e.Title[e.DefaultLang] == "" {
		f.Add("title", "err.title_default_lang")
	}
	if e.StartsAt.IsZero() {
		f.Add("starts_at", "err.required")
	}
	if e.EndsAt.IsZero() {
		f.Add("ends_at", "err.required")
	} else if !e.StartsAt.IsZero() && e.EndsAt.Before(e.StartsAt) {
		f.Add("ends_at", "err.ends_before_start")
	}
	if _, err := time.LoadLocation(e.Timezone); err != nil || e.Timezone == "" || e.Timezone == "Local" {
		f.Add("timezone", "err.timezone")
	}
	if e.Venue.Name == "" && (e.Venue.Street != "" || e.Venue.City != "") {
		f.Add("venue.name", "err.required")
	}
	for field, v := range map[string]string{"venue.name": e.Venue.Name, "venue.street": e.Venue.Street, "venue.postcode": e.Venue.Postcode, "venue.city": e.Venue.City} {
		if p := text.Problem(v, 200); p != "" {
			f.Add(field, p, "Max", 200)
		}
	}
	if p := text.ProblemMultiline(e.Venue.AccessibilityNotes, 2000); p != "" {
		f.Add("venue.accessibility_notes", p, "Max", 2000)
	}
	if e.Status != Draft && e.Status != Published && e.Status != Cancelled {
		f.Add("status", "err.choice")
	}
	if e.Capacity != nil && (*e.Capacity < 0 || *e.Capacity > 1_000_000) {
		f.Add("capacity", "err.range", "Min", 0, "Max", 1_000_000)
	}
	if e.MaxPartySize < 1 || e.MaxPartySize > 50 {
		f.Add("max_party_size", "err.range", "Min", 1, "Max", 50)
	}
	if e.Access != AccessPublic && e.Access != AccessMembers {
		f.Add("access", "err.choice")
	}
	for field, v := range map[string]*int{"min_age": e.MinAge, "max_age": e.MaxAge} {
		if v != nil && (*v < 0 || *v > 150) {
			f.Add(field, "err.range", "Min", 0, "Max", 150)
		}
	}
	if e.MinAge != nil && e.MaxAge != nil && *e.MinAge > *e.MaxAge {
		f.Add("max_age", "err.age_range")
	}
	if e.RegistrationOpensAt != nil && e.RegistrationClosesAt != nil && !e.RegistrationOpensAt.Before(*e.RegistrationClosesAt) {
		f.Add("registration_closes_at", "err.window")
	}
	if p := text.Problem(e.PriceNote, 500); p != "" {
		f.Add("price_note", p, "Max", 500)
	}
	checkQuestions(f, e.Questions, e.DefaultLang)
	checkSessions(f, e, e.storedSessions)
	checkFacts(f, e)
	return f.Err()
}

func checkTexts(f apperr.Fields, field string, t Texts, maxLen int, multiline bool) {
	for lang, s := range t {
		if !slices.Contains(config.Languages, lang) {
			f.Add(field, "err.lang")
			return
		}
		p := text.Problem(s, maxLen)
		if multiline {
			p = text.ProblemMultiline(s, maxLen)
		}
		if p != "" {
			f.Add(field+"."+lang, p, "Max", maxLen)
		}
	}
}
