package registration

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
)

// Kinds of email a participant gets, one per reason.
const (
	MailConfirmed      = "confirmed"
	MailWaitlisted     = "waitlisted"
	MailPromoted       = "promoted"
	MailCancelled      = "cancelled"
	MailEventChanged   = "event_changed"
	MailEventCancelled = "event_cancelled"
	MailReminder       = "reminder"
	// MailConfirmEmail carries the confirmation link of a pending
	// registration; MailHoldExpired says that it was not followed in time.
	MailConfirmEmail = "confirm_email"
	MailHoldExpired  = "hold_expired"
	// MailRegisteredAgain tells the address of a live registration that
	// someone signed up with it again; MailNotMember tells the address a
	// non-member typed on a members-only event whom to ask.
	MailRegisteredAgain = "registered_again"
	MailNotMember       = "not_a_member"
	// MailSessionPromoted tells that a place in a session came free from
	// its waitlist; MailSessionCancelled that a chosen session was
	// cancelled. Registration.PromotedSessions names the sessions.
	MailSessionPromoted  = "session_promoted"
	MailSessionCancelled = "session_cancelled"
	// MailApplied acknowledges an application on an event with selection
	// by approval; MailDeclined tells that it was declined (approval.go).
	MailApplied  = "applied"
	MailDeclined = "declined"
)

// MailKinds lists every kind about a registration.
var MailKinds = []string{MailConfirmed, MailWaitlisted, MailPromoted, MailCancelled, MailEventChanged, MailEventCancelled, MailReminder, MailConfirmEmail, MailHoldExpired, MailRegisteredAgain, MailReleased, MailSessionPromoted, MailSessionCancelled, MailChanged, MailApplied, MailDeclined}

// Notice is one change that the participants of Registrations are told
// about by email.
type Notice struct {
	Kind  string
	Event *event.Event // as it is after the change
	// Before is the event before a change (MailEventChanged), else nil.
	Before        *event.Event
	Registrations []*Registration
	// NewTicketsFrom is, in a MailChanged notice, the first seat whose
	// ticket the change added (their QR codes are attached); 0 when it
	// added none.
	NewTicketsFrom int
	// Reason is an organiser's reason for declining (MailDeclined), per
	// language ("" key: the same for every language); nil when none.
	Reason map[string]string
}

// Mailer writes emails into the outbox and says what became of them.
// Package mail implements it; the interface exists because mail renders
// registrations, so registration cannot import mail.
type Mailer interface {
	// Enqueue writes the notice's emails in tx, the transaction of the
	// change: a change that rolls back sends nothing, and one that commits
	// is never without its emails.
	Enqueue(ctx context.Context, tx *sqlx.Tx, n Notice) error
	// States returns the emails of each registration, oldest first.
	States(ctx context.Context, registrationIDs []int64) (map[int64][]MailState, error)
	// EnqueueNotMember writes, in tx, a MailNotMember email to each of
	// strangers about the members-only event e.
	EnqueueNotMember(ctx context.Context, tx *sqlx.Tx, e *event.Event, strangers []Stranger) error
}

// Stranger is a sign-up for a members-only event that matched no member:
// there is no registration, only the address typed, which is told so.
type Stranger struct {
	Name, Email, Lang string
}

// AgainInterval is how often at most the address of a registration is told
// that someone signed up with it again.
const AgainInterval = time.Hour

// mailNotMembers tells each of strangers, at the address typed, that it is
// not on the member list and whom to ask.
func (s *Service) mailNotMembers(ctx context.Context, tx *sqlx.Tx, e *event.Event, strangers []Stranger) error {
	if s.mailer == nil || len(strangers) == 0 {
		return nil
	}
	for i := range strangers {
		if strangers[i].Lang == "" {
			strangers[i].Lang = e.DefaultLang
		}
	}
	return s.mailer.EnqueueNotMember(ctx, tx, e, strangers)
}

// mailAgain tells the addresses of the live registrations ids that someone
// signed up with them again, each at most once per AgainInterval, so that
// knowing an address never tells a stranger silently that it is
// registered (issue 16).
func (s *Service) mailAgain(ctx context.Context, tx *sqlx.Tx, e *event.Event, ids []int64) error {
	if s.mailer == nil || len(ids) == 0 {
		return nil
	}
	var rs []*Registration
	now := s.now()
	err := tx.SelectContext(ctx, &rs, `
WITH due AS (
    UPDATE registrations SET reminded_again_at = $2
    WHERE id = ANY($1) AND (reminded_again_at IS NULL OR reminded_again_at <= $2::timestamptz - $3 * interval '1 second')
    RETURNING id)`+selectRegistration+` WHERE r.id IN (SELECT id FROM due) ORDER BY r.id`,
		pq.Array(ids), now, AgainInterval.Seconds())
	if err != nil {
		return fmt.Errorf("registrations signed up again: %w", err)
	}
	if err := loadTickets(ctx, tx, rs); err != nil {
		return err
	}
	return s.mail(ctx, tx, Notice{Kind: MailRegisteredAgain, Event: e, Registrations: rs})
}

