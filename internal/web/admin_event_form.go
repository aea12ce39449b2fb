package web

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
)

// dateTimeLocal is the value format of <input type="datetime-local">: a
// wall-clock time without zone, read in the event's time zone.
const dateTimeLocal = "2006-01-02T15:04"

// languageNames are the languages' own names, so that each is recognisable
// whatever the page's language.
var languageNames = map[string]string{
	"de": "Deutsch", "en": "English", "tr": "Türkçe", "ar": "العربية",
	"fa": "فارسی", "ru": "Русский", "ku": "Kurdî",
}

// commonZones are offered in the time zone field; any IANA zone is accepted.
var commonZones = []string{
	event.DefaultTimezone, "Europe/Vienna", "Europe/Zurich", "Europe/Amsterdam", "Europe/Brussels",
	"Europe/Paris", "Europe/London", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"Asia/Tehran", "Asia/Baghdad", "Asia/Damascus", "UTC",
}

// eventForm is the event editor's form as typed: strings, so that a value
// that does not parse is shown back as it was entered.
type eventForm struct {
	Slug         string
	Kind         string
	DefaultLang  string
	Title        map[string]string
	Description  map[string]string
	Timezone     string
	StartsAt     string
	EndsAt       string
	AllDay       bool
	VenuePick    string
	Venue        event.Venue
	Capacity     string
	Waitlist     bool
	ConfirmEmail bool
	Approval     bool
	OpensAt      string
	ClosesAt     string
	MaxPartySize string
	Access       string
	MinAge       string
	MaxAge       string
	PriceNote    string
	// PartnerOrgs are the partner organisations' slugs as typed,
	// separated by commas or spaces.
	PartnerOrgs string
	// Languages spoken and interpreted into, as ticked; the venue's facts
	// as "yes", "no" or "" (unknown); its position as typed.
	Languages        []string
	Interpreting     []string
	SignLanguage     bool
	Childcare        bool
	StepFree         string
	AccessibleToilet string
	HearingLoop      string
	Lat, Lon         string
}

// Has reports whether lang is ticked in list (for the checkboxes).
func (eventForm) Has(list []string, lang string) bool { return slices.Contains(list, lang) }

