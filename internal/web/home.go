package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
)

type option struct{ Value, Label string }

type homePage struct {
	Search searchForm
	Orgs   []org.Org
	Kinds  []option
	Org    string
	Kind   string
	Events []eventView
}

// home lists upcoming events of the whole network, filtered by organisation
// and kind and the search form (search.go).
func (s *server) home(c *gin.Context) {
	l := localizer(c)
	now := time.Now()
	search, f := readSearch(c, l, "/", now)
	p := homePage{Search: search, Org: c.Query("org"), Kind: c.Query("kind")}
	if !slices.Contains(event.Kinds, p.Kind) {
		p.Kind = ""
	}
	orgs, err := s.Orgs.List(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		return
	}
	p.Orgs = orgs
	for _, k := range event.Kinds {
		p.Kinds = append(p.Kinds, option{k, l.T("kind."+k, nil)})
	}
	f.OrgSlug, f.Kind = p.Org, p.Kind
	evs, err := s.Events.List(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	for i := range evs {
		p.Events = append(p.Events, newEventView(l, &evs[i], now))
	}
	s.render(c, http.StatusOK, "home", l.T("title.home", nil), p)
}

type orgPage struct {
	Search searchForm
	Org    *org.Org
	Events []eventView
}

// orgPage shows one organisation and its upcoming events.
func (s *server) orgPage(c *gin.Context) { s.orgEvents(c, "org") }

// orgEvents renders an organisation's upcoming events with template tmpl.
func (s *server) orgEvents(c *gin.Context, tmpl string) {
	l := localizer(c)
	o, err := s.Orgs.BySlug(c.Request.Context(), c.Param("org"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	now := time.Now()
	search, f := readSearch(c, l, "/orgs/"+o.Slug, now)
	f.OrgSlug = o.Slug
	evs, err := s.Events.List(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := orgPage{Search: search, Org: o}
	for i := range evs {
		p.Events = append(p.Events, newEventView(l, &evs[i], now))
	}
	s.render(c, http.StatusOK, tmpl, o.Name, p)
}
