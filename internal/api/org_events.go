package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/event"
)

// staffEventJSON is an event as its organisation sees it: the public view
// plus the counter behind seats_left, which matters for unlimited events.
type staffEventJSON struct {
	eventJSON
	SeatsConfirmed int       `json:"seats_confirmed"`
	CreatedAt      time.Time `json:"created_at"`
	// PartnerOrgs are the slugs of the partner organisations.
	PartnerOrgs []string `json:"partner_orgs"`
	// Partners say which partners have accepted: only their members may
	// sign up (docs/access.md).
	Partners []partnerJSON `json:"partners"`
	// Sessions shadow the public ones with their counts.
	Sessions []staffSessionJSON `json:"sessions"`
}

func (h *handler) toStaffEventJSON(e *event.Event, lang string, now time.Time) staffEventJSON {
	return staffEventJSON{eventJSON: h.toEventJSON(e, lang, now), SeatsConfirmed: e.SeatsConfirmed, CreatedAt: e.CreatedAt.UTC(),
		PartnerOrgs: e.Partners.Slugs(), Partners: partnersJSON(e.Partners), Sessions: staffSessionsJSON(e, lang)}
}

func (h *handler) staffEventURL(e *event.Event) string {
	return h.Config.BaseURL + "/api/v1/orgs/" + e.OrgSlug + "/events/" + e.Slug
}

// listOrgEvents is GET /orgs/:org/events: every event of the organisation,
// drafts included, past ones too unless ?from= says otherwise.
func (h *handler) listOrgEvents(c *gin.Context) {
	now := h.now()
	f, lang, err := eventFilter(c, now, time.Time{})
	if err != nil {
		_ = c.Error(err)
		return
	}
	f.OrgSlug = principal(c).OrgSlug
	f.Statuses = []string{event.Draft, event.Published, event.Cancelled}
	evs, err := h.Events.List(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]staffEventJSON, len(evs))
	for i := range evs {
		out[i] = h.toStaffEventJSON(&evs[i], lang, now)
	}
	c.JSON(http.StatusOK, gin.H{"events": out})
}

// getOrgEvent is GET /orgs/:org/events/:slug, drafts included.
func (h *handler) getOrgEvent(c *gin.Context) {
	lang, err := langParam(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	e, err := h.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffEventJSON(e, lang, h.now()))
}

// createEvent is POST /orgs/:org/events.
func (h *handler) createEvent(c *gin.Context) {
	var in event.Input
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	var e *event.Event
	err := h.audited(c, audit.Entry{Action: audit.EventCreate, Target: deref(in.Slug), Details: statusDetail(in.Status)}, func(ctx context.Context) (err error) {
		e, err = h.Events.Create(ctx, principal(c).OrgID, in)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", h.staffEventURL(e))
	c.JSON(http.StatusCreated, h.toStaffEventJSON(e, "", h.now()))
}

// updateEvent is PATCH /orgs/:org/events/:slug: absent fields stay, null
// clears the fields that may be empty (capacity, ages, sign-up window).
func (h *handler) updateEvent(c *gin.Context) {
	var in event.Input
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	var e *event.Event
	err := h.audited(c, audit.Entry{Action: audit.EventUpdate, Target: c.Param("slug"), Details: statusDetail(in.Status)}, func(ctx context.Context) (err error) {
		e, err = h.Events.Update(ctx, principal(c).OrgID, c.Param("slug"), in)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffEventJSON(e, "", h.now()))
}

// cancelEvent is POST /orgs/:org/events/:slug/cancel; cancelling twice
// answers the same.
func (h *handler) cancelEvent(c *gin.Context) {
	var e *event.Event
	err := h.audited(c, audit.Entry{Action: audit.EventCancel, Target: c.Param("slug")}, func(ctx context.Context) (err error) {
		e, err = h.Events.Cancel(ctx, principal(c).OrgID, c.Param("slug"))
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffEventJSON(e, "", h.now()))
}