// MailState is what became of one email to a registration.
type MailState struct {
	RegistrationID int64      `db:"registration_id"`
	Kind           string     `db:"kind"`
	Status         string     `db:"status"` // queued, sending, sent, failed
	SentAt         *time.Time `db:"sent_at"`
	Error          string     `db:"last_error"`
}

func (s *Service) mail(ctx context.Context, tx *sqlx.Tx, n Notice) error {
	if s.mailer == nil || len(n.Registrations) == 0 {
		return nil
	}
	return s.mailer.Enqueue(ctx, tx, n)
}

// EventChanged tells the participants of an event that moved (time or
// venue) or was cancelled, in the transaction that changed it; it is
// event.Service's Changed hook. A cancellation goes to every live
// registration, a move to the confirmed and waitlisted ones. A new start
// time earns a new reminder.
func (s *Service) EventChanged(ctx context.Context, tx *sqlx.Tx, before, after *event.Event) error {
	kind, statuses := MailEventChanged, []string{Confirmed, Waitlisted}
	if after.Status == event.Cancelled {
		kind, statuses = MailEventCancelled, []string{Pending, Confirmed, Waitlisted, Applied}
	} else if !before.StartsAt.Equal(after.StartsAt) {
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET reminded_at = NULL WHERE event_id = $1 AND reminded_at IS NOT NULL`, after.ID); err != nil {
			return fmt.Errorf("reset reminders: %w", err)
		}
	}
	if s.mailer == nil {
		return nil
	}
	rs, err := withStatus(ctx, tx, after.ID, statuses)
	if err != nil {
		return err
	}
	return s.mail(ctx, tx, Notice{Kind: kind, Event: after, Before: before, Registrations: rs})
}

// ReminderLead is how long before an event starts its reminder goes out.
const ReminderLead = 24 * time.Hour

// Remind writes the reminders that are due, at most limit, in one
// transaction, and returns how many. A confirmed registration of a
// published event is reminded once, when the event starts within
// ReminderLead, unless it was confirmed within that lead itself (its
// confirmation is reminder enough). Rows another instance is reminding are
// skipped, never waited for.
func (s *Service) Remind(ctx context.Context, limit int) (int, error) {
	if s.mailer == nil {
		return 0, nil
	}
	n := 0
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// FOR NO KEY UPDATE, not FOR UPDATE: the outbox's foreign key takes
		// a key-share lock on these rows, which FOR UPDATE would block.
		var ids []int64
		err := tx.SelectContext(ctx, &ids, `
UPDATE registrations SET reminded_at = $1
WHERE id IN (
    SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE e.status = 'published' AND e.starts_at > $1::timestamptz AND e.starts_at <= $1::timestamptz + $2 * interval '1 second'
      AND r.status = 'confirmed' AND r.reminded_at IS NULL
      AND r.confirmed_at < e.starts_at - $2 * interval '1 second'
    ORDER BY e.starts_at, r.id
    LIMIT $3
    FOR NO KEY UPDATE OF r SKIP LOCKED)
RETURNING id`, s.now(), ReminderLead.Seconds(), limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		var rs []*Registration
		if err := tx.SelectContext(ctx, &rs, selectRegistration+` WHERE r.id = ANY($1) ORDER BY r.event_id, r.id`, pq.Array(ids)); err != nil {
			return fmt.Errorf("read reminded registrations: %w", err)
		}
		if err := loadTickets(ctx, tx, rs); err != nil {
			return err
		}
		for i := 0; i < len(rs); {
			j := i
			for j < len(rs) && rs[j].EventID == rs[i].EventID {
				j++
			}
			e, err := event.GetByID(ctx, tx, rs[i].EventID)
			if err != nil {
				return err
			}
			if err := s.mail(ctx, tx, Notice{Kind: MailReminder, Event: e, Registrations: rs[i:j]}); err != nil {
				return err
			}
			i = j
		}
		return nil
	})
	if err != nil {
		return 0, apperr.Wrap(err, "remind")
	}
	return n, nil
}

// MailStates returns the emails of each of the registrations, oldest first.
func (s *Service) MailStates(ctx context.Context, rs []*Registration) (map[int64][]MailState, error) {
	if s.mailer == nil || len(rs) == 0 {
		return map[int64][]MailState{}, nil
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	m, err := s.mailer.States(ctx, ids)
	return m, apperr.Wrap(err, "mail states")
}

// withStatus returns the event's registrations in the given statuses, with
// tickets, in sign-up order.
func withStatus(ctx context.Context, q sqlx.QueryerContext, eventID int64, statuses []string) ([]*Registration, error) {
	var rs []*Registration
	err := sqlx.SelectContext(ctx, q, &rs, selectRegistration+`
WHERE r.event_id = $1 AND r.status = ANY($2) ORDER BY r.created_at, r.id`, eventID, pq.Array(statuses))
	if err != nil {
		return nil, fmt.Errorf("registrations of event %d: %w", eventID, err)
	}
	return rs, loadTickets(ctx, q, rs)
}
