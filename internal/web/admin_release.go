package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/registration"
)

// Releasing no-shows from the event page (docs/organisers.md, "Walk-ins
// and no-shows"): the event page asks for the minutes after the start, a
// confirmation page says how many confirmed registrations have no ticket
// checked in, and only its POST gives their places away, through the same
// service call and with the same audit entry as the API's
// POST /api/v1/orgs/{org}/events/{slug}/release-no-shows.

type releasePage struct {
	adminFrame
	Event            *event.Event
	Title, TitleLang string
	// Minutes is as typed; Error is its message when it is no number of
	// minutes the release accepts.
	Minutes string
	Error   string
	// Problem is why nothing can be released now (too early, cancelled).
	Problem string
	NoShows *registration.NoShows
	From    string
	Base    string
}

// releaseMinutes reads after_minutes: nil when empty, -1 (out of range, so
// refused by the service's rule) when it is no number.
func releaseMinutes(v string) *int {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		n = -1
	}
	return &n
}

// releaseNoShowsConfirm is GET …/events/:slug/release-no-shows?after_minutes=N:
// the confirmation step; it changes nothing.
func (s *server) releaseNoShowsConfirm(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderRelease(c, e, c.Query("after_minutes"), nil)
}

// releaseNoShows is POST …/events/:slug/release-no-shows (after_minutes,
// CSRF token): the release, then back to the event page with a message; a
// refusal shows the confirmation page again with the reason.
func (s *server) releaseNoShows(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	minutes := c.PostForm("after_minutes")
	after := releaseMinutes(minutes)
	var details map[string]any
	if after != nil {
		details = map[string]any{"after_minutes": *after}
	}
	err = s.audited(c, audit.Entry{Action: audit.RegistrationsReleaseNoShows, Target: e.Slug, Details: details},
		func(ctx context.Context) error {
			_, err := s.Registrations.ReleaseNoShows(ctx, e.ID, after)
			return err
		})
	if err == nil {
		s.flash(c, "admin.release.done")
		c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+e.Slug)
		return
	}
	s.renderRelease(c, e, minutes, err)
}

// renderRelease shows the confirmation page for minutes, or the reason of
// fail (a refused release).
func (s *server) renderRelease(c *gin.Context, e *event.Event, minutes string, fail error) {
	l := localizer(c)
	p := releasePage{adminFrame: frame(c, "events"), Event: e, Minutes: strings.TrimSpace(minutes),
		Base: s.orgPath(c) + "/events/" + e.Slug}
	var lang string
	p.Title, lang = e.Title.In(l.Lang, e.DefaultLang)
	if lang != l.Lang {
		p.TitleLang = lang
	}
	status := http.StatusOK
	refuse := func(err error) bool {
		ae := apperr.From(err)
		switch {
		case ae.Code == apperr.Internal || ae.Code == apperr.NotFound || ae.Code == apperr.Unavailable:
			_ = c.Error(err)
			return false
		case len(ae.Fields) > 0:
			for _, m := range ae.Fields {
				p.Error = l.T(m.ID, m.Data)
			}
		default:
			p.Problem = l.T(ae.Msg.ID, ae.Msg.Data)
		}
		status = httpcode.Of(ae)
		return true
	}
	ns, err := s.Registrations.NoShowsOf(c.Request.Context(), e, releaseMinutes(minutes))
	switch {
	case err != nil:
		if !refuse(err) {
			return
		}
	case e.Status != event.Published:
		p.Problem, status = l.T("err.closed_cancelled", nil), http.StatusConflict
	case ns.TooEarly:
		p.Problem, status = l.T("err.release_too_early", map[string]any{"Time": ns.From.In(e.Location()).Format("02.01.2006 15:04")}), http.StatusConflict
	default:
		p.NoShows, p.From = ns, l.DateTime(ns.From, e.Location())
	}
	if fail != nil {
		p.NoShows = nil
		if !refuse(fail) {
			return
		}
	}
	s.render(c, status, "admin_release", l.T("admin.release.confirm_title", nil)+" · "+p.Title, p)
}
