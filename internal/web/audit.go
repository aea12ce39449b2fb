package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/event"
)

// audited runs act as an audited action of the request's principal: the
// entry is written in act's transaction, or right after it when act ran
// none. A failed act leaves no entry.
func (s *server) audited(c *gin.Context, e audit.Entry, act func(ctx context.Context) error) error {
	p := principal(c)
	e.OrgID, e.UserID, e.TokenID = p.OrgID, p.UserID, p.TokenID
	return s.Audit.Do(c.Request.Context(), e, act)
}

type auditPage struct {
	adminFrame
	Entries []auditRow
	Next    int64
	First   bool
}

// auditRow is an entry as the page shows it.
type auditRow struct {
	audit.Row
	When, ISO, Label, Details string
}

// auditZone is the time zone of the page: the network's.
var auditZone = event.Zone(event.DefaultTimezone)

func toAuditRows(rows []audit.Row) []auditRow {
	out := make([]auditRow, len(rows))
	for i, r := range rows {
		out[i] = auditRow{Row: r, When: r.At.In(auditZone).Format("2006-01-02 15:04:05"), ISO: r.At.UTC().Format(time.RFC3339),
			Label: audit.Label(r.Action)}
		var d map[string]any
		dec := json.NewDecoder(bytes.NewReader(r.Details))
		dec.UseNumber()
		if dec.Decode(&d) == nil && len(d) > 0 {
			keys := make([]string, 0, len(d))
			for k := range d {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for j, k := range keys {
				parts[j] = fmt.Sprintf("%s: %v", k, d[k])
			}
			out[i].Details = strings.Join(parts, ", ")
		}
	}
	return out
}

// auditPage is GET /admin/orgs/:org/audit[?before=id]: the organisation's
// audit log for its owners, newest first, a page at a time.
func (s *server) auditLog(c *gin.Context) {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	rows, next, err := s.Audit.List(c.Request.Context(), principal(c).OrgID, max(before, 0))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, "admin_audit", localizer(c).T("admin.audit.title", nil),
		auditPage{adminFrame: frame(c, "audit"), Entries: toAuditRows(rows), Next: next, First: before <= 0})
}

// auditExport records that the request's principal took a copy of an
// attendee list out of Treffpunkt.
func (s *server) auditExport(c *gin.Context, slug, format string, rows int) error {
	return s.audited(c, audit.Entry{Action: audit.RegistrationsExport, Target: slug,
		Details: map[string]any{"format": format, "rows": rows}}, func(context.Context) error { return nil })
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
