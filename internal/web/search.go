package web

import (
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
)

// searchForm is the filter form of the home page and an organisation's
// page (partials/search_form.html), read from the query string so that a
// filtered list is a link and works without JavaScript. The parameters are
// those of GET /api/v1/events except the language spoken, which is
// ?spoken= here: ?lang= on a page is the language of the page itself.
type searchForm struct {
	Action string
	Q      string
	When   string
	From   string
	To     string
	Spoken string
	Access []string

	Presets   []option
	Languages []option
	Facts     []option
}

// readSearch reads the form and the filter it makes. A page is not an API:
// a value it cannot use is left out of the filter (and the form shows
// what is used), rather than answered with an error page.
func readSearch(c *gin.Context, l *i18n.Localizer, action string, now time.Time) (searchForm, event.Filter) {
	f := event.Filter{From: now}
	sf := searchForm{Action: action}
	if words, err := event.SearchWords(c.Query("q")); err == nil {
		sf.Q, f.Words = c.Query("q"), words
	}
	if from, to, ok := event.PresetRange(c.Query("when"), now); ok {
		sf.When, f.From, f.To = c.Query("when"), from, to
	} else {
		if t, err := time.ParseInLocation(time.DateOnly, c.Query("from"), event.Zone(event.DefaultTimezone)); err == nil {
			// The list shows what is still to come, from a date on.
			sf.From = c.Query("from")
			if t.After(now) {
				f.From = t
			}
		}
		if t, err := time.ParseInLocation(time.DateOnly, c.Query("to"), event.Zone(event.DefaultTimezone)); err == nil {
			sf.To, f.To = c.Query("to"), t.AddDate(0, 0, 1)
		}
	}
	if s := c.Query("spoken"); slices.Contains(config.Languages, s) {
		sf.Spoken, f.Lang = s, s
	}
	for _, a := range c.QueryArray("access") {
		if slices.Contains(event.AccessFacts, a) && !slices.Contains(f.Access, a) {
			f.Access = append(f.Access, a)
		}
	}
	sf.Access = f.Access
	for _, p := range event.Presets {
		sf.Presets = append(sf.Presets, option{p, l.T("search.when."+p, nil)})
	}
	for _, lang := range config.Languages {
		sf.Languages = append(sf.Languages, option{lang, ""})
	}
	for _, a := range event.AccessFacts {
		key := "access." + a
		if a == "interpreting" {
			key = "search.access.interpreting"
		}
		sf.Facts = append(sf.Facts, option{a, l.T(key, nil)})
	}
	return sf, f
}