// yesNo is a fact for the form: "yes", "no", or "" when unknown.
func yesNo(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// coordinate is a latitude or longitude for the form, as short as it is
// exact.
func coordinate(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func newEventForm() eventForm { return formFromEvent(new(event.Defaults())) }

func formFromEvent(e *event.Event) eventForm {
	loc := e.Location()
	local := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(loc).Format(dateTimeLocal)
	}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	f := eventForm{
		Slug: e.Slug, Kind: e.Kind, DefaultLang: e.DefaultLang,
		Title: map[string]string{}, Description: map[string]string{},
		Timezone: e.Timezone, StartsAt: local(&e.StartsAt), EndsAt: local(&e.EndsAt), AllDay: e.AllDay,
		Venue: e.Venue, Capacity: num(e.Capacity), Waitlist: e.Waitlist, ConfirmEmail: e.ConfirmEmail, Approval: e.Approval,
		OpensAt: local(e.RegistrationOpensAt), ClosesAt: local(e.RegistrationClosesAt),
		MaxPartySize: strconv.Itoa(e.MaxPartySize), Access: e.Access,
		MinAge: num(e.MinAge), MaxAge: num(e.MaxAge), PriceNote: e.PriceNote,
		PartnerOrgs: strings.Join(e.Partners.Slugs(), ", "),
		Languages:   slices.Clone(e.Languages), Interpreting: slices.Clone(e.Interpreting),
		SignLanguage: e.SignLanguage, Childcare: e.Childcare,
		StepFree: yesNo(e.Venue.StepFree), AccessibleToilet: yesNo(e.Venue.AccessibleToilet), HearingLoop: yesNo(e.Venue.HearingLoop),
		Lat: coordinate(e.Venue.Lat), Lon: coordinate(e.Venue.Lon),
	}
	for k, v := range e.Title {
		f.Title[k] = v
	}
	for k, v := range e.Description {
		f.Description[k] = v
	}
	return f
}

func readEventForm(c *gin.Context) eventForm {
	clean := func(name string) string { return strings.ToValidUTF8(c.PostForm(name), "") }
	f := eventForm{
		Slug: strings.TrimSpace(clean("slug")), Kind: clean("kind"), DefaultLang: clean("default_lang"),
		Title: map[string]string{}, Description: map[string]string{},
		Timezone: strings.TrimSpace(clean("timezone")), StartsAt: clean("starts_at"), EndsAt: clean("ends_at"),
		AllDay: c.PostForm("all_day") != "", VenuePick: clean("venue_pick"),
		Venue: event.Venue{
			Name: strings.TrimSpace(clean("venue_name")), Street: strings.TrimSpace(clean("venue_street")),
			Postcode: strings.TrimSpace(clean("venue_postcode")), City: strings.TrimSpace(clean("venue_city")),
			AccessibilityNotes: strings.TrimSpace(clean("venue_accessibility_notes")),
		},
		Capacity: strings.TrimSpace(clean("capacity")), Waitlist: c.PostForm("waitlist") != "",
		ConfirmEmail: c.PostForm("confirm_email") != "", Approval: c.PostForm("approval") != "",
		OpensAt: clean("registration_opens_at"), ClosesAt: clean("registration_closes_at"),
		MaxPartySize: strings.TrimSpace(clean("max_party_size")), Access: clean("access"),
		MinAge: strings.TrimSpace(clean("min_age")), MaxAge: strings.TrimSpace(clean("max_age")),
		PriceNote: clean("price_note"), PartnerOrgs: clean("partner_orgs"),
		SignLanguage: c.PostForm("sign_language") != "", Childcare: c.PostForm("childcare") != "",
		StepFree: clean("venue_step_free"), AccessibleToilet: clean("venue_accessible_toilet"), HearingLoop: clean("venue_hearing_loop"),
		Lat: strings.TrimSpace(clean("venue_lat")), Lon: strings.TrimSpace(clean("venue_lon")),
	}
	for _, lang := range config.Languages {
		f.Title[lang] = clean("title_" + lang)
		f.Description[lang] = clean("description_" + lang)
	}
	// In the checkboxes' order, whatever order the browser sent them in;
	// a value that is no language is kept, for the service to refuse.
	ticked := func(name string) []string {
		sent := c.PostFormArray(name)
		out := []string{}
		for _, lang := range config.Languages {
			if slices.Contains(sent, lang) {
				out = append(out, lang)
			}
		}
		for _, v := range sent {
			if v = strings.ToValidUTF8(v, ""); !slices.Contains(config.Languages, v) && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	f.Languages, f.Interpreting = ticked("languages"), ticked("interpreting")
	return f
}

// input turns the form into a complete event.Input (every field set, so an
// update replaces the event as shown) and names the fields that do not
// parse. venues are the organisation's, for a venue picked from the list.
func (f eventForm) input(create bool, venues []event.Venue) (event.Input, apperr.Fields) {
	bad := apperr.Fields{}
	in := event.Input{
		Kind: &f.Kind, DefaultLang: &f.DefaultLang, Timezone: &f.Timezone,
		Title: event.Texts{}, Description: event.Texts{},
		AllDay: &f.AllDay, Waitlist: &f.Waitlist, Access: &f.Access, PriceNote: &f.PriceNote,
		ConfirmEmail: &f.ConfirmEmail, Approval: &f.Approval,
	}
	if create {
		in.Slug = &f.Slug
	}
	partners := strings.FieldsFunc(f.PartnerOrgs, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
	in.PartnerOrgs = &partners
	for _, lang := range config.Languages {
		in.Title[lang] = f.Title[lang]
		in.Description[lang] = strings.ReplaceAll(f.Description[lang], "\r\n", "\n")
	}
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil || f.Timezone == "" || f.Timezone == "Local" {
		bad.Add("timezone", "err.timezone")
		loc = event.Zone(event.DefaultTimezone)
	}
	parse := func(field, v string, required bool) *time.Time {
		v = strings.TrimSpace(v)
		if v == "" {
			if required {
				bad.Add(field, "err.required")
			}
			return nil
		}
		t, err := time.ParseInLocation(dateTimeLocal, v, loc)
		if err != nil {
			// Some browsers send seconds.
			t, err = time.ParseInLocation("2006-01-02T15:04:05", v, loc)
		}
		if err != nil {
			bad.Add(field, "err.datetime_local")
			return nil
		}
		return &t
	}
	in.StartsAt = parse("starts_at", f.StartsAt, true)
	in.EndsAt = parse("ends_at", f.EndsAt, true)
	setNull := func(dst *event.Null[time.Time], field, v string) {
		dst.Set = true
		if t := parse(field, v, false); t != nil {
			*dst = event.Some(*t)
		}
	}
	setNull(&in.RegistrationOpensAt, "registration_opens_at", f.OpensAt)
	setNull(&in.RegistrationClosesAt, "registration_closes_at", f.ClosesAt)

	number := func(field, v string) (int, bool) {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad.Add(field, "err.number")
			return 0, false
		}
		return n, true
	}
	optional := func(dst *event.Null[int], field, v string) {
		dst.Set = true
		if v == "" {
			return
		}
		if n, ok := number(field, v); ok {
			*dst = event.Some(n)
		}
	}
	optional(&in.Capacity, "capacity", f.Capacity)
	optional(&in.MinAge, "min_age", f.MinAge)
	optional(&in.MaxAge, "max_age", f.MaxAge)
	party := 1
	if f.MaxPartySize != "" {
		party, _ = number("max_party_size", f.MaxPartySize)
	}
	in.MaxPartySize = &party

	venue := f.Venue
	if f.VenuePick != "" {
		id, _ := strconv.ParseInt(f.VenuePick, 10, 64)
		found := false
		for _, v := range venues {
			if v.ID != nil && *v.ID == id {
				venue, found = v, true
			}
		}
		if !found {
			bad.Add("venue_pick", "err.choice")
		}
	}
	if f.VenuePick == "" {
		venue.StepFree = fact(bad, "venue.step_free", f.StepFree)
		venue.AccessibleToilet = fact(bad, "venue.accessible_toilet", f.AccessibleToilet)
		venue.HearingLoop = fact(bad, "venue.hearing_loop", f.HearingLoop)
		venue.Lat = decimal(bad, "venue.lat", f.Lat)
		venue.Lon = decimal(bad, "venue.lon", f.Lon)
	}
	venue.ID = nil
	in.Venue = &venue
	in.Languages, in.Interpreting = &f.Languages, &f.Interpreting
	in.SignLanguage, in.Childcare = &f.SignLanguage, &f.Childcare
	return in, bad
}

// fact reads a yes/no/unknown field.
func fact(bad apperr.Fields, field, v string) *bool {
	switch v {
	case "":
		return nil
	case "yes":
		return new(true)
	case "no":
		return new(false)
	}
	bad.Add(field, "err.choice")
	return nil
}

// decimal reads an optional coordinate; a decimal comma is taken as a
// point, since that is how German and Turkish keyboards type it.
func decimal(bad apperr.Fields, field, v string) *float64 {
	if v == "" {
		return nil
	}
	n, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		bad.Add(field, "err.coordinate")
		return nil
	}
	return &n
}

// eventFields are the editor's fields in page order with the message id of
// their label, for the error summary. Texts per language are added by
// fieldLabel.
var eventFields = []struct{ name, label string }{
	{"slug", "admin.event.slug"},
	{"kind", "admin.event.kind"},
	{"default_lang", "admin.event.default_lang"},
	{"title", "admin.event.title"},
	{"description", "admin.event.description"},
	{"timezone", "admin.event.timezone"},
	{"starts_at", "admin.event.starts_at"},
	{"ends_at", "admin.event.ends_at"},
	{"all_day", "admin.event.all_day"},
	{"venue_pick", "admin.event.venue_pick"},
	{"venue.name", "admin.event.venue_name"},
	{"venue.street", "admin.event.venue_street"},
	{"venue.postcode", "admin.event.venue_postcode"},
	{"venue.city", "admin.event.venue_city"},
	{"venue.accessibility_notes", "admin.event.venue_accessibility_notes"},
	{"venue.step_free", "access.step_free"},
	{"venue.accessible_toilet", "access.accessible_toilet"},
	{"venue.hearing_loop", "access.hearing_loop"},
	{"venue.lat", "admin.event.venue_lat"},
	{"venue.lon", "admin.event.venue_lon"},
	{"languages", "admin.event.languages"},
	{"interpreting", "admin.event.interpreting"},
	{"capacity", "admin.event.capacity"},
	{"waitlist", "admin.event.waitlist"},
	{"registration_opens_at", "admin.event.registration_opens_at"},
	{"registration_closes_at", "admin.event.registration_closes_at"},
	{"max_party_size", "admin.event.max_party_size"},
	{"access", "admin.event.access"},
	{"partner_orgs", "admin.event.partner_orgs"},
	{"min_age", "admin.event.min_age"},
	{"max_age", "admin.event.max_age"},
	{"price_note", "admin.event.price_note"},
	{"status", "admin.event.status"},
}

// formErrors lays field errors out for the editor: a message per field
// (a title error without a language goes to the default language's title)
// and a summary in page order whose links jump to the fields.
func formErrors(l *i18n.Localizer, fields map[string]apperr.Msg, defaultLang string) (map[string]string, []fieldError) {
	if len(fields) == 0 {
		return nil, nil
	}
	byField := map[string]string{}
	for name, m := range fields {
		if name == "title" || name == "description" {
			name += "." + defaultLang
		}
		if _, taken := byField[name]; !taken {
			byField[name] = l.T(m.ID, m.Data)
		}
	}
	var list []fieldError
	seen := map[string]bool{}
	add := func(name, label string) {
		if msg, ok := byField[name]; ok && !seen[name] {
			seen[name] = true
			list = append(list, fieldError{Field: fieldID(name), Label: label, Message: msg})
		}
	}
	for _, f := range eventFields {
		if f.name == "title" || f.name == "description" {
			for _, lang := range config.Languages {
				add(f.name+"."+lang, l.T(f.label, nil)+" ("+languageNames[lang]+")")
			}
			continue
		}
		add(f.name, l.T(f.label, nil))
	}
	for name := range byField {
		add(name, name)
	}
	errs := map[string]string{}
	for name, msg := range byField {
		errs[fieldID(name)] = msg
	}
	return errs, list
}

// fieldID is a field's element id without its "f-" prefix: "venue.name" →
// "venue-name".
func fieldID(name string) string { return strings.ReplaceAll(name, ".", "-") }
