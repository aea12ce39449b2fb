package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
)

// Sessions of an event (issue 18; the event side is internal/event/sessions.go).
//
// A session's places follow the capacity rule of the event's seats
// (capacity.go), on the session's own counter event_sessions.seats_confirmed
// with its own CHECK constraint, and always under the event row's lock, so
// that the batch, cancellations and promotions of any instance change the
// counters one at a time:
//
//   - Only a confirmed registration holds session places: each chosen
//     session takes party_size places when they fit, else the choice waits
//     on the session's waitlist (in its order), else — no waitlist — the
//     sign-up is refused with session_full and nothing is written.
//   - A registration that is not confirmed (waitlisted, pending) holds its
//     choices as "requested"; they are decided, in the order the event
//     lists them, when it is confirmed (takeSessions).
//   - A place that frees up (the registration cancelled, expired or
//     released, a participant leaving one session, a session's capacity
//     raised) goes, in the same transaction, to the session's waitlist,
//     first fit in order (promoteSessions), and each is told by mail.

// Statuses of a registration's choice of a session.
const (
	SessionRequested  = "requested"
	SessionConfirmed  = "confirmed"
	SessionWaitlisted = "waitlisted"
	SessionCancelled  = "cancelled"
)

// SessionChoice is a registration's choice of one session.
type SessionChoice struct {
	RegistrationID int64  `db:"registration_id"`
	SessionID      int64  `db:"session_id"`
	Key            string `db:"key"`
	Status         string `db:"status"`
	// WaitlistPosition is the 1-based rank on the session's waitlist, 0
	// when not waitlisted.
	WaitlistPosition int `db:"waitlist_position"`
}

