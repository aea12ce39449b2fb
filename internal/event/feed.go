package event

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Window says how long calendar feeds keep events that are over or
// cancelled (docs/calendar.md).
type Window struct {
	// PastDays: an event stays this many days after its end.
	PastDays int
	// CancelledDays: a cancelled event (or registration) stays this many
	// days after the cancellation, and never longer than PastDays allows.
	CancelledDays int
}

// FeedScope selects the events of a public calendar feed.
type FeedScope struct {
	OrgSlug string // one organisation's events
	Slug    string // one event, shown whatever its age
	Kind    string
	// Series: the dates of one series (series.go), within the windows.
	Series string
	Window Window
}

// FeedStamp sums up what a feed shows, for HTTP validators: one small query
// instead of rendering.
type FeedStamp struct {
	Count int `db:"n"`
	// Changed is the latest calendar change of a shown event.
	Changed *time.Time `db:"changed"`
	// Left is the latest time an event dropped out of the feed (its window
	// ended, or it was unpublished).
	Left *time.Time `db:"left_at"`
	// Digest changes whenever a shown event's VEVENT may have changed: a
	// sum of 64-bit hashes of each shown event's id, sequence and
	// presenting organisation's name and address — order-free, so that
	// PostgreSQL need not sort.
	Digest string `db:"digest"`
}

// feedScope is the WHERE part shared by the stamp and the list; $1 org,
// $2 slug, $3 kind, $6 series.
const feedScope = `
  ($1 = '' OR o.slug = $1) AND ($2 = '' OR e.slug = $2) AND ($3 = '' OR e.kind = $3)
  AND ($6 = '' OR e.id IN (SELECT se.event_id FROM series_events se JOIN series s ON s.id = se.series_id WHERE s.slug = $6))`

// feedShown: published or cancelled, within the windows ($4 past days, $5
// cancelled days) unless one event was asked for.
const feedShown = `
  e.status IN ('published', 'cancelled') AND ($2 <> '' OR (
    e.ends_at >= now() - make_interval(days => $4)
    AND (e.status = 'published' OR COALESCE(e.cancelled_at, e.calendar_changed_at) >= now() - make_interval(days => $5))))`

// FeedStampOf computes the validators of a feed without reading the events.
// Rows that left the feed more than a year ago no longer count for Left.
func FeedStampOf(ctx context.Context, q sqlx.QueryerContext, s FeedScope) (FeedStamp, error) {
	var st FeedStamp
	err := sqlx.GetContext(ctx, q, &st, `
WITH rows AS (
  SELECT e.id, e.sequence, e.calendar_changed_at, o.name, o.email,
    (`+feedShown+`) AS shown,
    CASE WHEN e.status = 'draft' THEN e.calendar_changed_at
         WHEN e.status = 'published' THEN e.ends_at + make_interval(days => $4)
         ELSE LEAST(e.ends_at + make_interval(days => $4),
                    COALESCE(e.cancelled_at, e.calendar_changed_at) + make_interval(days => $5))
    END AS left_at
  FROM events e JOIN organisations o ON o.id = e.org_id
  WHERE `+feedScope+`
    AND ($2 <> '' OR e.ends_at >= now() - make_interval(days => $4 + 365))
)
SELECT count(*) FILTER (WHERE shown) AS n,
       max(calendar_changed_at) FILTER (WHERE shown) AS changed,
       max(left_at) FILTER (WHERE NOT shown AND left_at <= now()) AS left_at,
       COALESCE(sum(hashtextextended(concat_ws('|', id, sequence, name, email), 0)) FILTER (WHERE shown), 0)::text AS digest
FROM rows`, s.OrgSlug, s.Slug, s.Kind, s.Window.PastDays, s.Window.CancelledDays, s.Series)
	if err != nil {
		return st, fmt.Errorf("feed stamp: %w", err)
	}
	return st, nil
}

// FeedEvents returns the events a feed shows, in order of start.
func FeedEvents(ctx context.Context, q sqlx.QueryerContext, s FeedScope) ([]Event, error) {
	var out []Event
	err := sqlx.SelectContext(ctx, q, &out, selectEvent+`
WHERE `+feedScope+` AND `+feedShown+`
ORDER BY e.starts_at, e.id`, s.OrgSlug, s.Slug, s.Kind, s.Window.PastDays, s.Window.CancelledDays, s.Series)
	if err != nil {
		return nil, fmt.Errorf("feed events: %w", err)
	}
	return out, nil
}

// ByIDs returns events by id, in no particular order.
func ByIDs(ctx context.Context, q sqlx.QueryerContext, ids []int64) ([]Event, error) {
	var out []Event
	if len(ids) == 0 {
		return out, nil
	}
	if err := sqlx.SelectContext(ctx, q, &out, selectEvent+` WHERE e.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("events by id: %w", err)
	}
	return out, nil
}
