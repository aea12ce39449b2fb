package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

type staffTicketJSON struct {
	Code        string     `json:"code"`
	CheckedInAt *time.Time `json:"checked_in_at"`
}

// staffRegistrationJSON is a registration as the organiser sees it.
type staffRegistrationJSON struct {
	ID               int64             `json:"id"`
	Name             string            `json:"name"`
	Email            string            `json:"email"`
	Lang             string            `json:"lang"`
	PartySize        int               `json:"party_size"`
	Status           string            `json:"status"`
	WaitlistPosition *int              `json:"waitlist_position"`
	CreatedAt        time.Time         `json:"created_at"`
	Tickets          []staffTicketJSON `json:"tickets"`
}

// orgRegistrations loads the event in :slug of the caller's organisation
// and its registrations.
func (h *handler) orgRegistrations(c *gin.Context) (*event.Event, []*registration.Registration, error) {
	ctx := c.Request.Context()
	e, err := h.Events.GetForOrg(ctx, principal(c).OrgID, c.Param("slug"))
	if err != nil {
		return nil, nil, err
	}
	rs, err := h.Registrations.ListForEvent(ctx, e.ID)
	return e, rs, err
}

// listRegistrations is GET /orgs/:org/events/:slug/registrations.
func (h *handler) listRegistrations(c *gin.Context) {
	_, rs, err := h.orgRegistrations(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]staffRegistrationJSON, len(rs))
	for i, r := range rs {
		j := staffRegistrationJSON{
			ID: r.ID, Name: r.Name, Email: r.Email, Lang: r.Lang, PartySize: r.PartySize,
			Status: r.Status, WaitlistPosition: waitlistPosition(r), CreatedAt: r.CreatedAt.UTC(),
			Tickets: make([]staffTicketJSON, len(r.Tickets)),
		}
		for k, t := range r.Tickets {
			j.Tickets[k] = staffTicketJSON{Code: t.Code, CheckedInAt: utcPtr(t.CheckedInAt)}
		}
		out[i] = j
	}
	c.JSON(http.StatusOK, gin.H{"registrations": out})
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// csvHeader names the columns of the attendee export.
var csvHeader = []string{"id", "name", "email", "lang", "party_size", "status", "waitlist_position", "created_at", "ticket_codes", "checked_in"}

// registrationsCSV is GET /orgs/:org/events/:slug/registrations.csv: the
// list for spreadsheets. UTF-8 with a byte order mark, or Excel reads
// umlauts and Arabic as Latin-1; RFC 4180 quoting and CRLF; checked_in is
// the number of the registration's tickets checked in.
func (h *handler) registrationsCSV(c *gin.Context) {
	e, rs, err := h.orgRegistrations(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(csvHeader)
	loc := e.Location()
	for _, r := range rs {
		codes := make([]string, len(r.Tickets))
		checkedIn := 0
		for i, t := range r.Tickets {
			codes[i] = t.Code
			if t.CheckedInAt != nil {
				checkedIn++
			}
		}
		pos := ""
		if p := waitlistPosition(r); p != nil {
			pos = strconv.Itoa(*p)
		}
		_ = w.Write(safeCells(
			strconv.FormatInt(r.ID, 10), r.Name, r.Email, r.Lang, strconv.Itoa(r.PartySize),
			r.Status, pos, r.CreatedAt.In(loc).Format(time.RFC3339),
			strings.Join(codes, " "), strconv.Itoa(checkedIn),
		))
	}
	w.Flush() // into a bytes.Buffer, which cannot fail
	c.Header("Content-Disposition", `attachment; filename="`+e.Slug+`-registrations.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// safeCells defuses CSV formula injection: a spreadsheet runs a cell that
// starts with = + - @ (or a tab or CR before one) as a formula, so such a
// cell gets a leading apostrophe and stays text.
func safeCells(cells ...string) []string {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			cells[i] = "'" + s
		}
	}
	return cells
}