// checkSessionChoice checks the sessions a sign-up chose against the event
// and returns their indexes in e.Sessions, in the event's order. Every
// problem is named "sessions", as the form's checkboxes are one field.
func checkSessionChoice(e *event.Event, keys []string, f apperr.Fields) []int {
	if len(keys) == 0 {
		return nil
	}
	var idx []int
	for _, k := range keys {
		k = strings.TrimSpace(k)
		i := slices.IndexFunc(e.Sessions, func(s event.Session) bool { return s.Key == k })
		switch {
		case i < 0:
			f.Add("sessions", "err.session_unknown", "Key", k)
			return nil
		case e.Sessions[i].Status != event.SessionActive:
			f.Add("sessions", "err.session_closed", "Key", k)
			return nil
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	if e.MaxSessions != nil && len(idx) > *e.MaxSessions {
		f.Add("sessions", "err.sessions_choose_max", "Max", *e.MaxSessions)
		return nil
	}
	for a := range idx {
		for b := a + 1; b < len(idx); b++ {
			sa, sb := &e.Sessions[idx[a]], &e.Sessions[idx[b]]
			if sa.Overlaps(sb) {
				f.Add("sessions", "err.session_overlap", "A", sa.Key, "B", sb.Key)
				return nil
			}
		}
	}
	return idx
}

// sessionFull is the refusal of a sign-up whose chosen session is full and
// has no waitlist.
func sessionFull(key string) error {
	return &apperr.Error{Code: apperr.SessionFull, Msg: apperr.M("err.session_full", "Key", key),
		Fields: map[string]apperr.Msg{"sessions": apperr.M("err.session_full", "Key", key)}}
}

// sessionCounts are the counters of an event's sessions as a batch changes
// them, indexed like e.Sessions.
type sessionCounts struct {
	seats    []int
	waitlist []int
}

func countsOf(e *event.Event) sessionCounts {
	c := sessionCounts{seats: make([]int, len(e.Sessions)), waitlist: make([]int, len(e.Sessions))}
	for i := range e.Sessions {
		c.seats[i], c.waitlist[i] = e.Sessions[i].SeatsConfirmed, e.Sessions[i].WaitlistLength
	}
	return c
}

// plannedSession is a new registration's choice as decide made it.
type plannedSession struct {
	idx      int // in e.Sessions
	status   string
	position int
}

// decideSessions decides a party's chosen sessions (indexes into
// e.Sessions) on the counters c, as decide does for the event's seats:
// confirmed where it fits, else waitlisted where the session has a
// waitlist; a full session without one refuses the sign-up, and then c is
// left as it was. hold says whether the registration holds places now
// (confirmed); otherwise every choice is requested, but a session that is
// full with no waitlist refuses all the same, so nobody is told later that
// the workshop they came for was never possible.
func decideSessions(e *event.Event, c *sessionCounts, chosen []int, party int, hold bool) ([]plannedSession, error) {
	if len(chosen) == 0 {
		return nil, nil
	}
	out := make([]plannedSession, len(chosen))
	for k, i := range chosen {
		s := &e.Sessions[i]
		fits := s.Capacity == nil || c.seats[i]+party <= *s.Capacity
		switch {
		case fits && hold:
			out[k] = plannedSession{idx: i, status: SessionConfirmed}
		case fits:
			out[k] = plannedSession{idx: i, status: SessionRequested}
		case !s.Waitlist:
			return nil, sessionFull(s.Key)
		case hold:
			out[k] = plannedSession{idx: i, status: SessionWaitlisted}
		default:
			out[k] = plannedSession{idx: i, status: SessionRequested}
		}
	}
	for k := range out {
		switch out[k].status {
		case SessionConfirmed:
			c.seats[out[k].idx] += party
		case SessionWaitlisted:
			c.waitlist[out[k].idx]++
			out[k].position = c.waitlist[out[k].idx]
		}
	}
	return out, nil
}

// storeSessions writes the choices of a batch's new registrations and the
// sessions' counters, one statement each; the choices are inserted in the
// batch's order, which is their waitlist order.
func storeSessions(ctx context.Context, tx *sqlx.Tx, e *event.Event, p *plan, regs []*Registration) error {
	var regIDs, sessIDs []int64
	var statuses []string
	delta := make([]int64, len(e.Sessions))
	for k := range p.regs {
		r := regs[k]
		for _, ps := range p.regs[k].sessions {
			s := &e.Sessions[ps.idx]
			regIDs, sessIDs, statuses = append(regIDs, r.ID), append(sessIDs, s.ID), append(statuses, ps.status)
			r.Sessions = append(r.Sessions, SessionChoice{RegistrationID: r.ID, SessionID: s.ID, Key: s.Key, Status: ps.status, WaitlistPosition: ps.position})
			if ps.status == SessionConfirmed {
				delta[ps.idx] += int64(r.PartySize)
			}
		}
	}
	if len(regIDs) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO registration_sessions (registration_id, session_id, status)
SELECT u.reg, u.sess, u.status
FROM unnest($1::bigint[], $2::bigint[], $3::text[]) WITH ORDINALITY AS u(reg, sess, status, ord)
ORDER BY u.ord`, pq.Array(regIDs), pq.Array(sessIDs), pq.Array(statuses))
	if err != nil {
		return fmt.Errorf("insert session choices: %w", err)
	}
	var ids, deltas []int64
	for i, d := range delta {
		if d != 0 {
			ids, deltas = append(ids, e.Sessions[i].ID), append(deltas, d)
			e.Sessions[i].SeatsConfirmed += int(d)
		}
	}
	return event.AddSessionSeats(ctx, tx, ids, deltas)
}

// loadSessions sets the session choices of rs (all but the given-up ones),
// in the event's order of sessions, with waitlist positions.
func loadSessions(ctx context.Context, q sqlx.QueryerContext, rs []*Registration) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]int64, len(rs))
	byID := make(map[int64]*Registration, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
		byID[r.ID] = r
		r.Sessions = nil
	}
	var cs []SessionChoice
	err := sqlx.SelectContext(ctx, q, &cs, `
SELECT rs.registration_id, rs.session_id, s.key, rs.status,
       CASE WHEN rs.status = 'waitlisted' THEN (
           SELECT count(*) FROM registration_sessions w
           WHERE w.session_id = rs.session_id AND w.status = 'waitlisted' AND w.waitlist_order <= rs.waitlist_order)
       ELSE 0 END AS waitlist_position
FROM registration_sessions rs
JOIN event_sessions s ON s.id = rs.session_id
WHERE rs.registration_id = ANY($1) AND rs.status <> 'cancelled'
ORDER BY rs.registration_id, s.position`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("load session choices: %w", err)
	}
	for _, c := range cs {
		r := byID[c.RegistrationID]
		r.Sessions = append(r.Sessions, c)
	}
	return nil
}

// takeSessions decides the requested choices of registration r, which has
// just been confirmed on the locked event e: places where they fit, the
// session's waitlist (at its end) where not, given up where the session is
// full without a waitlist or was cancelled meanwhile.
func takeSessions(ctx context.Context, tx *sqlx.Tx, e *event.Event, r *Registration) error {
	var chosen []int64
	err := tx.SelectContext(ctx, &chosen, `
SELECT rs.session_id FROM registration_sessions rs JOIN event_sessions s ON s.id = rs.session_id
WHERE rs.registration_id = $1 AND rs.status = 'requested' ORDER BY s.position`, r.ID)
	if err != nil || len(chosen) == 0 {
		return wrapErr(err, "requested sessions")
	}
	ss, err := sessionRows(ctx, tx, chosen)
	if err != nil {
		return err
	}
	var ids, deltas []int64
	var statuses []string
	for _, s := range ss {
		status := SessionCancelled
		switch {
		case s.Status != event.SessionActive:
		case s.Fits(r.PartySize):
			status = SessionConfirmed
			ids, deltas = append(ids, s.ID), append(deltas, int64(r.PartySize))
		case s.Waitlist:
			status = SessionWaitlisted
		}
		statuses = append(statuses, status)
	}
	sessIDs := make([]int64, len(ss))
	for i, s := range ss {
		sessIDs[i] = s.ID
	}
	// A choice joining a waitlist goes to its end: its order is taken now.
	_, err = tx.ExecContext(ctx, `
UPDATE registration_sessions rs SET status = u.status, updated_at = now(),
    waitlist_order = CASE WHEN u.status = 'waitlisted' THEN nextval('registration_session_waitlist_order') ELSE rs.waitlist_order END
FROM unnest($2::bigint[], $3::text[]) AS u(sess, status)
WHERE rs.registration_id = $1 AND rs.session_id = u.sess`, r.ID, pq.Array(sessIDs), pq.Array(statuses))
	if err != nil {
		return fmt.Errorf("decide sessions: %w", err)
	}
	return event.AddSessionSeats(ctx, tx, ids, deltas)
}

// sessionRows reads sessions by id with their counters as they are now in
// the transaction (the event's copy may be older), in the event's order.
func sessionRows(ctx context.Context, tx *sqlx.Tx, ids []int64) ([]event.Session, error) {
	var rows []struct {
		ID       int64  `db:"id"`
		Key      string `db:"key"`
		Capacity *int   `db:"capacity"`
		Waitlist bool   `db:"waitlist"`
		Status   string `db:"status"`
		Seats    int    `db:"seats_confirmed"`
	}
	err := tx.SelectContext(ctx, &rows, `
SELECT id, key, capacity, waitlist, status, seats_confirmed FROM event_sessions
WHERE id = ANY($1) ORDER BY position`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	out := make([]event.Session, len(rows))
	for i, r := range rows {
		out[i] = event.Session{ID: r.ID, Key: r.Key, Capacity: r.Capacity, Waitlist: r.Waitlist, Status: r.Status, SeatsConfirmed: r.Seats}
	}
	return out, nil
}

// releaseSessions gives up every choice of the registrations ids (being
// cancelled, expired or released) on the locked event e, gives their
// places back and moves the waitlists of those sessions.
func (s *Service) releaseSessions(ctx context.Context, tx *sqlx.Tx, e *event.Event, ids ...int64) error {
	if len(e.Sessions) == 0 || len(ids) == 0 {
		return nil
	}
	var freed []struct {
		SessionID int64 `db:"session_id"`
		Seats     int64 `db:"seats"`
	}
	err := tx.SelectContext(ctx, &freed, `
WITH old AS (
    SELECT rs.registration_id, rs.session_id, rs.status, r.party_size, r.released_at IS NOT NULL AS released
    FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
    WHERE rs.registration_id = ANY($1) AND rs.status <> 'cancelled'
    FOR UPDATE OF rs
), gone AS (
    -- A place given up by a no-show's release still counts as confirmed
    -- in the session's figures (stats.go, migration 00033).
    UPDATE registration_sessions rs SET status = 'cancelled', updated_at = now(),
        released = old.status = 'confirmed' AND old.released
    FROM old WHERE rs.registration_id = old.registration_id AND rs.session_id = old.session_id
)
SELECT session_id, COALESCE(sum(party_size) FILTER (WHERE status = 'confirmed'), 0) AS seats
FROM old GROUP BY session_id`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("release session places: %w", err)
	}
	var sessIDs, deltas []int64
	for _, f := range freed {
		if f.Seats > 0 {
			sessIDs, deltas = append(sessIDs, f.SessionID), append(deltas, -f.Seats)
		}
	}
	if err := event.AddSessionSeats(ctx, tx, sessIDs, deltas); err != nil {
		return err
	}
	return s.promoteSessions(ctx, tx, e, sessIDs)
}

// promoteSessions confirms, in each session's waitlist order, every
// waiting choice whose party fits the free places ("first fit", as
// capacity.go for the event), and mails each promoted registration once.
// The caller holds the event's lock.
func (s *Service) promoteSessions(ctx context.Context, tx *sqlx.Tx, e *event.Event, sessIDs []int64) error {
	if len(sessIDs) == 0 || e.Status == event.Cancelled {
		return nil
	}
	ss, err := sessionRows(ctx, tx, sessIDs)
	if err != nil {
		return err
	}
	promotedKeys := map[int64][]string{}
	var order []int64
	for _, ses := range ss {
		if ses.Status != event.SessionActive || (ses.Capacity != nil && ses.SeatsConfirmed >= *ses.Capacity) {
			continue
		}
		var wl []struct {
			RegistrationID int64 `db:"registration_id"`
			PartySize      int   `db:"party_size"`
		}
		err := tx.SelectContext(ctx, &wl, `
SELECT rs.registration_id, r.party_size FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
WHERE rs.session_id = $1 AND rs.status = 'waitlisted' AND r.status = 'confirmed'
ORDER BY rs.waitlist_order`, ses.ID)
		if err != nil {
			return fmt.Errorf("read session waitlist: %w", err)
		}
		var regIDs []int64
		took := 0
		for _, w := range wl {
			if ses.Capacity != nil && ses.SeatsConfirmed+took+w.PartySize > *ses.Capacity {
				continue
			}
			took += w.PartySize
			regIDs = append(regIDs, w.RegistrationID)
			if promotedKeys[w.RegistrationID] == nil {
				order = append(order, w.RegistrationID)
			}
			promotedKeys[w.RegistrationID] = append(promotedKeys[w.RegistrationID], ses.Key)
		}
		if len(regIDs) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE registration_sessions SET status = 'confirmed', updated_at = now()
WHERE session_id = $1 AND registration_id = ANY($2)`, ses.ID, pq.Array(regIDs)); err != nil {
			return fmt.Errorf("promote session waitlist: %w", err)
		}
		if err := event.AddSessionSeats(ctx, tx, []int64{ses.ID}, []int64{int64(took)}); err != nil {
			return err
		}
	}
	if len(order) == 0 || s.mailer == nil {
		return nil
	}
	var rs []*Registration
	if err := tx.SelectContext(ctx, &rs, selectRegistration+` WHERE r.id = ANY($1) AND r.email <> '' ORDER BY r.id`, pq.Array(order)); err != nil {
		return fmt.Errorf("promoted registrations: %w", err)
	}
	for _, r := range rs {
		r.PromotedSessions = promotedKeys[r.ID]
	}
	return s.mail(ctx, tx, Notice{Kind: MailSessionPromoted, Event: e, Registrations: rs})
}

