package auth

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Kinds of email to staff.
const (
	// MailPasswordReset carries a one-time link to set a new password.
	MailPasswordReset = "password_reset"
	// MailStaffInvite carries a one-time link with which a new account sets
	// its first password.
	MailStaffInvite = "staff_invite"
	// MailStaffAdded tells an existing account that it got a role; URL is
	// the login page.
	MailStaffAdded = "staff_added"
)

// StaffMail is one email to a staff member.
type StaffMail struct {
	Kind    string
	To      string
	Lang    string
	URL     string
	Expires time.Time // of the link; zero for MailStaffAdded
	OrgName string    // invitations only
	Role    string    // invitations only
}

// StaffMailer writes staff emails into the outbox in the transaction that
// created their link, so that a link exists exactly when its mail does.
// It is the seam to the mail issue's outbox (docs/organisers.md); tests
// record the mails with it.
type StaffMailer interface {
	EnqueueStaff(ctx context.Context, tx *sqlx.Tx, m StaffMail) error
}

func (s *Service) sendStaffMail(ctx context.Context, tx *sqlx.Tx, m StaffMail) error {
	if s.mailer != nil {
		return s.mailer.EnqueueStaff(ctx, tx, m)
	}
	// The link is a credential: it is never logged.
	if s.log != nil {
		s.log.Warn("staff mail not sent: no mail outbox is wired", "kind", m.Kind)
	}
	return nil
}
