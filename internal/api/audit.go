package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
)

// audited runs act as an audited action of the token: the entry is written
// in act's transaction, or right after it when act ran none.
func (h *handler) audited(c *gin.Context, e audit.Entry, act func(ctx context.Context) error) error {
	p := principal(c)
	e.OrgID, e.UserID, e.TokenID = p.OrgID, p.UserID, p.TokenID
	return h.Audit.Do(c.Request.Context(), e, act)
}

// auditExport records that the token took a copy of an attendee list.
func (h *handler) auditExport(c *gin.Context, slug, format string, rows int) error {
	return h.audited(c, audit.Entry{Action: audit.RegistrationsExport, Target: slug,
		Details: map[string]any{"format": format, "rows": rows}}, func(context.Context) error { return nil })
}

// auditLog is GET /orgs/:org/audit[?before=id] (owner): the organisation's
// audit log, newest first, audit.PageSize entries at a time; next_before
// asks for the following page (absent on the last).
func (h *handler) auditLog(c *gin.Context) {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	if h.Audit == nil {
		c.JSON(http.StatusOK, gin.H{"entries": []audit.Row{}})
		return
	}
	rows, next, err := h.Audit.List(c.Request.Context(), principal(c).OrgID, max(before, 0))
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := gin.H{"entries": rows}
	if next > 0 {
		out["next_before"] = next
	}
	c.JSON(http.StatusOK, out)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func statusDetail(st *string) map[string]any {
	if st == nil {
		return nil
	}
	return map[string]any{"status": *st}
}
