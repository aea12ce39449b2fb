package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// sessionJSON is a session as the public detail shows it (issue 18);
// times are in the event's zone like the event's own.
type sessionJSON struct {
	Key            string      `json:"key"`
	Title          event.Texts `json:"title"`
	TitleText      *string     `json:"title_text,omitempty"`
	Description    event.Texts `json:"description"`
	StartsAt       time.Time   `json:"starts_at"`
	EndsAt         time.Time   `json:"ends_at"`
	Room           string      `json:"room"`
	Capacity       *int        `json:"capacity"`
	SeatsLeft      *int        `json:"seats_left"`
	Waitlist       bool        `json:"waitlist"`
	WaitlistLength int         `json:"waitlist_length"`
	Status         string      `json:"status"`
}

// staffSessionJSON adds what the organisers count.
type staffSessionJSON struct {
	sessionJSON
	SeatsConfirmed int `json:"seats_confirmed"`
	// Confirmed and Waitlisted count registrations, not places.
	Confirmed  int `json:"confirmed"`
	Waitlisted int `json:"waitlisted"`
}

func sessionsJSON(e *event.Event, lang string) []sessionJSON {
	loc := e.Location()
	out := make([]sessionJSON, len(e.Sessions))
	for i := range e.Sessions {
		s := &e.Sessions[i]
		out[i] = sessionJSON{
			Key: s.Key, Title: orEmpty(s.Title), Description: orEmpty(s.Description),
			StartsAt: s.StartsAt.In(loc), EndsAt: s.EndsAt.In(loc), Room: s.Room,
			Capacity: s.Capacity, SeatsLeft: s.SeatsLeft(), Waitlist: s.Waitlist,
			WaitlistLength: s.WaitlistLength, Status: s.Status,
		}
		if lang != "" {
			t, _ := s.Title.In(lang, e.DefaultLang)
			out[i].TitleText = &t
		}
	}
	return out
}

func staffSessionsJSON(e *event.Event, lang string) []staffSessionJSON {
	pub := sessionsJSON(e, lang)
	out := make([]staffSessionJSON, len(pub))
	for i := range pub {
		s := &e.Sessions[i]
		out[i] = staffSessionJSON{sessionJSON: pub[i], SeatsConfirmed: s.SeatsConfirmed, Confirmed: s.Confirmed, Waitlisted: s.WaitlistLength}
	}
	return out
}

// choiceJSON is a registration's choice of a session: confirmed (holds
// places), waitlisted (on the session's waitlist, with its position) or
// requested (the registration itself holds no places yet; decided when it
// is confirmed).
type choiceJSON struct {
	Key              string `json:"key"`
	Status           string `json:"status"`
	WaitlistPosition *int   `json:"waitlist_position"`
}

func choicesJSON(r *registration.Registration) []choiceJSON {
	out := make([]choiceJSON, 0, len(r.Sessions))
	for _, c := range r.Sessions {
		j := choiceJSON{Key: c.Key, Status: c.Status}
		if c.Status == registration.SessionWaitlisted {
			p := c.WaitlistPosition
			j.WaitlistPosition = &p
		}
		out = append(out, j)
	}
	return out
}

// leaveSession is POST /registrations/:token/sessions/:key/cancel: the
// participant gives up one session; leaving twice answers the same.
func (h *handler) leaveSession(c *gin.Context) {
	r, err := h.Registrations.LeaveSession(c.Request.Context(), c.Param("token"), c.Param("key"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}

// sessionRegistrationJSON is an entry of a session's own list: the entry
// of the event's list, and its standing in the session.
type sessionRegistrationJSON struct {
	staffRegistrationJSON
	SessionStatus           string `json:"session_status"`
	SessionWaitlistPosition *int   `json:"session_waitlist_position"`
}

// sessionList loads the event in :slug of the caller's organisation, the
// session :key, and the registrations that chose it, in the event list's
// order.
func (h *handler) sessionList(c *gin.Context) (*event.Event, []*registration.Registration, error) {
	e, rs, err := h.orgRegistrations(c)
	if err != nil {
		return nil, nil, err
	}
	key := c.Param("key")
	if e.Sessions.ByKey(key) == nil {
		return nil, nil, apperr.New(apperr.NotFound, "err.session_unknown", "Key", key)
	}
	var out []*registration.Registration
	for _, r := range rs {
		if r.Choice(key) != nil {
			out = append(out, r)
		}
	}
	return e, out, nil
}

// sessionRegistrations is GET /orgs/:org/events/:slug/sessions/:key/registrations.
func (h *handler) sessionRegistrations(c *gin.Context) {
	e, rs, err := h.sessionList(c)
	if err == nil {
		err = h.auditExport(c, e.Slug+"/"+c.Param("key"), "json", len(rs))
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
	out := make([]sessionRegistrationJSON, len(rs))
	for i, r := range rs {
		ch := r.Choice(c.Param("key"))
		out[i] = sessionRegistrationJSON{staffRegistrationJSON: staffRegistrationOf(r, mails[r.ID]), SessionStatus: ch.Status}
		if ch.Status == registration.SessionWaitlisted {
			p := ch.WaitlistPosition
			out[i].SessionWaitlistPosition = &p
		}
	}
	c.JSON(http.StatusOK, gin.H{"registrations": out})
}

// sessionRegistrationsCSV is …/sessions/:key/registrations.csv: the
// event's columns, then session_status and session_waitlist_position.
func (h *handler) sessionRegistrationsCSV(c *gin.Context) {
	e, rs, err := h.sessionList(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	t, err := h.Registrations.SessionTable(c.Request.Context(), e, rs, c.Param("key"))
	if err == nil {
		err = h.auditExport(c, e.Slug+"/"+c.Param("key"), "csv", len(rs))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	var buf bytes.Buffer
	_ = registration.WriteCSV(&buf, t, ',') // into a bytes.Buffer, which cannot fail
	c.Header("Content-Disposition", `attachment; filename="`+e.Slug+`-`+c.Param("key")+`-registrations.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
