package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
)

const selectEvent = `
SELECT e.id, e.org_id, o.slug AS org_slug, o.name AS org_name, o.email AS org_email, e.slug, e.kind,
       e.default_lang, e.title, e.description, e.starts_at, e.ends_at, e.all_day,
       e.timezone, e.venue_id AS "venue.id",
       COALESCE(v.name, '') AS "venue.name", COALESCE(v.street, '') AS "venue.street",
       COALESCE(v.postcode, '') AS "venue.postcode", COALESCE(v.city, '') AS "venue.city",
       COALESCE(v.accessibility_notes, '') AS "venue.accessibility_notes",
       e.status, e.capacity, e.waitlist, e.registration_opens_at,
       e.registration_closes_at, e.max_party_size, e.access, e.min_age, e.max_age,
       e.price_note, e.seats_confirmed, e.confirm_email, e.approval, ` + partnersColumn + `, e.questions,
       e.waitlist_length, e.max_sessions, ` + sessionsColumn + `, ` + imageColumn + `, ` + factsColumns + `,
       e.sequence, e.calendar_changed_at, e.cancelled_at, e.created_at, e.updated_at
FROM events e
JOIN organisations o ON o.id = e.org_id
LEFT JOIN venues v ON v.id = e.venue_id`

// Filter narrows a list of events. Empty fields do not filter.
type Filter struct {
	OrgSlug string
	Kind    string
	// Lang: only events where this language is spoken (Event.Spoken).
	Lang string
	// Access: only events where each of these facts (AccessFacts) is
	// known to be true.
	Access []string
	From   time.Time
	To     time.Time
	// Words: only events whose titles, descriptions or organisation's
	// name contain each word, whatever the case and diacritics
	// (SearchWords, search.go).
	Words []string
	// Statuses defaults to published and cancelled (what the public sees).
	Statuses []string
	Limit    int
}

func list(ctx context.Context, q sqlx.QueryerContext, f Filter) ([]Event, error) {
	orgs, err := orgMatches(ctx, q, f.Words)
	if err != nil {
		return nil, err
	}
	query, args := listQuery(f, orgs)
	var out []Event
	if err := sqlx.SelectContext(ctx, q, &out, query, args...); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// listQuery is the statement of list and its arguments, orgs those of
// orgMatches (apart, so that the
// search benchmark can EXPLAIN the very query).
func listQuery(f Filter, orgs [][]int64) (string, []any) {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{Published, Cancelled}
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	search, searchArgs := searchWhere(f.Words, orgs, 8)
	args := append([]any{pq.Array(statuses), f.OrgSlug, f.Kind, f.Lang, from, to, limit}, searchArgs...)
	return selectEvent + `
WHERE e.status = ANY($1)
  AND ($2 = '' OR o.slug = $2)
  AND ($3 = '' OR e.kind = $3)
  AND ($4 = '' OR CASE WHEN cardinality(e.languages) > 0 THEN $4 = ANY(e.languages)
                       ELSE e.default_lang = $4 OR e.title ? $4 END)
  AND ($5::timestamptz IS NULL OR e.ends_at >= $5)
  AND ($6::timestamptz IS NULL OR e.starts_at < $6)` + accessWhere(f.Access) + search + `
ORDER BY e.starts_at, e.id
LIMIT $7`, args
}

// BySlug loads one event without locking it.
func BySlug(ctx context.Context, q sqlx.QueryerContext, slug string) (*Event, error) {
	var e Event
	err := sqlx.GetContext(ctx, q, &e, selectEvent+` WHERE e.slug = $1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.event_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("get event %q: %w", slug, err)
	}
	return &e, nil
}

// LockBySlug loads an event and locks its row until the transaction ends.
// Every change of seats_confirmed happens under this lock: it is the
// serialisation point of the capacity rule. One statement: on the sign-up
// path every round trip under the lock counts.
func LockBySlug(ctx context.Context, tx *sqlx.Tx, slug string) (*Event, error) {
	return lock(ctx, tx, `e.slug = $1`, slug)
}

// LockByID is LockBySlug for a known id.
func LockByID(ctx context.Context, tx *sqlx.Tx, id int64) (*Event, error) {
	return lock(ctx, tx, `e.id = $1`, id)
}

func lock(ctx context.Context, tx *sqlx.Tx, where string, key any) (*Event, error) {
	var e Event
	err := tx.GetContext(ctx, &e, selectEvent+` WHERE `+where+` FOR UPDATE OF e`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.event_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("lock event %v: %w", key, err)
	}
	// The sessions' counters are read again now that the lock is held: a
	// statement that waited for the lock sees the event's row as the last
	// holder left it, but its subqueries see the rows of other tables as
	// they were when it started (READ COMMITTED), and the holder may have
	// changed them.
	if err := tx.GetContext(ctx, &e.Sessions, `SELECT `+sessionsColumn+` FROM events e WHERE e.id = $1`, e.ID); err != nil {
		return nil, fmt.Errorf("read sessions of event %v: %w", key, err)
	}
	return &e, nil
}

// GetByID loads one event.
func GetByID(ctx context.Context, q sqlx.QueryerContext, id int64) (*Event, error) {
	var e Event
	err := sqlx.GetContext(ctx, q, &e, selectEvent+` WHERE e.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.event_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("get event %d: %w", id, err)
	}
	return &e, nil
}

// AddSeats changes the confirmed-seat counter of a locked event. The table's
// CHECK constraint refuses any value above capacity.
func AddSeats(ctx context.Context, tx *sqlx.Tx, eventID int64, delta int) error {
	_, err := tx.ExecContext(ctx, `UPDATE events SET seats_confirmed = seats_confirmed + $2 WHERE id = $1`, eventID, delta)
	if err != nil {
		return fmt.Errorf("change seats of event %d: %w", eventID, err)
	}
	return nil
}

func upsertVenue(ctx context.Context, tx *sqlx.Tx, orgID int64, v Venue) (*int64, error) {
	if v.Name == "" {
		return nil, nil
	}
	var id int64
	err := tx.GetContext(ctx, &id, `
INSERT INTO venues (org_id, name, street, postcode, city, accessibility_notes)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (org_id, name, street, postcode, city)
DO UPDATE SET accessibility_notes = EXCLUDED.accessibility_notes
RETURNING id`, orgID, v.Name, v.Street, v.Postcode, v.City, v.AccessibilityNotes)
	if err != nil {
		return nil, fmt.Errorf("save venue: %w", err)
	}
	return &id, nil
}

func insert(ctx context.Context, tx *sqlx.Tx, e *Event) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `
INSERT INTO events (org_id, slug, kind, default_lang, title, description, starts_at,
    ends_at, all_day, timezone, venue_id, status, capacity, waitlist,
    registration_opens_at, registration_closes_at, max_party_size, access,
    min_age, max_age, price_note, confirm_email, questions, max_sessions, approval)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
    $17, $18, $19, $20, $21, $22, $23, $24, $25)
RETURNING id`,
		e.OrgID, e.Slug, e.Kind, e.DefaultLang, e.Title, e.Description, e.StartsAt,
		e.EndsAt, e.AllDay, e.Timezone, e.Venue.ID, e.Status, e.Capacity, e.Waitlist,
		e.RegistrationOpensAt, e.RegistrationClosesAt, e.MaxPartySize, e.Access,
		e.MinAge, e.MaxAge, e.PriceNote, e.ConfirmEmail, e.Questions, e.MaxSessions, e.Approval)
	if err != nil {
		return 0, fmt.Errorf("insert event: %w", err)
	}
	e.ID = id
	if err := writeSessions(ctx, tx, e); err != nil {
		return 0, err
	}
	if err := writeFacts(ctx, tx, e); err != nil {
		return 0, err
	}
	return id, writePartners(ctx, tx, e)
}

