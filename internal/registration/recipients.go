package registration

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// MessageRecipients are the registrations of an event that an organiser's
// message with statuses reaches (package message): those with an address
// that was given or confirmed by its owner. Cancelled and expired
// registrations are never among them, whatever statuses asks; erased ones
// (retention, "Erase data") neither, nor walk-ins who gave no address, nor
// pending ones whose address nobody has confirmed yet (it may be someone
// else's, typed by whoever used a member number: docs/access.md).
//
// sessions, when not empty, are keys of the event's sessions (the caller
// checked them): then a registration is reached only when it also chose one
// of them and has not left it. Its standing in the session does not
// matter (a place, the session's waitlist, or requested while the
// registration itself waits): statuses says whom of the event to reach, and
// a room change of a workshop concerns everyone who may still sit in it.
// Name, Email, Lang and Status are read.
func MessageRecipients(ctx context.Context, q sqlx.QueryerContext, eventID int64, statuses, sessions []string) ([]*Registration, error) {
	var rs []*Registration
	err := sqlx.SelectContext(ctx, q, &rs, `
SELECT r.id, r.event_id, r.name, r.email, r.lang, r.party_size, r.status
FROM registrations r
WHERE r.event_id = $1 AND r.status = ANY($2)
  AND r.status NOT IN ('cancelled', 'expired')
  AND r.erased_at IS NULL AND r.email <> '' AND NOT r.address_unconfirmed
  AND (COALESCE(cardinality($3::text[]), 0) = 0 OR EXISTS (
      SELECT 1 FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
      WHERE rs.registration_id = r.id AND rs.status <> 'cancelled'
        AND s.event_id = r.event_id AND s.key = ANY($3)))
ORDER BY r.id`, eventID, pq.Array(statuses), pq.Array(sessions))
	if err != nil {
		return nil, fmt.Errorf("message recipients: %w", err)
	}
	return rs, nil
}

// ChangeCounts are an event's counts that only rise, which the
// notification worker (package notify) compares with what it told the
// organisation last: sign-ups (registrations that are or were confirmed
// or waitlisted without applying; not holds that were never confirmed)
// and cancellations; on an event with selection by approval the
// applications, and the organisers' approvals and declines of them (an
// approval is no new sign-up). Open is no such count: the applications
// waiting for a decision now.
type ChangeCounts struct {
	SignUps       int `db:"signups"`
	Cancellations int `db:"cancellations"`
	Applications  int `db:"applications"`
	Approvals     int `db:"approvals"`
	Declines      int `db:"declines"`
	Open          int `db:"open"`
}

// CountChanges reads the event's ChangeCounts.
func CountChanges(ctx context.Context, q sqlx.QueryerContext, eventID int64) (ChangeCounts, error) {
	var c ChangeCounts
	err := sqlx.GetContext(ctx, q, &c, `
SELECT count(*) FILTER (WHERE applied_at IS NULL AND status IN ('confirmed', 'waitlisted', 'cancelled')) AS signups,
       count(*) FILTER (WHERE status = 'cancelled') AS cancellations,
       count(*) FILTER (WHERE applied_at IS NOT NULL) AS applications,
       count(*) FILTER (WHERE decided_at IS NOT NULL AND status <> 'declined') AS approvals,
       count(*) FILTER (WHERE status = 'declined') AS declines,
       count(*) FILTER (WHERE status = 'applied') AS open
FROM registrations WHERE event_id = $1`, eventID)
	if err != nil {
		return c, fmt.Errorf("count changes: %w", err)
	}
	return c, nil
}
