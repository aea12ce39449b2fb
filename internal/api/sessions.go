package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

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
