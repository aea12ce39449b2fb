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

// Erased counts what one retention run erased; it is all that is logged.
type Erased struct {
	Registrations int
	Events        int
	Mails         int
	// Scans are check-in scans whose scanned text was blanked.
	Scans int
}

// eraseRegistrations blanks the personal data of the registrations ids
// (name, email, answers, birth date, member number), the initials on
// their certificates of attendance, every column of their
// emails in the outbox that may hold them (last_error too: a server's
// answer may quote the address, and versions before 2026-12 kept the whole
// To header there), the scanned text of their tickets' check-in scans, and
// the scans of their events that match no ticket but hold their address or
// name (typed at the door). It keeps status, party size, tickets,
// check-ins and scan verdicts, so that counts and check-in totals remain.
// Emails not sent yet are given up.
const eraseRegistrations = `
WITH old AS (
    SELECT r.id, r.event_id, r.name, r.email FROM registrations r
    WHERE r.id = ANY($1) AND r.erased_at IS NULL
), reg AS (
    UPDATE registrations r SET name = '', email = '', answers = '{}', birth_date = NULL,
        member_number = '', erased_at = $2, updated_at = now()
    WHERE r.id = ANY($1) AND r.erased_at IS NULL
    RETURNING r.id, r.event_id
), mails AS (
    UPDATE mail_outbox m SET recipient = '', recipient_name = '', subject = '',
        body_text = '', body_html = '', calendar = '', qr = '{}', payload = '{}',
        status = CASE WHEN m.status IN ('queued', 'sending') THEN 'failed' ELSE m.status END,
        last_error = CASE WHEN m.status IN ('queued', 'sending') THEN 'erased before sending' ELSE '' END
    FROM reg WHERE m.registration_id = reg.id
    RETURNING m.id
), certs AS (
    -- The certificate stays verifiable (certificate.go); whose it was goes.
    UPDATE certificates c SET initials = ''
    FROM reg WHERE c.registration_id = reg.id AND c.initials <> ''
    RETURNING c.id
), scans AS (
    UPDATE checkin_scans s SET code = ''
    FROM tickets t JOIN reg ON reg.id = t.registration_id
    WHERE s.ticket_id = t.id AND s.code <> ''
    RETURNING s.id
), typed AS (
    -- Names shorter than three characters would blank unrelated scans.
    UPDATE checkin_scans s SET code = ''
    WHERE s.id IN (
        SELECT s2.id FROM checkin_scans s2 JOIN old ON old.event_id = s2.event_id
        WHERE s2.ticket_id IS NULL AND s2.code <> ''
          AND ((old.email <> '' AND strpos(lower(s2.code), lower(old.email)) > 0)
            OR (char_length(old.name) >= 3 AND strpos(lower(s2.code), lower(old.name)) > 0)))
    RETURNING s.id
)
SELECT (SELECT count(*) FROM reg) AS registrations,
       (SELECT count(DISTINCT event_id) FROM reg) AS events,
       (SELECT count(*) FROM mails) AS mails,
       (SELECT count(*) FROM scans) + (SELECT count(*) FROM typed) AS scans`

// eraseScans blanks the scanned text of up to $3 check-in scans of events
// that ended before $1 - $2 seconds: the scans of unknown or mistyped codes,
// which belong to no registration and may hold whatever was typed at the
// door. The verdicts, times and days stay.
const eraseScans = `
UPDATE checkin_scans SET code = ''
WHERE id IN (
    SELECT s.id FROM checkin_scans s JOIN events e ON e.id = s.event_id
    WHERE s.code <> '' AND e.ends_at <= $1::timestamptz - $2 * interval '1 second'
    ORDER BY s.id LIMIT $3
    FOR NO KEY UPDATE OF s SKIP LOCKED)`

// EraseExpired erases the personal data of up to limit registrations of
// events that ended at least retention ago (RETENTION_DAYS), in one
// transaction, blanks the scanned text of up to limit check-in scans of
// such events, and says how many. Rows another instance is erasing are
// skipped; running it again erases nothing new.
func (s *Service) EraseExpired(ctx context.Context, retention time.Duration, limit int) (Erased, error) {
	var out Erased
	now := s.now()
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var ids []int64
		err := tx.SelectContext(ctx, &ids, `
SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.erased_at IS NULL AND e.ends_at <= $1::timestamptz - $2 * interval '1 second'
ORDER BY r.id LIMIT $3
FOR NO KEY UPDATE OF r SKIP LOCKED`, now, retention.Seconds(), limit)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			if err := erase(ctx, tx, ids, now, &out); err != nil {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, eraseScans, now, retention.Seconds(), limit)
		if err != nil {
			return fmt.Errorf("erase check-in scans: %w", err)
		}
		scans, _ := r.RowsAffected()
		out.Scans += int(scans)
		return nil
	})
	return out, apperr.Wrap(err, "erase expired registrations")
}

func erase(ctx context.Context, tx *sqlx.Tx, ids []int64, now time.Time, out *Erased) error {
	row := tx.QueryRowxContext(ctx, eraseRegistrations, pq.Array(ids), now)
	if err := row.Scan(&out.Registrations, &out.Events, &out.Mails, &out.Scans); err != nil {
		return fmt.Errorf("erase registrations: %w", err)
	}
	return nil
}

// EraseOne erases one person's data on request, from the attendee list. A
// live registration is cancelled first in the same transaction (its seats
// freed, the waitlist moved up); the person is not mailed, as their address
// is what goes.
func (s *Service) EraseOne(ctx context.Context, eventID, regID int64) error {
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.LockByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		r, err := ofEvent(ctx, tx, eventID, regID, true)
		if err != nil {
			return err
		}
		switch r.Status {
		case Confirmed, Pending, Waitlisted:
			if r.Status != Waitlisted {
				if err := releaseSeats(ctx, tx, e, r); err != nil {
					return err
				}
			}
			if err := setStatus(ctx, tx, r.ID, Cancelled); err != nil {
				return err
			}
			if err := s.releaseSessions(ctx, tx, e, r.ID); err != nil {
				return err
			}
			if err := s.promote(ctx, tx, e); err != nil {
				return err
			}
		}
		var out Erased
		return erase(ctx, tx, []int64{r.ID}, s.now(), &out)
	})
	return apperr.Wrap(err, "erase registration")
}
