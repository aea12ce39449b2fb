package web

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
)

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
// reason, sent to the applicant as typed (for every language).
func (s *server) declineAttendee(c *gin.Context) {
	var reason map[string]string
	if text := strings.TrimSpace(strings.ToValidUTF8(c.PostForm("reason"), "")); text != "" {
		reason = map[string]string{"": text}
	}
	s.attendeeAction(c, "admin.flash.declined", audit.RegistrationDecline, func(ctx context.Context, eventID, regID int64) error {
		_, err := s.Registrations.Decline(ctx, eventID, regID, reason)
		if apperr.Is(err, apperr.Invalid) {
			return apperr.New(apperr.Conflict, "err.approval.reason")
		}
		return err
	})
}