// SessionsChanged is event.Service's hook for a PATCH of sessions, in its
// transaction under the event's lock: the people of a newly cancelled
// session are told, and the waitlists of sessions with more room move.
func (s *Service) SessionsChanged(ctx context.Context, tx *sqlx.Tx, e *event.Event, c event.SessionChange) error {
	for _, ses := range c.Cancelled {
		if s.mailer == nil {
			break
		}
		var rs []*Registration
		err := tx.SelectContext(ctx, &rs, selectRegistration+`
JOIN registration_sessions rs ON rs.registration_id = r.id
WHERE rs.session_id = $1 AND rs.status IN ('confirmed', 'waitlisted', 'requested')
  AND r.status IN ('confirmed', 'waitlisted', 'pending') AND r.email <> ''
ORDER BY r.id`, ses.ID)
		if err != nil {
			return fmt.Errorf("people of a cancelled session: %w", err)
		}
		for _, r := range rs {
			r.PromotedSessions = []string{ses.Key}
		}
		if err := s.mail(ctx, tx, Notice{Kind: MailSessionCancelled, Event: e, Registrations: rs}); err != nil {
			return err
		}
	}
	ids := make([]int64, len(c.Freed))
	for i := range c.Freed {
		ids[i] = c.Freed[i].ID
	}
	return s.promoteSessions(ctx, tx, e, ids)
}

