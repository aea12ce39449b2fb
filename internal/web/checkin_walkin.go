package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/registration"
)

// walkInForm is the door page's walk-in form: what was typed, the message
// of each bad field, and a problem that is no field's (full, closed).
type walkInForm struct {
	Name, Email, PartySize, Lang string
	Errors                       map[string]string
	Problem                      string
}

// checkinWalkIn is POST /checkin/events/:slug/walkin (form, CSRF token): a
// party let in at the door without a sign-up, by the same service as the
// API's POST /api/v1/checkin/walkin. Success returns to the door page with
// a message; a refusal renders it again with the form as typed.
func (s *server) checkinWalkIn(c *gin.Context) {
	ev := checkinEvent(c)
	p := principal(c)
	l := localizer(c)
	form := walkInForm{
		Name: c.PostForm("name"), Email: c.PostForm("email"),
		PartySize: strings.TrimSpace(c.PostForm("party_size")), Lang: c.PostForm("lang"),
	}
	size, _ := strconv.Atoi(form.PartySize)
	in := registration.WalkInInput{Event: ev.Slug, Name: form.Name, Email: form.Email, PartySize: size, Lang: form.Lang}
	e := audit.Entry{OrgID: ev.OrgID, UserID: p.UserID, TokenID: p.TokenID, Action: audit.CheckinWalkIn, Target: ev.Slug,
		Details: map[string]any{"party_size": size, "with_email": strings.TrimSpace(form.Email) != ""}}
	err := s.Audit.Do(c.Request.Context(), e, func(ctx context.Context) error {
		_, err := s.Registrations.WalkIn(ctx, ev.ID, in, registration.Staff{UserID: p.UserID, TokenID: p.TokenID})
		return err
	})
	if err == nil {
		s.flash(c, "checkin.walkin.done")
		c.Redirect(http.StatusSeeOther, "/checkin/events/"+ev.Slug)
		return
	}
	ae := apperr.From(err)
	if ae.Code == apperr.Internal || ae.Code == apperr.NotFound {
		_ = c.Error(err)
		return
	}
	if len(ae.Fields) > 0 {
		form.Errors = translateFields(l, ae)
	} else {
		form.Problem = l.T(ae.Msg.ID, ae.Msg.Data)
	}
	s.renderCheckinPage(c, httpcode.Of(ae), form)
}
