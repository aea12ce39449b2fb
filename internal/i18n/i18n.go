// Package i18n loads the message catalogues (one TOML file per language in
// web/i18n), picks a language for a request, and formats dates and times in
// a language and time zone.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"
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
// be among them. A catalogue never changes once loaded, so the catalogues
// of an embedded file system (the shipped one) are read once per process
// and shared: the test suite starts hundreds of app instances, and parsing
// seven catalogues cost each of them more than its database.
func Load(fsys fs.FS, def string) (*Catalogue, error) {
	efs, ok := fsys.(embed.FS)
	if !ok {
		return load(fsys, def)
	}
	// One mutex around the whole load: apps that start side by side (the
	// tests) wait for the first to parse instead of each parsing.
	sharedMu.Lock()
	defer sharedMu.Unlock()
	key := loaded{efs, def}
	if c, ok := shared[key]; ok {
		return c, nil
	}
	c, err := load(fsys, def)
	if err != nil {
		return nil, err
	}
	shared[key] = c
	return c, nil
}

// loaded names a catalogue read from an embedded file system.
type loaded struct {
	fsys embed.FS
	def  string
}

var (
	sharedMu sync.Mutex
	shared   = map[loaded]*Catalogue{}
)

func load(fsys fs.FS, def string) (*Catalogue, error) {
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
// Numbers are written in the language's digits, German's in the fallback.
func (l *Localizer) localize(id string, count any, data map[string]any) (string, error) {
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: localNumbers(l.Lang, data)})
	if err != nil {
		s, err = l.fallback.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: data})
	}
	return s, err
}

// T translates a message id with optional template data. A missing message
// shows its id, which the catalogue tests make impossible for shipped ids.
func (l *Localizer) T(id string, data map[string]any) string {
	s, err := l.localize(id, nil, data)
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
	s, err := l.localize(id, count, d)
	if err != nil {
		return id
	}
	return s
}

// digits rewrite 0–9 for languages whose texts use other digits. Persian
// writes ۱۰ and ۷۲ in its own sentences, so a count filled in must not be
// "4". Arabic keeps 0–9: its catalogue writes "10 أحرف", as is usual in
// Syria, Iraq and on German forms. Strings (ticket codes, postcodes, member
// numbers) are never rewritten: people type and compare them.
var digits = map[string]*strings.Replacer{
	"fa": strings.NewReplacer("0", "۰", "1", "۱", "2", "۲", "3", "۳", "4", "۴", "5", "۵", "6", "۶", "7", "۷", "8", "۸", "9", "۹"),
}

// Digits writes the 0–9 in s in lang's digits.
func Digits(lang, s string) string {
	if r := digits[lang]; r != nil {
		return r.Replace(s)
	}
	return s
}

// localNumbers is data with its integers written in lang's digits; the
// message template then prints them as they are.
func localNumbers(lang string, data map[string]any) map[string]any {
	if digits[lang] == nil || len(data) == 0 {
		return data
	}
	out := make(map[string]any, len(data))
	for k, v := range data {
		switch v.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			out[k] = Digits(lang, fmt.Sprint(v))
		default:
			out[k] = v
		}
	}
	return out
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

// Time formats a clock time on the 24-hour clock, in the language's digits.
func (l *Localizer) Time(t time.Time) string { return Digits(l.Lang, t.Format("15:04")) }

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
