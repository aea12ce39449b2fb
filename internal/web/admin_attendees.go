package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/registration"
)

type attendeeRow struct {
	*registration.Registration
	CheckedIn int
	Created   string
	// Changed is when the participant last changed the registration,
	// "" when never.
	Changed string
	Live    bool
	// Mail is the latest email to the registration, if any, and MailSent
	// when it went out.
	Mail     *registration.MailState
	MailSent string
	// Answers has one text per question of the event, in order.
	Answers []answerView
	// Sessions says which sessions it chose and how it stands in each.
	Sessions string
	// ReasonLangs are the languages an application's decline form asks
	// a reason in (reasonLangs).
	ReasonLangs []string
}

type attendeesPage struct {
	adminFrame
	Event       *event.Event
	Title       string
	TitleLang   string // set when the title is not in the page's language
	When        string
	Query       string
	Status      string
	Statuses    []option
	Counts      registration.Counts
	All         int
	Rows        []attendeeRow
	Questions   []string // the questions' labels, one column each
	MailEnabled bool
	Problem     string
	// Session filters by a session's key; SessionCounts are the counts
	// per session (admin_sessions.go).
	Session       string
	SessionCounts []sessionCount
}

// attendeeFilter reads ?q= and ?status= (an unknown status shows all).
func attendeeFilter(c *gin.Context, form bool) registration.AttendeeFilter {
	get := c.Query
	if form {
		get = c.PostForm
	}
	f := registration.AttendeeFilter{Query: strings.ToValidUTF8(strings.TrimSpace(get("q")), ""), Status: get("status"),
		Session: strings.ToValidUTF8(strings.TrimSpace(get("session")), "")}
	if !slices.Contains(registration.Statuses, f.Status) {
		f.Status = ""
	}
	return f
}

func filterQuery(f registration.AttendeeFilter) string {
	v := url.Values{}
	if f.Query != "" {
		v.Set("q", f.Query)
	}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.Session != "" {
		v.Set("session", f.Session)
	}
	return v.Encode()
}

// attendees is GET /admin/orgs/:org/events/:slug/registrations.
func (s *server) attendees(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderAttendees(c, http.StatusOK, e, attendeeFilter(c, false), "")
}

