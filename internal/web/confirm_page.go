package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// pendingNotice answers a sign-up that waits for its confirmation link: the
// event page again, saying where the link went and how long the seats are
// held. e is the event as the sign-up found it.
func (s *server) pendingNotice(c *gin.Context, e *event.Event) {
	l := localizer(c)
	id := "access.pending_notice"
	if e.Access == event.AccessMembers {
		// Said alike to members and others (docs/access.md).
		id = "access.check_mail_notice"
	}
	p := eventPage{
		Event: newEventView(l, e, time.Now()), Form: signupForm{PartySize: "1"},
		RetentionDays: s.Config.RetentionDays,
		Notice:        l.T(id, map[string]any{"Hours": s.holdHours()}),
	}
	if isEmbed(c) {
		if err := s.embedFormFields(c, &p); err != nil {
			_ = c.Error(err)
			return
		}
	}
	s.render(c, http.StatusAccepted, "event", p.Event.Title, p)
}

func (s *server) holdHours() int {
	if s.Config.HoldHours > 0 {
		return s.Config.HoldHours
	}
	return int(registration.DefaultHold / time.Hour)
}

type confirmPage struct {
	Registration *registration.Registration
	Event        eventView
	Until        string
	Token        string
}

// confirmPage shows what a confirmation link confirms, with a button. It
// changes nothing: mail scanners and link previews open links.
func (s *server) confirmPage(c *gin.Context) {
	r, err := s.Registrations.ByConfirmToken(c.Request.Context(), c.Param("token"))
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
	p := confirmPage{Registration: r, Event: newEventView(l, e, time.Now()), Token: c.Param("token")}
	if r.HoldExpiresAt != nil {
		p.Until = l.DateTime(*r.HoldExpiresAt, e.Location())
	}
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, "confirm", l.T("access.confirm_title", nil), p)
}

// confirmRegistration follows the link (POST with the CSRF token) and shows
// the registration with its tickets.
func (s *server) confirmRegistration(c *gin.Context) {
	r, err := s.Registrations.Confirm(c.Request.Context(), c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/r/"+r.ManageToken)
}
