package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

func asMaxBytes(err error, target **http.MaxBytesError) bool { return errors.As(err, target) }

type registrationPage struct {
	Registration *registration.Registration
	Event        eventView
	Calendar     personalFeedView
	// Answers answer the event's questions, in their order.
	Answers []answerView
	// RetentionDays says how long the data is kept (RETENTION_DAYS).
	RetentionDays int
	// Attended offers the certificate of attendance: a ticket was checked in.
	Attended bool
	// The change form (registration_change.go): offered while CanChange,
	// filled with Form and Questions; Errors, ErrorList and Problem after a
	// refused change, Changed after a saved one.
	CanChange bool
	Form      changeForm
	Questions []questionView
	Errors    map[string]string
	ErrorList []fieldError
	Problem   string
	Changed   bool
	// Sessions are the sessions it chose (sessions.go); Offered are the
	// change form's checkboxes.
	Sessions []sessionView
	Offered  []sessionView
}

// SessionChoices are the checkboxes of the change form (the sessions_choices
// template, shared with the sign-up form).
func (p registrationPage) SessionChoices() []sessionView { return p.Offered }

// registrationPage is the participant's own page behind the manage token:
// status, waitlist position, tickets, cancel.
func (s *server) registrationPage(c *gin.Context) {
	p, _, err := s.registrationPageByToken(c, c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Referrer-Policy", "no-referrer")
	title := "title.registration"
	if st := p.Registration.Status; st == registration.Applied || st == registration.Declined {
		title = "title.application"
	}
	s.render(c, http.StatusOK, "registration", localizer(c).T(title, nil), p)
}

// registrationPageByToken reads the registration behind a manage token and
// its event and makes the page's data (the event too, for the change form).
func (s *server) registrationPageByToken(c *gin.Context, token string) (registrationPage, *event.Event, error) {
	r, err := s.Registrations.ByToken(c.Request.Context(), token)
	if err != nil {
		return registrationPage{}, nil, err
	}
	e, err := s.Events.Get(c.Request.Context(), r.EventSlug)
	if err != nil {
		return registrationPage{}, nil, err
	}
	p, err := s.registrationPageData(c, r, e)
	return p, e, err
}

// cancelRegistration cancels through the manage link and shows the result.
func (s *server) cancelRegistration(c *gin.Context) {
	r, err := s.Registrations.Cancel(c.Request.Context(), c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/r/"+r.ManageToken)
}

type ticketPage struct {
	Event       eventView
	Name        string
	Code        string
	Seat, Total int
	Valid       bool
	Status      string
	// CheckIn offers door staff of the event's organisation a check-in
	// button (checkin.go), and shows them the answers to door questions.
	CheckIn     bool
	DoorAnswers []answerView
}

// ticketPage is what a phone camera opens from the QR code.
func (s *server) ticketPage(c *gin.Context) {
	r, t, err := s.Registrations.ByTicket(c.Request.Context(), c.Param("code"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	e, err := s.Events.Get(c.Request.Context(), r.EventSlug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	status := r.Status
	if e.Status == event.Cancelled {
		status = registration.Cancelled
	}
	p := ticketPage{
		Event: newEventView(l, e, time.Now()), Name: r.Name, Code: t.Code,
		Seat: t.Seat, Total: r.PartySize, Valid: status == registration.Confirmed, Status: status,
		CheckIn: s.mayCheckIn(c, e.OrgSlug),
	}
	if p.CheckIn {
		p.DoorAnswers = doorAnswerViews(l, e, r)
	}
	c.Header("Referrer-Policy", "no-referrer")
	s.render(c, http.StatusOK, "ticket", l.T("title.ticket", nil), p)
}

// ticketQR serves the QR code of a ticket as SVG; it carries BASE_URL/t/{code}.
func (s *server) ticketQR(c *gin.Context) {
	_, t, err := s.Registrations.ByTicket(c.Request.Context(), c.Param("code"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	svg, err := qrSVG(s.Config.BaseURL + "/t/" + t.Code)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "private, max-age=86400")
	c.Data(http.StatusOK, "image/svg+xml", svg)
}

// attended reports whether a ticket of r was checked in: then it has a
// certificate of attendance (paper.go).
func attended(r *registration.Registration) bool {
	for _, t := range r.Tickets {
		if t.CheckedInAt != nil {
			return true
		}
	}
	return false
}