func (s *server) renderAttendees(c *gin.Context, status int, e *event.Event, f registration.AttendeeFilter, problem string) {
	l := localizer(c)
	ctx := c.Request.Context()
	list, err := s.Registrations.Attendees(ctx, e.ID, f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	states, err := s.Registrations.MailStates(ctx, list.Registrations)
	if err != nil {
		_ = c.Error(err)
		return
	}
	title, tl := e.Title.In(l.Lang, e.DefaultLang)
	p := attendeesPage{
		adminFrame: frame(c, "events"), Event: e, Title: title, TitleLang: otherLang(l, tl),
		When:  l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
		Query: f.Query, Status: f.Status, Counts: list.Counts, All: list.All,
		MailEnabled: s.Registrations.MailEnabled(), Problem: problem,
		Session: f.Session, SessionCounts: sessionCounts(l, e),
	}
	for _, st := range registration.Statuses {
		p.Statuses = append(p.Statuses, option{st, l.T("reg.status."+st, nil)})
	}
	for _, q := range e.Questions {
		label, _ := q.Label.In(l.Lang, e.DefaultLang)
		p.Questions = append(p.Questions, label)
	}
	loc := e.Location()
	for _, r := range list.Registrations {
		row := attendeeRow{
			Registration: r, Created: r.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			Live: r.Status == registration.Confirmed || r.Status == registration.Waitlisted || r.Status == registration.Pending ||
				r.Status == registration.Applied,
			Answers: answerViews(l, e, r, true), Sessions: choicesText(l, r),
		}
		if r.ChangedAt != nil {
			row.Changed = r.ChangedAt.In(loc).Format("2006-01-02 15:04")
		}
		if r.Status == registration.Applied {
			row.ReasonLangs = reasonLangs(e, r.Lang)
		}
		for _, t := range r.Tickets {
			if t.CheckedInAt != nil {
				row.CheckedIn++
			}
		}
		if ms := states[r.ID]; len(ms) > 0 {
			row.Mail = &ms[len(ms)-1]
			row.MailSent = mailAge(row.Mail.SentAt, loc)
		}
		p.Rows = append(p.Rows, row)
	}
	s.render(c, status, "admin_attendees", title, p)
}

// exportTable is the attendee list of the request's event and filter, as
// the exports write it.
func (s *server) exportTable(c *gin.Context) (*event.Event, *registration.Table, error) {
	e, err := s.orgEvent(c)
	if err != nil {
		return nil, nil, err
	}
	list, err := s.Registrations.Attendees(c.Request.Context(), e.ID, attendeeFilter(c, false))
	if err != nil {
		return nil, nil, err
	}
	t, err := s.Registrations.ExportTable(c.Request.Context(), e, list.Registrations)
	return e, t, err
}

// attendeesCSV is GET …/registrations.csv: the list as on the page, as CSV;
// ?sep=semicolon for German Excel.
func (s *server) attendeesCSV(c *gin.Context) {
	e, t, err := s.exportTable(c)
	if err == nil {
		err = s.auditExport(c, e.Slug, "csv", len(t.Rows))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	comma := ','
	if c.Query("sep") == "semicolon" {
		comma = ';'
	}
	var buf bytes.Buffer
	if err := registration.WriteCSV(&buf, t, comma); err != nil {
		_ = c.Error(apperr.Wrap(err, "write csv"))
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+e.Slug+`-registrations.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// attendeesXLSX is GET …/registrations.xlsx: the same list as a workbook.
func (s *server) attendeesXLSX(c *gin.Context) {
	e, t, err := s.exportTable(c)
	if err == nil {
		err = s.auditExport(c, e.Slug, "xlsx", len(t.Rows))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	var buf bytes.Buffer
	if err := registration.WriteXLSX(&buf, t, e.Slug); err != nil {
		_ = c.Error(apperr.Wrap(err, "write xlsx"))
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+e.Slug+`-registrations.xlsx"`)
	c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// attendeeAction runs an action on registration :id of the request's event
// and goes back to the list (with its filter); a rule that refuses it is
// shown on the list.
func (s *server) attendeeAction(c *gin.Context, done, action string, act func(ctx context.Context, eventID, regID int64) error) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		_ = c.Error(apperr.New(apperr.NotFound, "err.registration_not_found"))
		return
	}
	f := attendeeFilter(c, true)
	err = s.audited(c, audit.Entry{Action: action, Target: e.Slug, Details: map[string]any{"registration_id": id}},
		func(ctx context.Context) error { return act(ctx, e.ID, id) })
	if err != nil {
		switch ae := apperr.From(err); ae.Code {
		case apperr.Conflict, apperr.Unavailable:
			s.renderAttendees(c, httpcode.Of(ae), e, f, localizer(c).T(ae.Msg.ID, ae.Msg.Data))
		default:
			_ = c.Error(err)
		}
		return
	}
	s.flash(c, done)
	to := s.orgPath(c) + "/events/" + e.Slug + "/registrations"
	if q := filterQuery(f); q != "" {
		to += "?" + q
	}
	c.Redirect(http.StatusSeeOther, to)
}

// cancelAttendee is POST …/registrations/:id/cancel: seats freed and the
// waitlist moved up in the same transaction, as when people cancel
// themselves.
func (s *server) cancelAttendee(c *gin.Context) {
	s.attendeeAction(c, "admin.flash.attendee_cancelled", audit.RegistrationCancel, func(ctx context.Context, eventID, regID int64) error {
		_, err := s.Registrations.CancelByOrganiser(ctx, eventID, regID)
		return err
	})
}

// moveUpAttendee is POST …/registrations/:id/move-up.
func (s *server) moveUpAttendee(c *gin.Context) {
	s.attendeeAction(c, "admin.flash.moved_up", audit.RegistrationMoveUp, func(ctx context.Context, eventID, regID int64) error {
		_, err := s.Registrations.MoveUp(ctx, eventID, regID)
		return err
	})
}

// resendConfirmation is POST …/registrations/:id/resend.
func (s *server) resendConfirmation(c *gin.Context) {
	s.attendeeAction(c, "admin.flash.resent", audit.RegistrationResend, func(ctx context.Context, eventID, regID int64) error {
		return s.Registrations.ResendConfirmation(ctx, eventID, regID)
	})
}

// eraseAttendee is POST …/registrations/:id/erase: one person's data,
// erased on request (docs/access.md).
func (s *server) eraseAttendee(c *gin.Context) {
	s.attendeeAction(c, "access.erased", audit.RegistrationErase, func(ctx context.Context, eventID, regID int64) error {
		return s.Registrations.EraseOne(ctx, eventID, regID)
	})
}

// mailAge formats when a mail was sent, for the list.
func mailAge(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
