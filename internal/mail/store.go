package mail

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/registration"
)

// Outbox statuses the code compares with; markSent and markFailed write
// 'sent' and 'failed' in their SQL.
const (
	statusQueued  = "queued"
	statusSending = "sending"
)

// maxRows is the most rows one INSERT writes (PostgreSQL allows 65,535
// parameters), so a notice costs one round trip.
const maxRows = 1000

const renderedColumns = 13

// insertRendered writes messages whose content is rendered already (staff
// emails) with one statement per maxRows.
func insertRendered(ctx context.Context, tx *sqlx.Tx, msgs []message) error {
	for len(msgs) > 0 {
		chunk := msgs[:min(len(msgs), maxRows)]
		msgs = msgs[len(chunk):]
		q := []byte(`INSERT INTO mail_outbox (message_id, kind, lang, recipient, recipient_name, reply_to,
    registration_id, event_id, subject, body_text, body_html, calendar, qr, payload) VALUES `)
		args := make([]any, 0, len(chunk)*(renderedColumns+1))
		for i, m := range chunk {
			if i > 0 {
				q = append(q, ", "...)
			}
			q = appendPlaceholders(q, i*(renderedColumns+1), renderedColumns+1)
			qr := m.QR
			if qr == nil {
				qr = []string{} // pq.Array(nil) would be NULL
			}
			payload := m.Payload
			if payload == "" {
				payload = "{}"
			}
			args = append(args, m.MessageID, m.Kind, m.Lang, m.Recipient, m.RecipientName, m.ReplyTo,
				m.RegistrationID, m.EventID, m.Subject, m.Text, m.HTML, m.Calendar, pq.Array(qr), payload)
		}
		if _, err := tx.ExecContext(ctx, string(q), args...); err != nil {
			return fmt.Errorf("enqueue mail: %w", err)
		}
	}
	return nil
}

// queued is an outbox row as the sender reads it. A row with a subject was
// rendered at enqueue (staff emails, rows older than migration 00011);
// else content is rendered from the registration, the event and Payload
// when it is sent.
type queued struct {
	ID             int64  `db:"id"`
	MessageID      string `db:"message_id"`
	Kind           string `db:"kind"`
	Lang           string `db:"lang"`
	Recipient      string `db:"recipient"`
	RecipientName  string `db:"recipient_name"`
	RegistrationID *int64 `db:"registration_id"`
	EventID        *int64 `db:"event_id"`
	// MessageRef names an organiser's message (kind "message").
	MessageRef *int64 `db:"message_ref"`
	Payload    []byte `db:"payload"`
	content
	Attempts  int       `db:"attempts"`
	CreatedAt time.Time `db:"created_at"`
}

// rendered says whether the row holds its content already.
func (q *queued) rendered() bool {
	return q.Subject != "" || q.RegistrationID == nil || q.EventID == nil
}

// claim takes up to n due messages for lease: they turn "sending", and
// next_attempt_at becomes the lease's end, after which any sender may take
// them again (the sender that claimed them died). SKIP LOCKED lets any
// number of senders claim side by side without waiting for each other.
func claim(ctx context.Context, db *sqlx.DB, n int, lease time.Duration) ([]queued, error) {
	var out []queued
	err := db.SelectContext(ctx, &out, `
UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1,
    next_attempt_at = now() + $2 * interval '1 millisecond'
WHERE id IN (
    SELECT id FROM mail_outbox
    WHERE status IN ('queued', 'sending') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT $1
    FOR UPDATE SKIP LOCKED)
RETURNING id, message_id, kind, lang, recipient, recipient_name, registration_id, event_id,
    message_ref, payload, reply_to, subject, body_text, body_html, calendar, qr, attempts, created_at`, n, lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	// RETURNING keeps no order; send oldest first.
	slices.SortFunc(out, func(a, b queued) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// markSent records the SMTP server's OK for messages already handed over:
// one statement, one commit for the group (the sender's sentLog decides
// how many wait for it; docs/mail.md has the window this leaves).
func markSent(ctx context.Context, db *sqlx.DB, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.ExecContext(ctx, `
UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = ''
WHERE id = ANY($1) AND status = 'sending'`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("mark %d mail(s) sent: %w", len(ids), err)
	}
	return nil
}

// markFailed gives a message up: the server refused it for good, or it
// ran out of attempts.
func markFailed(ctx context.Context, db *sqlx.DB, id int64, reason string) error {
	_, err := db.ExecContext(ctx, `
UPDATE mail_outbox SET status = 'failed', last_error = $2
WHERE id = $1 AND status = 'sending'`, id, reason)
	if err != nil {
		return fmt.Errorf("mark mail %d failed: %w", id, err)
	}
	return nil
}

// retryLater puts a message back in the queue until after delay.
func retryLater(ctx context.Context, db *sqlx.DB, id int64, delay time.Duration, reason string) error {
	_, err := db.ExecContext(ctx, `
UPDATE mail_outbox SET status = 'queued', last_error = $3,
    next_attempt_at = now() + $2 * interval '1 millisecond'
WHERE id = $1 AND status = 'sending'`, id, delay.Milliseconds(), reason)
	if err != nil {
		return fmt.Errorf("requeue mail %d: %w", id, err)
	}
	return nil
}

// release gives claimed messages back untried: the attempt does not count.
func release(ctx context.Context, db *sqlx.DB, ids []int64, delay time.Duration, reason string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.ExecContext(ctx, `
UPDATE mail_outbox SET status = 'queued', attempts = attempts - 1,
    last_error = CASE WHEN $3 = '' THEN last_error ELSE $3 END,
    next_attempt_at = now() + $2 * interval '1 millisecond'
WHERE id = ANY($1) AND status = 'sending'`, pq.Array(ids), delay.Milliseconds(), reason)
	if err != nil {
		return fmt.Errorf("release mail: %w", err)
	}
	return nil
}

func states(ctx context.Context, db *sqlx.DB, regIDs []int64) ([]registration.MailState, error) {
	var out []registration.MailState
	err := db.SelectContext(ctx, &out, `
SELECT registration_id, kind, status, sent_at, last_error FROM mail_outbox
WHERE registration_id = ANY($1) ORDER BY id`, pq.Array(regIDs))
	if err != nil {
		return nil, fmt.Errorf("mail states: %w", err)
	}
	return out, nil
}
