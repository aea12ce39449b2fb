package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/cache"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
)

// Service checks people in.
type Service struct {
	db *sqlx.DB
	// clock is the clock (tests move it with SetClock); nil is time.Now.
	clock func() time.Time
	// changes, when set, lets the service keep the events it looked up in
	// memory until they change (internal/cache); nil reads the event of
	// every scan from the database.
	changes *cache.Watcher
	// secrets derives the ticket codes that a search or a replayed scan
	// shows (the database keeps only their hashes); nil uses the secret
	// generated into the database (development, tests).
	secrets *secret.Source
	srcOnce sync.Once

	prepMu   sync.Mutex
	lookStmt *sqlx.Stmt
	events   *cache.Cache[string, Event]

	// The group commit (batch.go), made on first use, and each of its
	// workers' batcher.
	engOnce  sync.Once
	eng      *scans
	batchers [maxCollectors]batcher
}

// Options are what a Service is built from (New).
type Options struct {
	DB *sqlx.DB
	// Changes keeps looked-up events in memory until they change; nil
	// reads the event of every scan.
	Changes *cache.Watcher
	// Secrets derives the ticket codes a search shows; nil uses the secret
	// generated into the database.
	Secrets *secret.Source
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// New builds the check-in service.
func New(o Options) *Service {
	return &Service{db: o.DB, changes: o.Changes, secrets: o.Secrets, clock: o.Now}
}

// prepare readies the event lookup once: a prepared statement is parsed
// once per connection instead of per scan (docs/performance.md, Check-in).
// Its one parameter is compared with a unique column, so its plan is the
// same whatever the tables hold.
func (s *Service) prepare(ctx context.Context) error {
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if s.lookStmt != nil {
		return nil
	}
	// A failure (the database is down) is tried again on the next call.
	look, err := s.db.PreparexContext(context.WithoutCancel(ctx), lookupSQL)
	if err != nil {
		return apperr.Wrap(err, "prepare event lookup")
	}
	s.lookStmt = look
	s.events = cache.New[string, Event](s.changes, "door_events", 1000, eventTTL, "events", "organisations")
	return nil
}

// eventTTL bounds how long the door believes an event without asking the
// database; a change to the event (cancelled, moved) ends it at once.
const eventTTL = time.Minute

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// Now is the service's clock: time.Now unless a test set another.
func (s *Service) Now() time.Time { return s.now() }

// SetClock replaces the service's clock, for tests that move time on a
// running app (a hold expiring, an event day beginning); call it before the
// requests it should affect.
func (s *Service) SetClock(now func() time.Time) { s.clock = now }

// Event is what the door needs to know of an event.
type Event struct {
	ID       int64     `db:"id"`
	OrgID    int64     `db:"org_id"`
	OrgName  string    `db:"org_name"`
	OrgSlug  string    `db:"org_slug"`
	Slug     string    `db:"slug"`
	Title    string    `db:"title"`
	StartsAt time.Time `db:"starts_at"`
	EndsAt   time.Time `db:"ends_at"`
	Timezone string    `db:"timezone"`
	Status   string    `db:"status"`

	// DefaultLang and DoorQuestions (the questions marked door: true) say
	// which answers a scan shows and how (door.go).
	DefaultLang   string          `db:"default_lang"`
	DoorQuestions event.Questions `db:"door_questions"`
	// TitleLang is the language of Title (the event's default language),
	// marked on the page when it is not the page's.
	TitleLang string `db:"title_lang"`
}

// Location is the event's zone.
func (e *Event) Location() *time.Location {
	return event.Zone(e.Timezone)
}

// Days lists the event's days as YYYY-MM-DD.
func (e *Event) Days() []string {
	first, last := eventDays(e.StartsAt, e.EndsAt, e.Location())
	var out []string
	for d := first; !d.After(last) && len(out) < 60; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(dayLayout))
	}
	return out
}

// Today is the event day of now (which may lie outside the event's days).
func (e *Event) Today(now time.Time) string {
	return EventDay(now, e.StartsAt, e.Location()).Format(dayLayout)
}

const lookupSQL = `
SELECT e.id, e.org_id, o.name AS org_name, o.slug AS org_slug, e.slug, COALESCE(e.title->>e.default_lang, '') AS title, e.default_lang AS title_lang,
       e.starts_at, e.ends_at, e.timezone, e.status, e.default_lang,
       COALESCE((SELECT jsonb_agg(q ORDER BY n) FROM jsonb_array_elements(e.questions) WITH ORDINALITY AS x(q, n)
                 WHERE q->>'door' = 'true'), '[]') AS door_questions
FROM events e JOIN organisations o ON o.id = e.org_id
WHERE e.slug = $1`

