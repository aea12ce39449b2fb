package web

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
)

// reasonLangs are the languages of the reason for declining e's
// application made in lang, side by side as on the compose page: the
// event's default language first, then the others it is written in, and
// the applicant's own when it is none of them (the mail is in theirs).
func reasonLangs(e *event.Event, lang string) []string {
	out := []string{e.DefaultLang}
	for _, l := range config.Languages {
		if l != e.DefaultLang && (e.Title[l] != "" || l == lang) {
			out = append(out, l)
		}
	}
	return out
}

// approveAttendee is POST …/registrations/:id/approve (selection by
// approval, registration/approval.go): a full event is told on the list,
// as a refused move-up is.
func (s *server) approveAttendee(c *gin.Context) {
	s.attendeeAction(c, "admin.flash.approved", audit.RegistrationApprove, func(ctx context.Context, eventID, regID int64) error {
		_, err := s.Registrations.Approve(ctx, eventID, regID)
		if apperr.Is(err, apperr.Full) {
			return apperr.New(apperr.Conflict, "err.full")
		}
		return err
	})
}

// declineAttendee is POST …/registrations/:id/decline with an optional
// reason per language (reason_de, reason_en, …: the mail in the
// applicant's language uses theirs, else the event's default language's)
// or one for every language (reason).
func (s *server) declineAttendee(c *gin.Context) {
	var reason map[string]string
	add := func(lang, field string) {
		if text := strings.TrimSpace(strings.ToValidUTF8(c.PostForm(field), "")); text != "" {
			if reason == nil {
				reason = map[string]string{}
			}
			reason[lang] = strings.ReplaceAll(text, "\r\n", "\n")
		}
	}
	add("", "reason")
	for _, l := range config.Languages {
		add(l, "reason_"+l)
	}
	s.attendeeAction(c, "admin.flash.declined", audit.RegistrationDecline, func(ctx context.Context, eventID, regID int64) error {
		_, err := s.Registrations.Decline(ctx, eventID, regID, reason)
		if apperr.Is(err, apperr.Invalid) {
			return apperr.New(apperr.Conflict, "err.approval.reason")
		}
		return err
	})
}
