package api

import (
	"bytes"
	"net/http"
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
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// AwaitingConfirmation: the confirmation link was not followed yet, so
	// email is "" (docs/access.md).
	AwaitingConfirmation bool   `json:"awaiting_confirmation"`
	Lang                 string `json:"lang"`
	PartySize            int    `json:"party_size"`
	Status               string `json:"status"`
	// WalkIn: made at the door (POST /checkin/walkin).
	WalkIn           bool      `json:"walk_in"`
	WaitlistPosition *int      `json:"waitlist_position"`
	CreatedAt        time.Time `json:"created_at"`
	// ChangedAt is when the participant last changed it (PATCH
	// /registrations/{token}); null when never.
	ChangedAt *time.Time        `json:"changed_at"`
	Answers   map[string]any    `json:"answers"`
	Tickets   []staffTicketJSON `json:"tickets"`
	// Mail is every email to the registration, oldest first; MailState
	// sums it up (see mail_state.go).
	Mail      []mailJSON `json:"mail"`
	MailState string     `json:"mail_state"`
	// Sessions are the sessions it chose, with its standing in each.
	Sessions []choiceJSON `json:"sessions"`
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

// listRegistrations is GET /orgs/:org/events/:slug/registrations[?status=s].
func (h *handler) listRegistrations(c *gin.Context) {
	e, rs, err := h.orgRegistrations(c)
	if err == nil {
		rs, err = byStatus(rs, c.Query("status"))
	}
	if err == nil {
		err = h.auditExport(c, e.Slug, "json", len(rs))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	mails, err := h.Registrations.MailStates(c.Request.Context(), rs)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]staffRegistrationJSON, len(rs))
	for i, r := range rs {
		out[i] = staffRegistrationOf(r, mails[r.ID])
	}
	c.JSON(http.StatusOK, gin.H{"registrations": out})
}

func staffRegistrationOf(r *registration.Registration, mails []registration.MailState) staffRegistrationJSON {
	j := staffRegistrationJSON{
		ID: r.ID, Name: r.Name, Email: r.Email, AwaitingConfirmation: r.AddressUnconfirmed, Lang: r.Lang, PartySize: r.PartySize,
		Status: r.Status, WalkIn: r.WalkIn, WaitlistPosition: waitlistPosition(r), CreatedAt: r.CreatedAt.UTC(),
		Answers: answersOf(r), Tickets: make([]staffTicketJSON, len(r.Tickets)), Sessions: choicesJSON(r),
		ChangedAt: utcPtr(r.ChangedAt),
	}
	for k, t := range r.Tickets {
		j.Tickets[k] = staffTicketJSON{Code: t.Code, CheckedInAt: utcPtr(t.CheckedInAt)}
	}
	j.Mail, j.MailState = mailOf(mails)
	return j
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// registrationsCSV is GET /orgs/:org/events/:slug/registrations.csv: the
// list for spreadsheets, written by the same code as the organisers' area
// exports (registration.WriteCSV: UTF-8 with a byte order mark, RFC 4180
// quoting, CRLF, formula injection defused).
func (h *handler) registrationsCSV(c *gin.Context) {
	e, rs, err := h.orgRegistrations(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	t, err := h.Registrations.ExportTable(c.Request.Context(), e, rs)
	if err == nil {
		err = h.auditExport(c, e.Slug, "csv", len(rs))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	var buf bytes.Buffer
	_ = registration.WriteCSV(&buf, t, ',') // into a bytes.Buffer, which cannot fail
	c.Header("Content-Disposition", `attachment; filename="`+e.Slug+`-registrations.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