func notFound() error { return apperr.New(apperr.NotFound, "err.event_not_found") }

// EventFor loads the event slug for p: door role or higher in the event's
// organisation (a network admin anywhere). Another organisation's event is
// NotFound, as if it did not exist.
func (s *Service) EventFor(ctx context.Context, p *auth.Principal, slug string) (*Event, error) {
	if !p.Can(auth.Door) {
		return nil, apperr.New(apperr.Forbidden, "err.forbidden")
	}
	e, err := s.Lookup(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !p.Admin && e.OrgID != p.OrgID {
		return nil, notFound()
	}
	return e, nil
}

// Lookup loads an event by slug without any check of who asks; the caller
// checks the role in e.OrgSlug.
func (s *Service) Lookup(ctx context.Context, slug string) (*Event, error) {
	if slug == "" || len(slug) > 80 {
		return nil, notFound()
	}
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	if e, ok := s.events.Get(slug); ok {
		return &e, nil
	}
	gen := s.events.Gen()
	var e Event
	err := s.lookStmt.GetContext(ctx, &e, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, apperr.Wrap(err, "checkin event")
	}
	s.events.Add(gen, slug, e)
	return &e, nil
}

// Events lists the events of the organisations in orgIDs that end no
// earlier than yesterday, soonest first: what a door may be opened for.
func (s *Service) Events(ctx context.Context, orgIDs []int64, all bool) ([]Event, error) {
	var out []Event
	err := sqlx.SelectContext(ctx, s.db, &out, `
SELECT e.id, e.org_id, o.name AS org_name, o.slug AS org_slug, e.slug, COALESCE(e.title->>e.default_lang, '') AS title, e.default_lang AS title_lang,
       e.starts_at, e.ends_at, e.timezone, e.status
FROM events e JOIN organisations o ON o.id = e.org_id
WHERE ($2 OR e.org_id = ANY($1)) AND e.status = 'published' AND e.ends_at > $3
ORDER BY e.starts_at, e.id
LIMIT 100`, pq.Array(orgIDs), all, s.now().Add(-24*time.Hour))
	return out, apperr.Wrap(err, "checkin events")
}

// scanRow is what the check-in statement returns for one scan: the
// verdict, the scanned ticket (all NULL for an unknown code), whether the
// scan was logged (false: its scan id was seen before) and, for
// already_checked_in, when and by whom the ticket was checked in.
type scanRow struct {
	Idx        int            `db:"idx"`
	Verdict    string         `db:"verdict"`
	TicketID   sql.NullInt64  `db:"ticket_id"`
	OrgID      sql.NullInt64  `db:"org_id"`
	Name       sql.NullString `db:"name"`
	PartySize  sql.NullInt64  `db:"party_size"`
	Seat       sql.NullInt64  `db:"seat"`
	NewAt      *time.Time     `db:"new_at"`
	Logged     bool           `db:"logged"`
	ExistingAt *time.Time     `db:"-"`
	By         string         `db:"-"`
	Answers    []byte         `db:"answers"`
}

// Scan checks the ticket in.Code in at the door of ev, as p, and logs the
// scan with its verdict in the same statement — together with the scans
// that wait at the same time, in one transaction (batch.go).
func (s *Service) Scan(ctx context.Context, p *auth.Principal, ev *Event, in ScanInput) (*Result, error) {
	if utf8.RuneCountInString(in.ScanID) > 64 {
		return nil, apperr.Field("scan_id", "checkin.err.scan_id_long")
	}
	if in.Code == "" {
		return nil, apperr.Field("code", "err.required")
	}
	// PostgreSQL text cannot hold a NUL; anything else is logged as scanned.
	if strings.ContainsRune(in.Code, 0) {
		return nil, apperr.Field("code", "err.text.control")
	}
	if strings.ContainsRune(in.ScanID, 0) {
		return nil, apperr.Field("scan_id", "err.text.control")
	}
	now := s.now()
	loc := ev.Location()
	day := ev.Today(now)
	dayOK := in.Day == "" || in.Day == day
	first, last := eventDays(ev.StartsAt, ev.EndsAt, loc)
	if d, _ := time.Parse(dayLayout, day); d.Before(first) || d.After(last) {
		dayOK = false
	}
	code := ticketCode(in.Code)
	raw := in.Code
	if utf8.RuneCountInString(raw) > 200 {
		raw = string([]rune(raw)[:200])
	}
	if in.Session != "" {
		if !sessionKeyRE.MatchString(in.Session) {
			return nil, apperr.Field("session", "err.session_unknown", "Key", "")
		}
		return s.scanSession(ctx, p, ev, in, code, day, dayOK, now)
	}
	row, err := s.submit(ctx, scanItem{
		code: code, eventID: ev.ID, day: day, at: now, userID: p.UserID, tokenID: p.TokenID,
		dayOK: dayOK, cancelled: ev.Status == "cancelled", scanID: in.ScanID, raw: raw, clientAt: in.ScannedAt,
	})
	if err != nil {
		return nil, apperr.Wrap(err, "scan")
	}
	if !row.Logged {
		return s.replay(ctx, ev, in.ScanID)
	}
	res := &Result{Result: row.Verdict, Day: day, ScanID: in.ScanID}
	if row.Verdict == Unknown {
		// Another organisation's ticket is as unknown as no ticket.
		return res, nil
	}
	res.Code = code
	res.Attendee = &Attendee{Name: row.Name.String, PartySize: int(row.PartySize.Int64), Seat: int(row.Seat.Int64)}
	res.Attendee.Answers = doorAnswers(ev, row.Answers)
	switch row.Verdict {
	case OK:
		res.CheckedInAt = row.NewAt
	case AlreadyCheckedIn:
		// Read in the batch's transaction by a statement of its own
		// (existingSQL); nil when undone in the meantime.
		res.CheckedInAt, res.By = row.ExistingAt, row.By
	}
	if res.CheckedInAt != nil {
		res.Time = res.CheckedInAt.In(loc).Format("15:04")
	}
	return res, nil
}

// replay answers a scan id seen before with the verdict it got then.
func (s *Service) replay(ctx context.Context, ev *Event, scanID string) (*Result, error) {
	var r struct {
		Verdict   string         `db:"verdict"`
		Day       time.Time      `db:"day"`
		EventID   int64          `db:"event_id"`
		Name      sql.NullString `db:"name"`
		PartySize sql.NullInt64  `db:"party_size"`
		Seat      sql.NullInt64  `db:"seat"`
		Nonce     []byte         `db:"manage_nonce"`
		Answers   []byte         `db:"answers"`
	}
	err := s.db.GetContext(ctx, &r, `
SELECT s.verdict, s.day, s.event_id, r.name, r.party_size, t.seat, r.manage_nonce, r.answers
FROM checkin_scans s
LEFT JOIN tickets t ON t.id = s.ticket_id
LEFT JOIN registrations r ON r.id = t.registration_id
WHERE s.scan_id = $1`, scanID)
	if err != nil {
		return nil, apperr.Wrap(err, "replay scan")
	}
	if r.EventID != ev.ID {
		// A scan id of another event is not this caller's to learn about.
		return nil, apperr.Field("scan_id", "checkin.err.scan_id_used")
	}
	key, err := s.ticketKey(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "replay scan")
	}
	res := &Result{Result: r.Verdict, Day: r.Day.Format(dayLayout), ScanID: scanID, Replayed: true,
		Code: secret.TicketCode(key, r.Nonce, int(r.Seat.Int64))}
	if r.Name.Valid {
		res.Attendee = &Attendee{Name: r.Name.String, PartySize: int(r.PartySize.Int64), Seat: int(r.Seat.Int64)}
		res.Attendee.Answers = doorAnswers(ev, r.Answers)
	}
	return res, nil
}

