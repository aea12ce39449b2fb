package web

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// sessionView is a session of an event as the pages show it (issue 18):
// on the event page and its form, and on the registration page with the
// registration's standing in it.
type sessionView struct {
	Key       string
	Title     string
	TitleLang string
	When      string
	Room      string
	Places    string // places left, "full", or "" when unlimited
	Cancelled bool
	// Full is true when no place is left; NoWaitlist when then it cannot
	// be chosen at all.
	Full, NoWaitlist bool
	// Checked marks a choice the form posted.
	Checked bool
	// Status and Position are the registration's standing in it.
	Status   string
	Position int
}

// sessionViews are e's sessions in its order; checked are the keys the
// form posted.
func sessionViews(l *i18n.Localizer, e *event.Event, checked []string) []sessionView {
	out := make([]sessionView, 0, len(e.Sessions))
	for i := range e.Sessions {
		out = append(out, oneSessionView(l, e, &e.Sessions[i], slices.Contains(checked, e.Sessions[i].Key)))
	}
	return out
}

func oneSessionView(l *i18n.Localizer, e *event.Event, s *event.Session, checked bool) sessionView {
	v := sessionView{Key: s.Key, Room: s.Room, Checked: checked, Cancelled: s.Status == event.SessionCancelled,
		When: l.Span(s.StartsAt, s.EndsAt, false, e.Location())}
	var lang string
	v.Title, lang = s.Title.In(l.Lang, e.DefaultLang)
	if lang != l.Lang {
		v.TitleLang = lang
	}
	if left := s.SeatsLeft(); left != nil {
		v.Full = *left == 0
		v.NoWaitlist = v.Full && !s.Waitlist
		switch {
		case v.NoWaitlist:
			v.Places = l.T("state.full", nil)
		case v.Full:
			v.Places = l.T("state.waitlist", nil)
		default:
			v.Places = l.N("seats_left", *left, nil)
		}
	}
	return v
}

// choiceViews are the sessions r chose, in the event's order, with its
// standing in each.
func choiceViews(l *i18n.Localizer, e *event.Event, r *registration.Registration) []sessionView {
	var out []sessionView
	for _, c := range r.Sessions {
		s := e.Sessions.ByKey(c.Key)
		if s == nil {
			continue
		}
		v := oneSessionView(l, e, s, true)
		v.Status, v.Position = c.Status, c.WaitlistPosition
		out = append(out, v)
	}
	return out
}

// liveKeys are the keys of the sessions r chose and has not left.
func liveKeys(r *registration.Registration) []string {
	var out []string
	for _, c := range r.Sessions {
		if c.Status != registration.SessionCancelled {
			out = append(out, c.Key)
		}
	}
	return out
}

// offeredSessions are the change form's checkboxes: e's sessions, checked
// the keys chosen. A full session without a waitlist can be kept (its box
// stays enabled when ticked, else unticking the rest would drop it) but
// not newly chosen.
func offeredSessions(l *i18n.Localizer, e *event.Event, checked []string) []sessionView {
	out := sessionViews(l, e, checked)
	for i := range out {
		if out[i].Checked {
			out[i].NoWaitlist = false
		}
	}
	return out
}

// leaveSession gives up one session through the manage link and shows the
// registration again.
func (s *server) leaveSession(c *gin.Context) {
	r, err := s.Registrations.LeaveSession(c.Request.Context(), c.Param("token"), c.Param("key"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/r/"+r.ManageToken+"#sessions")
}

// doorSessions are the active sessions of the event slug as the door's
// picker offers them, and the one the request picked (?session=), "" when
// none or unknown.
func (s *server) doorSessions(c *gin.Context, slug string) ([]option, string, error) {
	e, err := s.Events.Get(c.Request.Context(), slug)
	if err != nil {
		return nil, "", err
	}
	l := localizer(c)
	picked := c.Query("session")
	var out []option
	found := false
	for i := range e.Sessions {
		ses := &e.Sessions[i]
		if ses.Status != event.SessionActive {
			continue
		}
		title, _ := ses.Title.In(l.Lang, e.DefaultLang)
		out = append(out, option{ses.Key, title + " · " + l.Span(ses.StartsAt, ses.EndsAt, false, e.Location())})
		found = found || ses.Key == picked
	}
	if !found {
		picked = ""
	}
	return out, picked, nil
}
