package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/database"
	"treffpunkt/internal/secret"
)

// NotInSession is the verdict of a scan at a session's door (issue 18) for a
// ticket whose holder has no place in that session: they did not choose it,
// left it, or still wait for a place.
const NotInSession = "not_in_session"

// sessionKeyRE is the form of a session's key (internal/event); anything
// else names no session and is refused before the database sees it.
var sessionKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// A session's door admits each ticket once per session, whatever the day
// (a session is one span): the primary key of session_checkins decides,
// for any number of scanners and instances. Session scans are rarer than
// the hall's and go one transaction each rather than through the batch.

// scanSession checks the ticket code in at the door of the session key of
// ev and logs the scan, in one transaction.
func (s *Service) scanSession(ctx context.Context, p *auth.Principal, ev *Event, in ScanInput, code, day string, dayOK bool, now time.Time) (*Result, error) {
	res := &Result{Day: day, ScanID: in.ScanID}
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var ses struct {
			ID     int64  `db:"id"`
			Status string `db:"status"`
		}
		err := tx.GetContext(ctx, &ses, `SELECT id, status FROM event_sessions WHERE event_id = $1 AND key = $2`, ev.ID, in.Session)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.Field("session", "err.session_unknown", "Key", in.Session)
		}
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		if in.ScanID != "" {
			var seen bool
			if err := tx.GetContext(ctx, &seen, `SELECT EXISTS (SELECT 1 FROM checkin_scans WHERE scan_id = $1)`, in.ScanID); err != nil {
				return fmt.Errorf("scan id: %w", err)
			}
			if seen {
				res.Replayed = true
				return nil
			}
		}
		var t struct {
			TicketID  int64          `db:"ticket_id"`
			EventID   int64          `db:"event_id"`
			OrgID     int64          `db:"org_id"`
			Status    string         `db:"status"`
			Name      string         `db:"name"`
			PartySize int            `db:"party_size"`
			Seat      int            `db:"seat"`
			Answers   []byte         `db:"answers"`
			Choice    sql.NullString `db:"choice"`
		}
		err = tx.GetContext(ctx, &t, `
SELECT tk.id AS ticket_id, tk.event_id, e.org_id, r.status, r.name, r.party_size, tk.seat, r.answers, rs.status AS choice
FROM tickets tk
JOIN registrations r ON r.id = tk.registration_id
JOIN events e ON e.id = tk.event_id
LEFT JOIN registration_sessions rs ON rs.registration_id = r.id AND rs.session_id = $2
WHERE tk.id = COALESCE((SELECT id FROM tickets WHERE code_hash = $1), (SELECT id FROM tickets WHERE legacy_code_hash = $1))`,
			secret.Hash(code), ses.ID)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("session ticket: %w", err)
		}
		switch {
		case !found || t.OrgID != ev.OrgID:
			res.Result = Unknown
		case t.EventID != ev.ID:
			res.Result = WrongEvent
		case t.Status != "confirmed" || ev.Status == "cancelled" || ses.Status != "active":
			res.Result = Cancelled
		case !dayOK:
			res.Result = NotToday
		case t.Choice.String != "confirmed":
			res.Result = NotInSession
		default:
			var at time.Time
			err := tx.GetContext(ctx, &at, `
INSERT INTO session_checkins (ticket_id, session_id, checked_in_at) VALUES ($1, $2, $3)
ON CONFLICT (ticket_id, session_id) DO NOTHING RETURNING checked_in_at`, t.TicketID, ses.ID, now)
			switch {
			case err == nil:
				res.Result, res.CheckedInAt = OK, &at
			case errors.Is(err, sql.ErrNoRows):
				res.Result = AlreadyCheckedIn
				if err := tx.GetContext(ctx, &at, `SELECT checked_in_at FROM session_checkins WHERE ticket_id = $1 AND session_id = $2`, t.TicketID, ses.ID); err != nil {
					return fmt.Errorf("session check-in: %w", err)
				}
				res.CheckedInAt = &at
			default:
				return fmt.Errorf("session check-in: %w", err)
			}
		}
		raw, ticket := "", sql.NullInt64{Int64: t.TicketID, Valid: found && res.Result != Unknown}
		if !ticket.Valid {
			raw = in.Code
			if len([]rune(raw)) > 200 {
				raw = string([]rune(raw)[:200])
			}
		}
		if res.Result != Unknown {
			res.Code = code
			res.Attendee = &Attendee{Name: t.Name, PartySize: t.PartySize, Seat: t.Seat}
			res.Attendee.Answers = doorAnswers(ev, t.Answers)
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO checkin_scans (scan_id, code, ticket_id, event_id, day, by_user_id, by_token_id, verdict, scanned_at, client_at, session_id)
VALUES (NULLIF($1, ''), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			in.ScanID, raw, ticket, ev.ID, day, nullID(p.UserID), nullID(p.TokenID), res.Result, now, in.ScannedAt, ses.ID)
		if err != nil {
			return fmt.Errorf("log session scan: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "scan session")
	}
	if res.Replayed {
		return s.replay(ctx, ev, in.ScanID)
	}
	if res.CheckedInAt != nil {
		res.Time = res.CheckedInAt.In(ev.Location()).Format("15:04")
	}
	return res, nil
}