// LeaveSession gives up one session of the registration behind a manage
// token: its places go to the session's waitlist in the same transaction.
// Leaving twice is harmless; a session never chosen is a 404.
func (s *Service) LeaveSession(ctx context.Context, token, key string) (*Registration, error) {
	return s.byTokenLocked(ctx, token, "leave session", func(tx *sqlx.Tx, e *event.Event, r *Registration) error {
		ses := e.Sessions.ByKey(key)
		if ses == nil {
			return apperr.New(apperr.NotFound, "err.session_not_chosen")
		}
		var status string
		err := tx.GetContext(ctx, &status, `
SELECT status FROM registration_sessions WHERE registration_id = $1 AND session_id = $2 FOR UPDATE`, r.ID, ses.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "err.session_not_chosen")
		}
		if err != nil {
			return fmt.Errorf("session choice: %w", err)
		}
		if status == SessionCancelled {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE registration_sessions SET status = 'cancelled', updated_at = now()
WHERE registration_id = $1 AND session_id = $2`, r.ID, ses.ID); err != nil {
			return fmt.Errorf("leave session: %w", err)
		}
		if status != SessionConfirmed {
			return nil
		}
		if err := event.AddSessionSeats(ctx, tx, []int64{ses.ID}, []int64{-int64(r.PartySize)}); err != nil {
			return err
		}
		return s.promoteSessions(ctx, tx, e, []int64{ses.ID})
	})
}

func wrapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Choice returns r's live choice of the session with key, or nil.
func (r *Registration) Choice(key string) *SessionChoice {
	for i := range r.Sessions {
		if r.Sessions[i].Key == key {
			return &r.Sessions[i]
		}
	}
	return nil
}

// sessionsCell is a registration's sessions as one export cell: the keys,
// each with its standing unless it holds a place ("ws1, ws2 (waitlist 3)").
func sessionsCell(r *Registration) any {
	if len(r.Sessions) == 0 {
		return nil
	}
	parts := make([]string, len(r.Sessions))
	for i, c := range r.Sessions {
		switch c.Status {
		case SessionWaitlisted:
			parts[i] = fmt.Sprintf("%s (waitlist %d)", c.Key, c.WaitlistPosition)
		case SessionRequested:
			parts[i] = c.Key + " (requested)"
		default:
			parts[i] = c.Key
		}
	}
	return strings.Join(parts, ", ")
}

// SessionExportColumns follow the event's columns in a session's own list.
var SessionExportColumns = []string{"session_status", "session_waitlist_position"}

// SessionTable is the list of the session key of event e for
// spreadsheets: the event's columns for each registration in rs that chose
// it, then its standing in the session.
func (s *Service) SessionTable(ctx context.Context, e *event.Event, rs []*Registration, key string) (*Table, error) {
	var chose []*Registration
	for _, r := range rs {
		if r.Choice(key) != nil {
			chose = append(chose, r)
		}
	}
	t, err := s.ExportTable(ctx, e, chose)
	if err != nil {
		return nil, err
	}
	t.Header = append(t.Header, SessionExportColumns...)
	for i, r := range chose {
		c := r.Choice(key)
		var pos any
		if c.Status == SessionWaitlisted {
			pos = c.WaitlistPosition
		}
		t.Rows[i] = append(t.Rows[i], c.Status, pos)
	}
	return t, nil
}
