package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
)

// listPartnerships is GET /orgs/:org/partnerships (owner): the events that
// name the organisation as partner, with the answer given so far.
func (h *handler) listPartnerships(c *gin.Context) {
	ps, err := h.Events.Partnerships(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"partnerships": ps})
}

// decidePartnership is POST /orgs/:org/partnerships/:slug/accept and
// …/decline (owner of the partner organisation :org).
func (h *handler) decidePartnership(accept bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		ps, err := h.Events.DecidePartnership(c.Request.Context(), p.OrgID, c.Param("slug"), accept, p.UserID)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.JSON(http.StatusOK, ps)
	}
}

// partnerJSON is a partner organisation of an event as its presenting
// organisation sees it.
type partnerJSON struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

func partnersJSON(ps event.Partners) []partnerJSON {
	out := make([]partnerJSON, len(ps))
	for i, p := range ps {
		out[i] = partnerJSON{Slug: p.Slug, Name: p.Name, Status: p.Status}
	}
	return out
}
