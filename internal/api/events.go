package api

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
)

type orgRef struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// eventJSON is an event as the API shows it. Times of the event are given
// in the event's own zone (the offset says which), so that a client can show
// local times without a time-zone database.
type eventJSON struct {
	Slug                 string       `json:"slug"`
	Org                  orgRef       `json:"org"`
	Kind                 string       `json:"kind"`
	Status               string       `json:"status"`
	DefaultLang          string       `json:"default_lang"`
	Title                event.Texts  `json:"title"`
	TitleText            *string      `json:"title_text,omitempty"`
	Description          event.Texts  `json:"description"`
	DescriptionText      *string      `json:"description_text,omitempty"`
	StartsAt             time.Time    `json:"starts_at"`
	EndsAt               time.Time    `json:"ends_at"`
	AllDay               bool         `json:"all_day"`
	Timezone             string       `json:"timezone"`
	Venue                *event.Venue `json:"venue"`
	Capacity             *int         `json:"capacity"`
	SeatsLeft            *int         `json:"seats_left"`
	Waitlist             bool         `json:"waitlist"`
	ConfirmEmail         bool         `json:"confirm_email"`
	Approval             bool         `json:"approval"`
	WaitlistLength       int          `json:"waitlist_length"`
	RegistrationOpen     bool         `json:"registration_open"`
	RegistrationState    string       `json:"registration_state"`
	RegistrationOpensAt  *time.Time   `json:"registration_opens_at"`
	RegistrationClosesAt *time.Time   `json:"registration_closes_at"`
	MaxPartySize         int          `json:"max_party_size"`
	Access               string       `json:"access"`
	MinAge               *int         `json:"min_age"`
	MaxAge               *int         `json:"max_age"`
	PriceNote            string       `json:"price_note"`
	Sequence             int          `json:"sequence"`
	URL                  string       `json:"url"`
	UpdatedAt            time.Time    `json:"updated_at"`

	Questions event.Questions `json:"questions"`
	// Sessions are the event's workshops (sessions.go); [] when none.
	Sessions    []sessionJSON `json:"sessions"`
	MaxSessions *int          `json:"max_sessions"`
	// Image is the event's picture (image.go), null without one.
	Image *imageJSON `json:"image"`
	// Languages are spoken at the event (access.go in event).
	Languages    []string `json:"languages"`
	Interpreting []string `json:"interpreting"`
	SignLanguage bool     `json:"sign_language"`
	Childcare    bool     `json:"childcare"`
}

// toEventJSON renders e; lang, when not empty, adds the title and the
// description in that language (else in the event's default language).
func (h *handler) toEventJSON(e *event.Event, lang string, now time.Time) eventJSON {
	loc := e.Location()
	inLoc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		l := t.In(loc)
		return &l
	}
	j := eventJSON{
		Slug:                 e.Slug,
		Org:                  orgRef{Slug: e.OrgSlug, Name: e.OrgName},
		Kind:                 e.Kind,
		Status:               e.Status,
		DefaultLang:          e.DefaultLang,
		Title:                orEmpty(e.Title),
		Description:          orEmpty(e.Description),
		StartsAt:             e.StartsAt.In(loc),
		EndsAt:               e.EndsAt.In(loc),
		AllDay:               e.AllDay,
		Timezone:             e.Timezone,
		Capacity:             e.Capacity,
		SeatsLeft:            e.SeatsLeft(),
		Waitlist:             e.Waitlist,
		ConfirmEmail:         e.ConfirmEmail,
		Approval:             e.Approval,
		WaitlistLength:       e.WaitlistLength,
		RegistrationOpen:     e.RegistrationOpen(now),
		RegistrationState:    e.RegistrationState(now),
		RegistrationOpensAt:  inLoc(e.RegistrationOpensAt),
		RegistrationClosesAt: inLoc(e.RegistrationClosesAt),
		MaxPartySize:         e.MaxPartySize,
		Access:               e.Access,
		MinAge:               e.MinAge,
		MaxAge:               e.MaxAge,
		PriceNote:            e.PriceNote,
		Questions:            questionsOf(e),
		Sessions:             sessionsJSON(e, lang),
		MaxSessions:          e.MaxSessions,
		Sequence:             e.Sequence,
		URL:                  h.Config.BaseURL + "/events/" + e.Slug,
		UpdatedAt:            e.UpdatedAt.UTC(),
		Image:                h.toImageJSON(e.Image),
		Languages:            orNone(e.Languages),
		Interpreting:         orNone(e.Interpreting),
		SignLanguage:         e.SignLanguage,
		Childcare:            e.Childcare,
	}
	if e.Venue.Name != "" {
		v := e.Venue
		j.Venue = &v
	}
	if lang != "" {
		title, _ := e.Title.In(lang, e.DefaultLang)
		desc, _ := e.Description.In(lang, e.DefaultLang)
		j.TitleText, j.DescriptionText = &title, &desc
	}
	return j
}

