package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/registration"
)

// "I can't come" in one tap (issue 19): the reminder mail the day before
// links to /r/{manage token}/cant-come. The manage token is the secret
// (the table keeps only its hash, tokens.go), so a copy of the database
// yields no working link. GET only shows, because mail scanners open
// links; POST cancels through the ordinary cancellation, which moves the
// waitlist up in the same transaction.

type cantComePage struct {
	Registration *registration.Registration
	Event        eventView
	// Live: there is a place to give back (else the page says it is
	// cancelled already).
	Live bool
	Done bool
}

// cantComePage is GET /r/:token/cant-come.
func (s *server) cantComePage(c *gin.Context) {
	r, err := s.Registrations.ByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderCantCome(c, r, c.Query("done") != "")
}

// cantCome is POST /r/:token/cant-come.
func (s *server) cantCome(c *gin.Context) {
	r, err := s.Registrations.Cancel(c.Request.Context(), c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/r/"+r.ManageToken+"/cant-come?done=1")
}

func (s *server) renderCantCome(c *gin.Context, r *registration.Registration, done bool) {
	e, err := s.Events.Get(c.Request.Context(), r.EventSlug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	live := r.Status == registration.Confirmed || r.Status == registration.Waitlisted ||
		r.Status == registration.Pending || r.Status == registration.Applied
	p := cantComePage{Registration: r, Event: newEventView(l, e, s.Registrations.Now()), Live: live,
		Done: done && r.Status == registration.Cancelled}
	c.Header("Referrer-Policy", "no-referrer")
	s.render(c, http.StatusOK, "cant_come", l.T("cantcome.title", nil), p)
}