// update writes every editable column; sequence rises, and
// calendar_changed_at moves, when something a calendar shows has changed.
// e gets the new calendar_changed_at and cancelled_at, so that a calendar
// object rendered in the same transaction matches the feeds.
func update(ctx context.Context, tx *sqlx.Tx, e *Event, bumpSequence bool) error {
	err := tx.QueryRowxContext(ctx, `
UPDATE events SET slug = $2, kind = $3, default_lang = $4, title = $5,
    description = $6, starts_at = $7, ends_at = $8, all_day = $9, timezone = $10,
    venue_id = $11, status = $12, capacity = $13, waitlist = $14,
    registration_opens_at = $15, registration_closes_at = $16,
    max_party_size = $17, access = $18, min_age = $19, max_age = $20,
    price_note = $21, confirm_email = $23, questions = $24, max_sessions = $25, approval = $26, updated_at = now(),
    sequence = sequence + CASE WHEN $22 THEN 1 ELSE 0 END,
    calendar_changed_at = CASE WHEN $22 THEN now() ELSE calendar_changed_at END,
    cancelled_at = CASE WHEN $12 = 'cancelled' THEN COALESCE(cancelled_at, now()) END
WHERE id = $1
RETURNING calendar_changed_at, cancelled_at`,
		e.ID, e.Slug, e.Kind, e.DefaultLang, e.Title, e.Description, e.StartsAt,
		e.EndsAt, e.AllDay, e.Timezone, e.Venue.ID, e.Status, e.Capacity, e.Waitlist,
		e.RegistrationOpensAt, e.RegistrationClosesAt, e.MaxPartySize, e.Access,
		e.MinAge, e.MaxAge, e.PriceNote, bumpSequence, e.ConfirmEmail, e.Questions, e.MaxSessions, e.Approval).Scan(&e.CalendarChangedAt, &e.CancelledAt)
	if err != nil {
		return fmt.Errorf("update event %d: %w", e.ID, err)
	}
	return writeFacts(ctx, tx, e)
}