// questionsOf is the event's questions, [] when it has none.
func questionsOf(e *event.Event) event.Questions {
	if e.Questions == nil {
		return event.Questions{}
	}
	return e.Questions
}

func orEmpty(t event.Texts) event.Texts {
	if t == nil {
		return event.Texts{}
	}
	return t
}

// listEvents is GET /events: upcoming published and cancelled events.
func (h *handler) listEvents(c *gin.Context) {
	now := h.now()
	f, lang, err := eventFilter(c, now, now)
	if err != nil {
		_ = c.Error(err)
		return
	}
	evs, err := h.Events.List(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]eventJSON, len(evs))
	for i := range evs {
		out[i] = h.toEventJSON(&evs[i], lang, now)
	}
	c.JSON(http.StatusOK, gin.H{"events": out})
}

// getEvent is GET /events/:slug; drafts are not found.
func (h *handler) getEvent(c *gin.Context) {
	lang, err := langParam(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	e, err := h.Events.GetPublic(c.Request.Context(), c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toEventJSON(e, lang, h.now()))
}

// eventFilter reads ?org=&kind=&from=&to=&when=&q=&lang=&access=; from
// defaults to defFrom; presets (when=) count from now. Every value is checked here, so that no bytes a
// client sends reach PostgreSQL as text it refuses (a 500).
func eventFilter(c *gin.Context, now, defFrom time.Time) (event.Filter, string, error) {
	fe := apperr.Fields{}
	f := event.Filter{OrgSlug: c.Query("org"), Kind: c.Query("kind"), From: defFrom}
	if !utf8.ValidString(f.OrgSlug) || strings.ContainsRune(f.OrgSlug, 0) {
		fe.Add("org", "err.choice")
		f.OrgSlug = ""
	}
	if f.Kind != "" && !slices.Contains(event.Kinds, f.Kind) {
		fe.Add("kind", "err.choice")
	}
	if words, err := event.SearchWords(c.Query("q")); err != nil {
		fe.Add("q", "err.search")
	} else {
		f.Words = words
	}
	if when := c.Query("when"); when != "" {
		from, to, ok := event.PresetRange(when, now)
		switch {
		case !ok:
			fe.Add("when", "err.choice")
		case c.Query("from") != "" || c.Query("to") != "":
			// Two answers to "when" would need a rule for which wins.
			fe.Add("when", "err.when_and_dates")
		default:
			f.From, f.To = from, to
		}
	}
	if s := c.Query("from"); s != "" {
		if t, ok := parseMoment(s, false); ok {
			f.From = t
		} else {
			fe.Add("from", "err.date")
		}
	}
	if s := c.Query("to"); s != "" {
		if t, ok := parseMoment(s, true); ok {
			f.To = t
		} else {
			fe.Add("to", "err.date")
		}
	}
	lang, err := langParam(c)
	if err != nil {
		fe.Add("lang", "err.lang")
	}
	f.Lang = lang
	if s := c.Query("access"); s != "" {
		for _, fact := range strings.Split(s, ",") {
			fact = strings.TrimSpace(fact)
			if !slices.Contains(event.AccessFacts, fact) {
				fe.Add("access", "err.choice")
				break
			}
			f.Access = append(f.Access, fact)
		}
	}
	return f, lang, fe.Err()
}

// langParam is ?lang=, one of the network's languages or empty.
func langParam(c *gin.Context) (string, error) {
	lang := c.Query("lang")
	if lang != "" && !slices.Contains(config.Languages, lang) {
		return "", apperr.Field("lang", "err.lang")
	}
	return lang, nil
}

// dateZone is where a bare date in a query starts and ends: the network's
// home, which events default to as well.
var dateZone = event.Zone(event.DefaultTimezone)

// parseMoment accepts RFC 3339 or YYYY-MM-DD. A date means the start of that
// day, or with endOfDay the start of the next, so that to=2026-05-01
// includes the first of May.
func parseMoment(s string, endOfDay bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	d, err := time.ParseInLocation(time.DateOnly, s, dateZone)
	if err != nil {
		return time.Time{}, false
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, true
}
