package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/secret"
)

const selectRegistration = `
SELECT r.id, r.event_id, e.slug AS event_slug, r.name, r.email, r.lang, r.party_size,
       r.status, r.manage_nonce, r.created_at, r.confirmed_at, r.cancelled_at,
       r.seats_held, r.hold_expires_at, r.answers, r.address_unconfirmed, r.walk_in, r.changed_at,
       CASE WHEN r.status = 'waitlisted' THEN (
           SELECT count(*) FROM registrations w
           WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
             AND w.waitlist_order <= r.waitlist_order)
       ELSE 0 END AS waitlist_position
FROM registrations r
JOIN events e ON e.id = r.event_id`

type newRegistration struct {
	// ConfirmHash, SeatsHeld and HoldExpiresAt are set for a pending one.
	ConfirmHash   []byte
	SeatsHeld     int
	HoldExpiresAt *time.Time

	Name         string
	Email        string
	Lang         string
	PartySize    int
	MemberNumber string
	BirthDate    *time.Time
	Status       string
	// ManageNonce derives the manage token; ManageHash is its hash.
	ManageNonce []byte
	ManageHash  []byte
	Answers     Answers
	// AgeBand and Member are what the figures keep of the birth date and
	// the member number once retention has erased them (stats.go).
	AgeBand string
	Member  bool
}

// insertTickets creates one ticket per seat of r and returns them.
func insertTickets(ctx context.Context, tx *sqlx.Tx, k keys, r *Registration, eventID int64, seats int) ([]Ticket, error) {
	if err := k.ensureNonce(ctx, tx, r); err != nil {
		return nil, err
	}
	one := &Registration{ID: r.ID, ManageNonce: r.ManageNonce, Tickets: newTickets(seats)}
	for i := range one.Tickets {
		one.Tickets[i].RegistrationID = r.ID
	}
	return one.Tickets, insertTicketsOf(ctx, tx, k, eventID, []*Registration{one})
}

// byHash is the condition that finds a registration by its manage token's
// hash ($1): the current token, or one mailed before migration 00016.
const byHash = `(r.manage_hash = $1 OR r.legacy_manage_hash = $1)`

func getByID(ctx context.Context, q sqlx.QueryerContext, id int64) (*Registration, error) {
	var r Registration
	if err := sqlx.GetContext(ctx, q, &r, selectRegistration+` WHERE r.id = $1`, id); err != nil {
		return nil, fmt.Errorf("get registration %d: %w", id, err)
	}
	return &r, loadTickets(ctx, q, []*Registration{&r})
}

func getByToken(ctx context.Context, q sqlx.QueryerContext, token string) (*Registration, error) {
	var r Registration
	err := sqlx.GetContext(ctx, q, &r, selectRegistration+` WHERE `+byHash, secret.Hash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.registration_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("get registration by token: %w", err)
	}
	return &r, loadTickets(ctx, q, []*Registration{&r})
}

func listByEvent(ctx context.Context, q sqlx.QueryerContext, eventID int64) ([]*Registration, error) {
	var rs []*Registration
	// Positions come from one window function: the per-row count of
	// selectRegistration would make a long waitlist quadratic.
	err := sqlx.SelectContext(ctx, q, &rs, `
SELECT r.id, r.event_id, e.slug AS event_slug, r.name, r.email, r.lang, r.party_size,
       r.status, r.manage_nonce, r.created_at, r.confirmed_at, r.cancelled_at,
       r.seats_held, r.hold_expires_at, r.answers, r.address_unconfirmed, r.walk_in, r.changed_at,
       CASE WHEN r.status = 'waitlisted' THEN
           count(*) FILTER (WHERE r.status = 'waitlisted') OVER (ORDER BY r.waitlist_order)
       ELSE 0 END AS waitlist_position
FROM registrations r
JOIN events e ON e.id = r.event_id
WHERE r.event_id = $1
ORDER BY r.created_at, r.id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list registrations: %w", err)
	}
	return rs, loadTickets(ctx, q, rs)
}

func loadTickets(ctx context.Context, q sqlx.QueryerContext, rs []*Registration) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]int64, len(rs))
	byID := make(map[int64]*Registration, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
		byID[r.ID] = r
		r.Tickets = nil
	}
	var ts []Ticket
	err := sqlx.SelectContext(ctx, q, &ts, `
SELECT id, registration_id, seat, checked_in_at FROM tickets
WHERE registration_id = ANY($1) ORDER BY registration_id, seat`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("load tickets: %w", err)
	}
	for _, t := range ts {
		r := byID[t.RegistrationID]
		r.Tickets = append(r.Tickets, t)
	}
	return loadSessions(ctx, q, rs)
}

// waitlisted returns the event's waitlist in order, with what a mail to
// each needs; the caller holds the event's lock.
func waitlisted(ctx context.Context, tx *sqlx.Tx, eventID int64) ([]Registration, error) {
	var rs []Registration
	err := tx.SelectContext(ctx, &rs, `
SELECT id, event_id, name, email, lang, party_size, status, manage_nonce FROM registrations
WHERE event_id = $1 AND status = 'waitlisted'
ORDER BY waitlist_order`, eventID)
	if err != nil {
		return nil, fmt.Errorf("read waitlist: %w", err)
	}
	return rs, nil
}

func setStatus(ctx context.Context, tx *sqlx.Tx, id int64, status string) error {
	_, err := tx.ExecContext(ctx, `
UPDATE registrations SET status = $2, updated_at = now(),
    seats_held = CASE WHEN $2 = 'pending' THEN seats_held ELSE 0 END,
    confirm_token_hash = CASE WHEN $2 = 'pending' THEN confirm_token_hash END,
    confirmed_at = CASE WHEN $2 = 'confirmed' THEN now() ELSE confirmed_at END,
    cancelled_at = CASE WHEN $2 = 'cancelled' THEN now() ELSE cancelled_at END,
    applied_at = CASE WHEN $2 = 'applied' THEN COALESCE(applied_at, now()) ELSE applied_at END,
    decided_at = CASE WHEN $2 = 'declined' THEN now() ELSE decided_at END
WHERE id = $1`, id, status)
	if err != nil {
		return fmt.Errorf("set registration %d %s: %w", id, status, err)
	}
	return nil
}

// eventIDByToken finds the event of a registration before any lock is taken:
// locks are always taken event first, then registration, so that concurrent
// cancellations and sign-ups never deadlock.
func eventIDByToken(ctx context.Context, q sqlx.QueryerContext, token string) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT event_id FROM registrations r WHERE `+byHash, secret.Hash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.New(apperr.NotFound, "err.registration_not_found")
	}
	if err != nil {
		return 0, fmt.Errorf("find registration: %w", err)
	}
	return id, nil
}

func ticketByCode(ctx context.Context, q sqlx.QueryerContext, code string) (*Registration, *Ticket, error) {
	var t Ticket
	err := sqlx.GetContext(ctx, q, &t, `
SELECT id, registration_id, seat, checked_in_at FROM tickets
WHERE code_hash = $1 OR legacy_code_hash = $1`, secret.Hash(code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, apperr.New(apperr.NotFound, "err.ticket_not_found")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get ticket: %w", err)
	}
	r, err := getByID(ctx, q, t.RegistrationID)
	return r, &t, err
}
