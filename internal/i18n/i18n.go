// Package i18n loads the message catalogues (one TOML file per language in
// web/i18n), picks a language for a request, and formats dates and times in
// a language and time zone.
package i18n

import (
	"fmt"
	"io/fs"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"

	"treffpunkt/internal/config"
)

// Catalogue holds every language's messages.
type Catalogue struct {
	bundle  *goi18n.Bundle
	matcher language.Matcher
	def     string
}

// Load reads i18n/<lang>.toml for every language that has a file; def must
// be among them.
func Load(fsys fs.FS, def string) (*Catalogue, error) {
	b := goi18n.NewBundle(language.Make(def))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	var tags []language.Tag
	// The default language goes first: the matcher falls back to it.
	langs := append([]string{def}, config.Languages...)
	seen := map[string]bool{}
	for _, l := range langs {
		if seen[l] {
			continue
		}
		seen[l] = true
		if _, err := b.LoadMessageFileFS(fsys, "i18n/"+l+".toml"); err != nil {
			if l == def {
				return nil, fmt.Errorf("load catalogue %s: %w", l, err)
			}
			continue
		}
		tags = append(tags, language.Make(l))
	}
	return &Catalogue{bundle: b, matcher: language.NewMatcher(tags), def: def}, nil
}

// Languages lists the languages that have a catalogue, default first.
func (c *Catalogue) Languages() []string {
	var out []string
	for _, t := range c.bundle.LanguageTags() {
		out = append(out, t.String())
	}
	return out
}

// Has reports whether lang has a catalogue.
func (c *Catalogue) Has(lang string) bool {
	for _, l := range c.Languages() {
		if l == lang {
			return true
		}
	}
	return false
}

// Match picks the best language for explicit choices (query, cookie) and an
// Accept-Language header, in that order of precedence.
func (c *Catalogue) Match(explicit []string, acceptLanguage string) string {
	for _, l := range explicit {
		if l != "" && c.Has(l) {
			return l
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := c.matcher.Match(tags...)
			if conf != language.No {
				return c.Languages()[idx]
			}
		}
	}
	return c.def
}

// Localizer translates for one language.
type Localizer struct {
	Lang     string
	loc      *goi18n.Localizer
	fallback *goi18n.Localizer // the default language's
}

// For returns a localizer for lang (falling back to the default language).
func (c *Catalogue) For(lang string) *Localizer {
	return &Localizer{Lang: lang, loc: goi18n.NewLocalizer(c.bundle, lang), fallback: goi18n.NewLocalizer(c.bundle, c.def)}
}

// localize tries the language, then the default language: a message added
// to German but not yet translated shows in German rather than as its id.
func (l *Localizer) localize(cfg *goi18n.LocalizeConfig) (string, error) {
	s, err := l.loc.Localize(cfg)
	if err != nil {
		s, err = l.fallback.Localize(cfg)
	}
	return s, err
}

// T translates a message id with optional template data. A missing message
// shows its id, which the catalogue tests make impossible for shipped ids.
func (l *Localizer) T(id string, data map[string]any) string {
	s, err := l.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// N translates a message with plural forms for count.
func (l *Localizer) N(id string, count int, data map[string]any) string {
	d := map[string]any{"Count": count}
	for k, v := range data {
		d[k] = v
	}
	s, err := l.localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: d})
	if err != nil {
		return id
	}
	return s
}

// Date formats a day with weekday and month names, e.g. "Freitag, 4. Dezember 2026".
func (l *Localizer) Date(t time.Time) string {
	return l.T("fmt.date", map[string]any{
		"Weekday": l.T("weekday."+strings.ToLower(t.Weekday().String()), nil),
		"Day":     t.Day(),
		"Month":   l.T(fmt.Sprintf("month.%d", int(t.Month())), nil),
		"Year":    t.Year(),
	})
}

// Time formats a clock time on the 24-hour clock.
func (l *Localizer) Time(t time.Time) string { return t.Format("15:04") }

// DateTime formats a moment in loc: "Freitag, 4. Dezember 2026, 18:00".
func (l *Localizer) DateTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return l.T("fmt.datetime", map[string]any{"Date": l.Date(t), "Time": l.Time(t)})
}

// Span formats an event's start and end in its zone: one day with a time
// range, several days as a date range, all-day events without times.
func (l *Localizer) Span(start, end time.Time, allDay bool, loc *time.Location) string {
	start, end = start.In(loc), end.In(loc)
	sameDay := start.Year() == end.Year() && start.YearDay() == end.YearDay()
	switch {
	case allDay && sameDay:
		return l.Date(start)
	case allDay:
		return l.Date(start) + " – " + l.Date(end)
	case sameDay:
		return l.T("fmt.datetime", map[string]any{"Date": l.Date(start), "Time": l.isolate(l.Time(start) + "–" + l.Time(end))})
	default:
		return l.DateTime(start, loc) + " – " + l.DateTime(end, loc)
	}
}

// isolate keeps a time range in left-to-right order inside right-to-left
// text: without it the bidi algorithm shows "18:00–21:00" as "21:00–18:00".
// The isolate marks (LRI … PDI) work in pages, mails and calendar apps alike.
func (l *Localizer) isolate(s string) string {
	if Dir(l.Lang) == "rtl" {
		return "\u2066" + s + "\u2069"
	}
	return s
}

// names are the languages' own names, for the language switcher: a reader
// looks for their language under the name they know it by.
var names = map[string]string{
	"de": "Deutsch", "en": "English", "tr": "Türkçe", "ar": "العربية",
	"fa": "فارسی", "ru": "Русский", "ku": "Kurdî",
}

// Name is a language's name in that language (the code if unknown).
func Name(lang string) string {
	if n, ok := names[lang]; ok {
		return n
	}
	return lang
}

// Dir is the text direction of a language.
func Dir(lang string) string {
	if lang == "ar" || lang == "fa" {
		return "rtl"
	}
	return "ltr"
}
