package registration

import (
	"context"
	"fmt"
	"treffpunkt/internal/secret"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ForMail returns the registrations ids, with their tickets, by id: what
// the mail sender reads when it renders a message at send time
// (docs/mail.md). A registration that is gone is missing from the map.
// Manage tokens and ticket codes are derived with src's keys. WaitlistPosition is not read: a mail shows the position it was written
// with.
func ForMail(ctx context.Context, q sqlx.QueryerContext, src *secret.Source, ids []int64) (map[int64]*Registration, error) {
	k, err := loadKeys(ctx, src)
	if err != nil {
		return nil, err
	}
	var rs []*Registration
	err = sqlx.SelectContext(ctx, q, &rs, `
SELECT r.id, r.event_id, e.slug AS event_slug, r.name, r.email, r.lang, r.party_size,
       r.status, r.manage_nonce, r.created_at, r.confirmed_at, r.cancelled_at,
       r.seats_held, r.hold_expires_at, 0 AS waitlist_position
FROM registrations r
JOIN events e ON e.id = r.event_id
WHERE r.id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("registrations for mail: %w", err)
	}
	if err := loadTickets(ctx, q, rs); err != nil {
		return nil, err
	}
	k.reveal(rs...)
	out := make(map[int64]*Registration, len(rs))
	for _, r := range rs {
		out[r.ID] = r
	}
	return out, nil
}
