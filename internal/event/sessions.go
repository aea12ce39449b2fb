package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/text"
)

// Sessions (issue 18, docs/organisers.md "Sessions"): workshops, forums,
// groups inside an event, each with its own times, room, places and
// waitlist. The list is edited like the questions (a PATCH replaces it,
// matched by key); the places are counted like the event's seats, on the
// session's row under the event's lock (migrations/00024_sessions.sql), by
// the registration package.

// Session statuses.
const (
	SessionActive    = "active"
	SessionCancelled = "cancelled"
)

// Limits of an event's sessions.
const (
	MaxSessions      = 50
	MaxSessionRoom   = 200
	MaxSessionTitle  = 200
	MaxSessionDetail = 5000
)

// Session is one session of an event, with its counters as last read.
type Session struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Title       Texts     `json:"title"`
	Description Texts     `json:"description"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	Room        string    `json:"room"`
	Capacity    *int      `json:"capacity"`
	Waitlist    bool      `json:"waitlist"`
	Status      string    `json:"status"`
	Position    int       `json:"position"`
	// SeatsConfirmed is the places its confirmed registrations hold.
	SeatsConfirmed int `json:"seats_confirmed"`
	// WaitlistLength counts the registrations waiting for a place in it.
	WaitlistLength int `json:"waitlist_length"`
	// Confirmed counts the registrations holding places in it.
	Confirmed int `json:"confirmed"`
	// Choices counts every registration that ever chose it: a session
	// with choices cannot be dropped, only cancelled.
	Choices int `json:"choices"`
	// Sequence and ChangedAt rise with every change a calendar shows.
	Sequence  int       `json:"sequence"`
	ChangedAt time.Time `json:"changed_at"`
}

// SeatsLeft is the places still free, nil when unlimited.
func (s *Session) SeatsLeft() *int {
	if s.Capacity == nil {
		return nil
	}
	left := max(*s.Capacity-s.SeatsConfirmed, 0)
	return &left
}

// Fits reports whether a party of n can have places in s now.
func (s *Session) Fits(n int) bool {
	return s.Capacity == nil || s.SeatsConfirmed+n <= *s.Capacity
}

// Overlaps reports whether s and o share a moment (touching ends do not).
func (s *Session) Overlaps(o *Session) bool {
	return s.StartsAt.Before(o.EndsAt) && o.StartsAt.Before(s.EndsAt)
}

// UID is the session's calendar UID: stable as long as the session is.
func (s *Session) UID(host string) string {
	return fmt.Sprintf("session-%d@%s", s.ID, host)
}

// Sessions is an event's sessions in the organiser's order, read as JSON
// with the event (sessionsColumn).
type Sessions []Session

// Scan implements sql.Scanner.
func (ss *Sessions) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		if s, isStr := src.(string); isStr {
			b = []byte(s)
		} else {
			return errors.New("sessions: unsupported type")
		}
	}
	return json.Unmarshal(b, (*[]Session)(ss))
}

// ByKey returns the session with key k, or nil.
func (ss Sessions) ByKey(k string) *Session {
	for i := range ss {
		if ss[i].Key == k {
			return &ss[i]
		}
	}
	return nil
}

// ByID returns the session with id, or nil.
func (ss Sessions) ByID(id int64) *Session {
	for i := range ss {
		if ss[i].ID == id {
			return &ss[i]
		}
	}
	return nil
}

// sessionsColumn reads an event's sessions with their counters in the
// event's own query, so that the sign-up batch has them with the locked
// event and no second round trip. The counters are columns kept by
// triggers on registration_sessions (migration 00036), not counts: a count
// per batch grew with every sign-up of a rush.
const sessionsColumn = `COALESCE((
    SELECT json_agg(json_build_object(
        'id', s.id, 'key', s.key, 'title', s.title, 'description', s.description,
        'starts_at', s.starts_at, 'ends_at', s.ends_at, 'room', s.room, 'capacity', s.capacity,
        'waitlist', s.waitlist, 'status', s.status, 'position', s.position,
        'seats_confirmed', s.seats_confirmed, 'sequence', s.calendar_sequence, 'changed_at', s.calendar_changed_at,
        'waitlist_length', s.waitlist_length, 'confirmed', s.confirmed_count, 'choices', s.choices)
        ORDER BY s.position)
    FROM event_sessions s WHERE s.event_id = e.id), '[]') AS sessions`

// SessionInput is one session as an organiser sends it.
type SessionInput struct {
	Key         string     `json:"key"`
	Title       Texts      `json:"title"`
	Description Texts      `json:"description"`
	StartsAt    *time.Time `json:"starts_at"`
	EndsAt      *time.Time `json:"ends_at"`
	Room        string     `json:"room"`
	Capacity    *int       `json:"capacity"`
	// Waitlist defaults to true.
	Waitlist *bool `json:"waitlist"`
	// Status defaults to the session's current one (active when new).
	Status string `json:"status"`
}

// applySessions replaces e's sessions with in, matched by key so that a
// kept session keeps its id and counters.
func applySessions(e *Event, in []SessionInput) {
	old := e.Sessions
	out := make(Sessions, len(in))
	for i, si := range in {
		s := Session{Key: strings.TrimSpace(si.Key), Waitlist: true, Status: SessionActive}
		if o := old.ByKey(s.Key); o != nil {
			s = *o
		}
		s.Title, s.Description = trimTexts(si.Title), trimTexts(si.Description)
		s.StartsAt, s.EndsAt = time.Time{}, time.Time{}
		if si.StartsAt != nil {
			s.StartsAt = *si.StartsAt
		}
		if si.EndsAt != nil {
			s.EndsAt = *si.EndsAt
		}
		s.Room, s.Capacity = strings.TrimSpace(si.Room), si.Capacity
		s.Waitlist = si.Waitlist == nil || *si.Waitlist
		if st := strings.TrimSpace(si.Status); st != "" {
			s.Status = st
		}
		s.Position = i + 1
		out[i] = s
	}
	e.Sessions = out
}

// checkSessions validates e's sessions against the list stored before
// (old, nil for a new event), naming each bad item as sessions.N.field.
func checkSessions(f apperr.Fields, e *Event, old Sessions) {
	if e.MaxSessions != nil && (*e.MaxSessions < 1 || *e.MaxSessions > MaxSessions) {
		f.Add("max_sessions", "err.range", "Min", 1, "Max", MaxSessions)
	}
	if len(e.Sessions) > MaxSessions {
		f.Add("sessions", "err.sessions_max", "Max", MaxSessions)
		return
	}
	keys := map[string]bool{}
	for i := range e.Sessions {
		s := &e.Sessions[i]
		p := "sessions." + strconv.Itoa(i) + "."
		switch {
		case s.Key == "":
			f.Add(p+"key", "err.required")
		case !questionKeyRE.MatchString(s.Key):
			f.Add(p+"key", "err.question_key")
		case keys[s.Key]:
			f.Add(p+"key", "err.session_key_taken")
		}
		keys[s.Key] = true
		checkTexts(f, p+"title", s.Title, MaxSessionTitle, false)
		checkTexts(f, p+"description", s.Description, MaxSessionDetail, true)
		if s.Title[e.DefaultLang] == "" {
			f.Add(p+"title", "err.label_default_lang")
		}
		switch {
		case s.StartsAt.IsZero():
			f.Add(p+"starts_at", "err.required")
		case !e.StartsAt.IsZero() && s.StartsAt.Before(e.StartsAt):
			f.Add(p+"starts_at", "err.session_outside_event")
		}
		switch {
		case s.EndsAt.IsZero():
			f.Add(p+"ends_at", "err.required")
		case !s.StartsAt.IsZero() && s.EndsAt.Before(s.StartsAt):
			f.Add(p+"ends_at", "err.ends_before_start")
		case !e.EndsAt.IsZero() && s.EndsAt.After(e.EndsAt):
			f.Add(p+"ends_at", "err.session_outside_event")
		}
		if pr := text.Problem(s.Room, MaxSessionRoom); pr != "" {
			f.Add(p+"room", pr, "Max", MaxSessionRoom)
		}
		switch {
		case s.Capacity != nil && (*s.Capacity < 0 || *s.Capacity > 1_000_000):
			f.Add(p+"capacity", "err.range", "Min", 0, "Max", 1_000_000)
		case s.Capacity != nil && *s.Capacity < s.SeatsConfirmed:
			f.Add(p+"capacity", "err.capacity_below_confirmed", "Count", s.SeatsConfirmed)
		}
		switch {
		case s.Status != SessionActive && s.Status != SessionCancelled:
			f.Add(p+"status", "err.choice")
		case s.Status == SessionActive && old.ByKey(s.Key) != nil && old.ByKey(s.Key).Status == SessionCancelled:
			f.Add(p+"status", "err.session_cancelled_final")
		}
	}
	// A session people chose cannot disappear: its choices, check-ins and
	// lists would lose their meaning. It can be cancelled instead.
	for i := range old {
		if old[i].Choices > 0 && !keys[old[i].Key] {
			f.Add("sessions."+strconv.Itoa(i), "err.session_has_registrations", "Key", old[i].Key)
		}
	}
}

// writeSessions stores e's sessions in the transaction that holds the
// event's lock: kept keys are updated (their counters untouched), new ones
// inserted, dropped ones deleted (checkSessions refused dropping any with
// choices).
func writeSessions(ctx context.Context, tx *sqlx.Tx, e *Event) error {
	keys := make([]string, len(e.Sessions))
	for i := range e.Sessions {
		s := &e.Sessions[i]
		keys[i] = s.Key
		err := tx.GetContext(ctx, &s.ID, `
