package registration

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/event"
)

// CalendarRow is a registration as a personal calendar feed shows it: one
// per event, even when a person cancelled and signed up again.
type CalendarRow struct {
	ID      int64  `db:"id"`
	EventID int64  `db:"event_id"`
	Status  string `db:"status"`
	// Sequence and ChangedAt add to the event's SEQUENCE and LAST-MODIFIED.
	// Sequence counts the status changes of all of the feed's registrations
	// of the event, and one for each further registration, so it never
	// falls when a new registration replaces a cancelled one.
	Sequence  int       `db:"reg_sequence"`
	ChangedAt time.Time `db:"reg_changed_at"`
}

// calendarRows picks, per event, the live registration (there is at most
// one per address) or else the latest, and says whether a feed shows it:
// the event is public and within the windows ($2 past days, $3 cancelled
// days), and so is the registration's cancellation. left_at is when a row
// that is not shown dropped out.
const calendarRows = `
WITH m AS (
  SELECT r.id, r.event_id, r.status, e.sequence, o.name, o.email,
    sum(r.calendar_sequence + 1) OVER w - 1 AS reg_sequence,
    max(r.calendar_changed_at) OVER w AS reg_changed_at,
    row_number() OVER (PARTITION BY r.event_id
        ORDER BY r.status IN ('pending', 'confirmed', 'waitlisted', 'applied') DESC, r.id DESC) AS pick,
    GREATEST(max(r.calendar_changed_at) OVER w, e.calendar_changed_at) AS changed_at,
    e.starts_at,
    -- The VEVENTs of the sessions it holds a place in (CalendarSessions).
    (SELECT COALESCE(sum(hashtextextended(concat_ws('|', s.id, s.calendar_sequence, rs.calendar_sequence, s.status), 0)), 0)
     FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
     WHERE rs.registration_id = r.id AND rs.status = 'confirmed') AS sessions_digest,
    (SELECT max(GREATEST(s.calendar_changed_at, rs.updated_at))
     FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
     WHERE rs.registration_id = r.id) AS sessions_changed,
    (e.status IN ('published', 'cancelled')
      AND e.ends_at >= now() - make_interval(days => $2)
      AND (e.status = 'published' OR COALESCE(e.cancelled_at, e.calendar_changed_at) >= now() - make_interval(days => $3))
      AND (r.status NOT IN ('cancelled', 'expired', 'declined') OR COALESCE(r.cancelled_at, r.calendar_changed_at) >= now() - make_interval(days => $3))
    ) AS shown,
    LEAST(e.ends_at + make_interval(days => $2),
          CASE WHEN e.status = 'cancelled' THEN COALESCE(e.cancelled_at, e.calendar_changed_at) + make_interval(days => $3) END,
          CASE WHEN r.status IN ('cancelled', 'expired', 'declined') THEN COALESCE(r.cancelled_at, r.calendar_changed_at) + make_interval(days => $3) END,
          CASE WHEN e.status = 'draft' THEN e.calendar_changed_at END) AS left_at
  FROM registrations r
  JOIN events e ON e.id = r.event_id
  JOIN organisations o ON o.id = e.org_id
  WHERE r.id = ANY($1)
  WINDOW w AS (PARTITION BY r.event_id)
)`

// CalendarRows returns what a personal feed of the registrations ids shows,
// in order of the events' start.
func CalendarRows(ctx context.Context, q sqlx.QueryerContext, ids []int64, w event.Window) ([]CalendarRow, error) {
	var out []CalendarRow
	err := sqlx.SelectContext(ctx, q, &out, calendarRows+`
SELECT id, event_id, status, reg_sequence, reg_changed_at FROM m
WHERE pick = 1 AND shown
ORDER BY starts_at, event_id`, pq.Array(ids), w.PastDays, w.CancelledDays)
	if err != nil {
		return nil, fmt.Errorf("calendar registrations: %w", err)
	}
	return out, nil
}

// CalendarStamp is event.FeedStampOf for a personal feed of the
// registrations ids: its digest covers the registrations too.
func CalendarStamp(ctx context.Context, q sqlx.QueryerContext, ids []int64, w event.Window) (event.FeedStamp, error) {
	var st event.FeedStamp
	err := sqlx.GetContext(ctx, q, &st, calendarRows+`
SELECT count(*) FILTER (WHERE shown) AS n,
       GREATEST(max(changed_at) FILTER (WHERE shown), max(sessions_changed) FILTER (WHERE shown)) AS changed,
       max(left_at) FILTER (WHERE NOT shown AND left_at <= now()) AS left_at,
       COALESCE(sum(hashtextextended(concat_ws('|', id, status, reg_sequence, sequence, name, email, sessions_digest), 0)) FILTER (WHERE shown), 0)::text AS digest
FROM m WHERE pick = 1`, pq.Array(ids), w.PastDays, w.CancelledDays)
	if err != nil {
		return st, fmt.Errorf("calendar stamp: %w", err)
	}
	return st, nil
}

// AnyHasEmail reports whether one of the registrations ids was made with
// email (case and surrounding spaces ignored).
func AnyHasEmail(ctx context.Context, q sqlx.QueryerContext, ids []int64, email string) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `
SELECT EXISTS (SELECT 1 FROM registrations WHERE id = ANY($1) AND lower(trim(email)) = lower(trim($2)))`,
		pq.Array(ids), email)
	if err != nil {
		return false, fmt.Errorf("compare registration emails: %w", err)
	}
	return ok, nil
}

// CalendarSession is a session a registration holds a place in, as a
// personal feed shows it: one VEVENT of its own.
type CalendarSession struct {
	RegistrationID int64     `db:"registration_id"`
	SessionID      int64     `db:"session_id"`
	Sequence       int       `db:"calendar_sequence"`
	ChangedAt      time.Time `db:"updated_at"`
}

// CalendarSessions returns the confirmed session choices of the
// registrations ids (those of the feed's shown rows).
func CalendarSessions(ctx context.Context, q sqlx.QueryerContext, ids []int64) ([]CalendarSession, error) {
	var out []CalendarSession
	if len(ids) == 0 {
		return out, nil
	}
	err := sqlx.SelectContext(ctx, q, &out, `
SELECT rs.registration_id, rs.session_id, rs.calendar_sequence, rs.updated_at
FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
WHERE rs.registration_id = ANY($1) AND rs.status = 'confirmed'
ORDER BY s.starts_at, s.id`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("calendar sessions: %w", err)
	}
	return out, nil
}
