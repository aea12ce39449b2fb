package mail

import (
	"slices"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// SessionData is a session as a mail shows it (issue 18): what, when, where
// and, for the registration's own choices, how it stands.
type SessionData struct {
	Title  string
	When   string
	Room   string
	Status string // in the mail's language; "" in the sessions a mail is about
}

// sessionStatusText is the catalogue's word for each status of a choice.
var sessionStatusText = map[string]string{
	registration.SessionConfirmed:  "mail.session.confirmed",
	registration.SessionWaitlisted: "mail.session.waitlisted",
	registration.SessionRequested:  "mail.session.requested",
}

// sessionsData fills d's sessions: the registration's choices, and the
// sessions the mail is about (about: keys, from the payload).
func sessionsData(l *i18n.Localizer, d *Data, e *event.Event, r *registration.Registration, about []string) {
	one := func(key string) (SessionData, bool) {
		s := e.Sessions.ByKey(key)
		if s == nil {
			return SessionData{}, false
		}
		title, _ := s.Title.In(l.Lang, e.DefaultLang)
		return SessionData{Title: title, When: l.Span(s.StartsAt, s.EndsAt, false, e.Location()), Room: s.Room}, true
	}
	for _, c := range r.Sessions {
		sd, ok := one(c.Key)
		if !ok {
			continue
		}
		if id := sessionStatusText[c.Status]; id != "" {
			sd.Status = l.T(id, map[string]any{"Position": c.WaitlistPosition})
		}
		if s := e.Sessions.ByKey(c.Key); s.Status == event.SessionCancelled {
			sd.Status = l.T("mail.session.cancelled", nil)
		}
		d.Sessions = append(d.Sessions, sd)
	}
	for _, k := range slices.Compact(slices.Clone(about)) {
		if sd, ok := one(k); ok {
			d.About = append(d.About, sd)
		}
	}
}