INSERT INTO event_sessions (event_id, key, title, description, starts_at, ends_at, room, capacity, waitlist, status, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (event_id, key) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
    starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, room = EXCLUDED.room,
    capacity = EXCLUDED.capacity, waitlist = EXCLUDED.waitlist, status = EXCLUDED.status,
    position = EXCLUDED.position, updated_at = now()
RETURNING id`, e.ID, s.Key, s.Title, s.Description, s.StartsAt, s.EndsAt, s.Room, s.Capacity, s.Waitlist, s.Status, s.Position)
		if err != nil {
			return fmt.Errorf("save session %q: %w", s.Key, err)
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM event_sessions WHERE event_id = $1 AND NOT key = ANY($2)`, e.ID, pq.Array(keys))
	if err != nil {
		return fmt.Errorf("drop sessions: %w", err)
	}
	return nil
}

// AddSessionSeats changes the confirmed places of sessions by delta each
// (ids and deltas pair up), in one statement; the caller holds the event's
// lock, and the CHECK constraint refuses an oversell.
func AddSessionSeats(ctx context.Context, tx *sqlx.Tx, ids []int64, deltas []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
UPDATE event_sessions s SET seats_confirmed = s.seats_confirmed + d.delta
FROM (SELECT id, sum(delta) AS delta FROM unnest($1::bigint[], $2::int[]) AS u(id, delta) GROUP BY id) d
WHERE s.id = d.id`, pq.Array(ids), pq.Array(deltas))
	if err != nil {
		return fmt.Errorf("change session places: %w", err)
	}
	return nil
}

// SessionChange is what a PATCH did to sessions that the registrations
// must hear of: sessions newly cancelled (their people are told) and
// sessions whose places may have grown (their waitlists move).
type SessionChange struct {
	Cancelled []Session
	Freed     []Session
}

// sessionChange compares the sessions before and after a PATCH.
func sessionChange(before, after Sessions) SessionChange {
	var c SessionChange
	for _, s := range after {
		o := before.ByKey(s.Key)
		if o == nil {
			continue
		}
		if s.Status == SessionCancelled && o.Status != SessionCancelled {
			c.Cancelled = append(c.Cancelled, s)
			continue
		}
		grew := (s.Capacity == nil && o.Capacity != nil) ||
			(s.Capacity != nil && o.Capacity != nil && *s.Capacity > *o.Capacity) ||
			(s.Waitlist != o.Waitlist)
		if s.Status == SessionActive && grew {
			c.Freed = append(c.Freed, s)
		}
	}
	return c
}