// UndoInput names the check-in to undo: the ticket's code on a day of an
// event (today's when Day is empty).
type UndoInput struct {
	Code  string `json:"code"`
	Event string `json:"event"`
	Day   string `json:"day"`
}

// Undo withdraws the live check-in of a ticket on a day, so that the ticket
// can be checked in again; it is logged like a scan.
func (s *Service) Undo(ctx context.Context, p *auth.Principal, ev *Event, in UndoInput) (*Result, error) {
	code := ticketCode(in.Code)
	if code == "" {
		return nil, apperr.Field("code", "err.required")
	}
	now := s.now()
	day := in.Day
	if day == "" {
		day = ev.Today(now)
	}
	if _, err := time.Parse(dayLayout, day); err != nil {
		return nil, apperr.Field("day", "checkin.err.day")
	}
	res := &Result{Result: Undone, Day: day, Code: code}
	userID, tokenID := nullID(p.UserID), nullID(p.TokenID)
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var u struct {
			TicketID  int64  `db:"ticket_id"`
			Name      string `db:"name"`
			PartySize int    `db:"party_size"`
			Seat      int    `db:"seat"`
		}
		err := tx.GetContext(ctx, &u, `
WITH tk AS (
    SELECT t.id FROM tickets t WHERE (t.code_hash = $1 OR t.legacy_code_hash = $1) AND t.event_id = $2
), gone AS (
    UPDATE checkins c SET undone_at = $4, undone_by_user_id = $5, undone_by_token_id = $6
    FROM tk WHERE c.ticket_id = tk.id AND c.day = $3 AND c.undone_at IS NULL
    RETURNING c.ticket_id
)
SELECT g.ticket_id, r.name, r.party_size, t.seat
FROM gone g JOIN tickets t ON t.id = g.ticket_id JOIN registrations r ON r.id = t.registration_id`,
			secret.Hash(code), ev.ID, day, now, userID, tokenID)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "checkin.err.not_checked_in")
		}
		if err != nil {
			return fmt.Errorf("undo: %w", err)
		}
		res.Attendee = &Attendee{Name: u.Name, PartySize: u.PartySize, Seat: u.Seat}
		if _, err := tx.ExecContext(ctx, `
UPDATE tickets SET checked_in_at = (SELECT min(checked_in_at) FROM checkins WHERE ticket_id = $1 AND undone_at IS NULL)
WHERE id = $1`, u.TicketID); err != nil {
			return fmt.Errorf("undo first check-in: %w", err)
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO checkin_scans (code, ticket_id, event_id, day, by_user_id, by_token_id, verdict, scanned_at)
VALUES ('', $1, $2, $3, $4, $5, 'undone', $6)`, u.TicketID, ev.ID, day, userID, tokenID, now)
		return apperr.Wrap(err, "log undo")
	})
	if err != nil {
		return nil, apperr.Wrap(err, "undo")
	}
	return res, nil
}

// Counts are the door's live counters for one day.
type Counts struct {
	Day       string `json:"day" db:"-"`
	CheckedIn int    `json:"checked_in" db:"checked_in"`
	Confirmed int    `json:"confirmed" db:"confirmed"`
}

// Count returns how many tickets of ev are checked in on day (today's
// event day when empty) and how many confirmed tickets there are.
func (s *Service) Count(ctx context.Context, ev *Event, day string) (*Counts, error) {
	if day == "" {
		day = ev.Today(s.now())
	}
	if _, err := time.Parse(dayLayout, day); err != nil {
		return nil, apperr.Field("day", "checkin.err.day")
	}
	c := Counts{Day: day}
	err := s.db.GetContext(ctx, &c, `
SELECT (SELECT count(*) FROM checkins WHERE event_id = $1 AND day = $2 AND undone_at IS NULL) AS checked_in,
       (SELECT COALESCE(sum(party_size), 0) FROM registrations
        WHERE event_id = $1 AND status = 'confirmed') AS confirmed`, ev.ID, day)
	if err != nil {
		return nil, apperr.Wrap(err, "count check-ins")
	}
	return &c, nil
}

// Match is a ticket found by name.
type Match struct {
	Attendee
	Code        string     `json:"code" db:"-"`
	CheckedInAt *time.Time `json:"checked_in_at" db:"checked_in_at"`
	Nonce       []byte     `json:"-" db:"manage_nonce"`
}

// Search finds confirmed tickets of ev whose holder's name contains q, with
// their check-in on day (today's when empty); at most 20.
func (s *Service) Search(ctx context.Context, ev *Event, q, day string) ([]Match, error) {
	if day == "" {
		day = ev.Today(s.now())
	}
	if _, err := time.Parse(dayLayout, day); err != nil {
		return nil, apperr.Field("day", "checkin.err.day")
	}
	if utf8.RuneCountInString(q) < 2 || len(q) > 100 {
		return []Match{}, nil
	}
	out := []Match{}
	err := s.db.SelectContext(ctx, &out, `
SELECT r.name, r.party_size, t.seat, r.manage_nonce, c.checked_in_at
FROM tickets t
JOIN registrations r ON r.id = t.registration_id
LEFT JOIN checkins c ON c.ticket_id = t.id AND c.day = $3 AND c.undone_at IS NULL
WHERE t.event_id = $1 AND r.status = 'confirmed' AND strpos(lower(r.name), lower($2)) > 0
ORDER BY r.name, t.seat
LIMIT 20`, ev.ID, q, day)
	if err != nil {
		return nil, apperr.Wrap(err, "search tickets")
	}
	key, err := s.ticketKey(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "search tickets")
	}
	for i := range out {
		out[i].Code = secret.TicketCode(key, out[i].Nonce, out[i].Seat)
	}
	return out, nil
}

// ticketKey is the key that derives ticket codes (internal/secret).
func (s *Service) ticketKey(ctx context.Context) ([]byte, error) {
	s.srcOnce.Do(func() {
		if s.secrets == nil {
			s.secrets = secret.New(s.db, "")
		}
	})
	return s.secrets.Key(ctx, secret.TicketCodes)
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
