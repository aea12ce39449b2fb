package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/registration"
)

// registerFigures mounts walk-ins, the release of no-shows and the figures
// (issue 21; docs/api.md "Walk-ins", "Release no-shows", "Figures"). door
// is the check-in group (any token of the door role or higher, the event
// scoped by the check-in service), staff the organisers' group of :org.
func registerFigures(g, door, staff *gin.RouterGroup, h *handler) {
	door.POST("/walkin", h.walkIn)
	staff.POST("/events/:slug/release-no-shows", h.releaseNoShows)
	staff.GET("/stats", h.orgStats)
	g.GET("/stats", h.requireAdmin, h.networkStats)
}

// walkInJSON is the answer to a walk-in: the registration, confirmed and
// checked in.
type walkInJSON struct {
	ID        int64             `json:"id"`
	Event     string            `json:"event"`
	Status    string            `json:"status"`
	WalkIn    bool              `json:"walk_in"`
	Name      string            `json:"name"`
	PartySize int               `json:"party_size"`
	Mailed    bool              `json:"mailed"`
	ManageURL string            `json:"manage_url"`
	Tickets   []staffTicketJSON `json:"tickets"`
}

// walkIn is POST /api/v1/checkin/walkin {"event","name","party_size","email","lang"}.
func (h *handler) walkIn(c *gin.Context) {
	var in registration.WalkInInput
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	ev, err := h.Checkins.EventFor(ctx, p, in.Event)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var r *registration.Registration
	// The entry goes to the event's organisation (a network admin's token
	// belongs to another); it names no person, only the party's size.
	e := audit.Entry{OrgID: ev.OrgID, UserID: p.UserID, TokenID: p.TokenID, Action: audit.CheckinWalkIn, Target: ev.Slug,
		Details: map[string]any{"party_size": in.PartySize, "with_email": in.Email != ""}}
	err = h.auditDo(ctx, e, func(ctx context.Context) error {
		var err error
		r, err = h.Registrations.WalkIn(ctx, ev.ID, in, registration.Staff{UserID: p.UserID, TokenID: p.TokenID})
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	j := walkInJSON{ID: r.ID, Event: ev.Slug, Status: r.Status, WalkIn: true, Name: r.Name, PartySize: r.PartySize,
		Mailed: r.Email != "", ManageURL: h.Config.BaseURL + "/r/" + r.ManageToken, Tickets: []staffTicketJSON{}}
	for _, t := range r.Tickets {
		j.Tickets = append(j.Tickets, staffTicketJSON{Code: t.Code, CheckedInAt: t.CheckedInAt})
	}
	c.JSON(http.StatusCreated, j)
}

// auditDo runs act as the audited action e, written in act's transaction.
func (h *handler) auditDo(ctx context.Context, e audit.Entry, act func(ctx context.Context) error) error {
	if h.Audit == nil {
		return act(ctx)
	}
	return h.Audit.Do(ctx, e, act)
}

// releaseNoShows is POST /orgs/:org/events/:slug/release-no-shows {"after_minutes"}.
func (h *handler) releaseNoShows(c *gin.Context) {
	var in struct {
		AfterMinutes *int `json:"after_minutes"`
	}
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	ev, err := h.Events.GetForOrg(ctx, principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	n := 0
	var details map[string]any
	if in.AfterMinutes != nil {
		details = map[string]any{"after_minutes": *in.AfterMinutes}
	}
	err = h.audited(c, audit.Entry{Action: audit.RegistrationsReleaseNoShows, Target: ev.Slug, Details: details},
		func(ctx context.Context) error {
			var err error
			n, err = h.Registrations.ReleaseNoShows(ctx, ev.ID, in.AfterMinutes)
			return err
		})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"released": n})
}

// orgStats is GET /orgs/:org/stats?from=&to= (organiser or owner).
func (h *handler) orgStats(c *gin.Context) {
	h.stats(c, principal(c).OrgID)
}

// networkStats is GET /stats?from=&to= (a network-admin token): every
// organisation's events.
func (h *handler) networkStats(c *gin.Context) {
	h.stats(c, 0)
}

func (h *handler) stats(c *gin.Context, orgID int64) {
	st, err := h.Registrations.Stats(c.Request.Context(), orgID, registration.StatsRange{From: c.Query("from"), To: c.Query("to")})
	if err != nil {
		_ = c.Error(err)
		return
	}
	// Written without HTML escaping, so that a suppressed cell reads
	// "<5" rather than "\u003c5" (the same string to a JSON parser).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		_ = c.Error(apperr.Wrap(err, "encode stats"))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
}

// requireAdmin admits a network-admin token only.
func (h *handler) requireAdmin(c *gin.Context) {
	p, ok := h.authenticate(c)
	if !ok {
		return
	}
	if !p.Admin {
		abort(c, apperr.New(apperr.Forbidden, "err.forbidden"))
		return
	}
	c.Set(ctxPrincipal, p)
	c.Header("Cache-Control", "no-store")
	c.Next()
}
