package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/event"
)

// seriesJSON is a series with its dates as the event list shows them.
type seriesJSON struct {
	Slug   string      `json:"slug"`
	Org    string      `json:"org"`
	URL    string      `json:"url"`
	ICS    string      `json:"ics"`
	Events []eventJSON `json:"events"`
}

// staffSeriesJSON adds what the organisation sees: the template, the rule,
// and for each date whether it was edited on its own (a change of the
// template no longer reaches it).
type staffSeriesJSON struct {
	Slug     string            `json:"slug"`
	Org      string            `json:"org"`
	URL      string            `json:"url"`
	Template any               `json:"template"`
	RRule    string            `json:"rrule"`
	Events   []staffSeriesDate `json:"events"`
}

type staffSeriesDate struct {
	staffEventJSON
	EditedAlone bool `json:"edited_alone"`
}

func (h *handler) seriesURL(sr *event.Series) string { return h.Config.BaseURL + "/series/" + sr.Slug }

func (h *handler) toStaffSeriesJSON(sr *event.Series, now time.Time) staffSeriesJSON {
	out := staffSeriesJSON{Slug: sr.Slug, Org: sr.OrgSlug, URL: h.seriesURL(sr), Template: sr.Template, RRule: sr.RRule,
		Events: make([]staffSeriesDate, len(sr.Dates))}
	for i := range sr.Dates {
		out.Events[i] = staffSeriesDate{staffEventJSON: h.toStaffEventJSON(&sr.Dates[i], "", now), EditedAlone: sr.EditedAlone[sr.Dates[i].ID]}
	}
	return out
}

// getSeries is GET /series/:slug: the public dates (drafts left out).
func (h *handler) getSeries(c *gin.Context) {
	lang, err := langParam(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	sr, err := h.Events.GetSeries(c.Request.Context(), c.Param("slug"), false)
	if err != nil {
		_ = c.Error(err)
		return
	}
	now := h.now()
	out := seriesJSON{Slug: sr.Slug, Org: sr.OrgSlug, URL: h.seriesURL(sr), ICS: h.seriesURL(sr) + ".ics", Events: make([]eventJSON, len(sr.Dates))}
	for i := range sr.Dates {
		out.Events[i] = h.toEventJSON(&sr.Dates[i], lang, now)
	}
	c.JSON(http.StatusOK, out)
}

// getOrgSeries is GET /orgs/:org/series/:slug, drafts included.
func (h *handler) getOrgSeries(c *gin.Context) {
	sr, err := h.Events.GetSeriesForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffSeriesJSON(sr, h.now()))
}

// createSeries is POST /orgs/:org/series: every date at once, or none.
func (h *handler) createSeries(c *gin.Context) {
	var in event.SeriesInput
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	var sr *event.Series
	err := h.audited(c, audit.Entry{Action: audit.EventCreate, Target: in.Slug, Details: map[string]any{"series": true}}, func(ctx context.Context) (err error) {
		sr, err = h.Events.CreateSeries(ctx, principal(c).OrgID, in)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", h.Config.BaseURL+"/api/v1/orgs/"+sr.OrgSlug+"/series/"+sr.Slug)
	c.JSON(http.StatusCreated, h.toStaffSeriesJSON(sr, h.now()))
}

// updateSeries is PATCH /orgs/:org/series/:slug: template and add_dates.
// Single dates are changed and cancelled through …/events/:slug.
func (h *handler) updateSeries(c *gin.Context) {
	var in event.SeriesPatch
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	var sr *event.Series
	err := h.audited(c, audit.Entry{Action: audit.EventUpdate, Target: c.Param("slug"), Details: map[string]any{"series": true, "add_dates": len(in.AddDates)}}, func(ctx context.Context) (err error) {
		sr, err = h.Events.UpdateSeries(ctx, principal(c).OrgID, c.Param("slug"), in)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffSeriesJSON(sr, h.now()))
}
