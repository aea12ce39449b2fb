package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/calendar"
	"treffpunkt/internal/event"
)

// seriesRoutes mounts a series' page, its calendar feed and its embed.
// /series/{slug}.ics shares the page's route, as /events/{slug}.ics does.
func (s *server) seriesRoutes(r *gin.Engine) {
	r.GET("/series/:slug", s.seriesOrFeed)
	r.HEAD("/series/:slug", s.seriesOrFeed)
	r.GET("/embed/series/:slug", s.markEmbed, s.seriesPage)
}

type seriesPage struct {
	Slug    string
	OrgSlug string
	OrgName string
	Events  []eventView
}

func (s *server) seriesOrFeed(c *gin.Context) {
	if slug, ok := strings.CutSuffix(c.Param("slug"), ".ics"); ok {
		s.publicFeed(c, calendar.Query{SeriesSlug: slug})
		return
	}
	s.seriesPage(c)
}

// seriesPage lists a series' dates still to come with the places left;
// inside the embed, links stay in the frame.
func (s *server) seriesPage(c *gin.Context) {
	sr, err := s.Events.GetSeries(c.Request.Context(), c.Param("slug"), false)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	now := time.Now()
	p := seriesPage{Slug: sr.Slug, OrgSlug: sr.OrgSlug, OrgName: sr.Dates[0].OrgName}
	for _, e := range sr.Upcoming(now) {
		p.Events = append(p.Events, newEventView(l, &e, now))
	}
	title, _ := sr.Dates[len(sr.Dates)-1].Title.In(l.Lang, sr.Dates[len(sr.Dates)-1].DefaultLang)
	page := "series"
	if isEmbed(c) {
		page = "embed_series"
	}
	s.render(c, http.StatusOK, page, l.T("series.heading", map[string]any{"Title": title}), p)
}

// seriesLinks are the other dates of the series an event belongs to, for
// its page; nil when it stands alone. A failure to read them costs the
// links, not the page.
type seriesLinks struct {
	Slug  string
	Dates []eventView
}

func (s *server) seriesLinksOf(c *gin.Context, e *event.Event) *seriesLinks {
	sr, err := s.Events.SeriesOf(c.Request.Context(), e.ID)
	if err != nil {
		s.Log.Warn("series of event", "event", e.Slug, "error", err.Error())
		return nil
	}
	if sr == nil {
		return nil
	}
	l := localizer(c)
	now := time.Now()
	out := &seriesLinks{Slug: sr.Slug}
	for _, d := range sr.Upcoming(now) {
		if d.ID != e.ID {
			out.Dates = append(out.Dates, newEventView(l, &d, now))
		}
	}
	return out
}
