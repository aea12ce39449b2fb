package registration

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/event"
)

// sessionsChange is what changeSessions did: whether the choice changed,
// and the sessions whose places came free (their waitlists move once the
// registration row has its new size).
type sessionsChange struct {
	changed bool
	freed   []int64
}

// changeSessions makes the live session choices of r those of chosen
// (indexes into e.Sessions, as checkSessionChoice returns them) when
// replace is set, and gives a confirmed r's places in every session it
// holds one in the party size size. It runs in change's transaction under
// the event's lock, after every field was checked and before anything
// else is written, and is all or nothing with the change: an error rolls
// the whole change back.
//
//   - A session kept keeps its standing (and waitlist place); a confirmed
//     place grows only if the session has room for the new seats (else
//     session_full naming it, whether or not it has a waitlist: growing
//     never trades a place for a waitlist position), and shrinks at once.
//   - A session dropped gives its places back.
//   - A session added is decided as at sign-up (decideSessions): a place
//     when confirmed and it fits, its waitlist's end when not, session_full
//     when full without a waitlist; requested while r is not confirmed.
func (s *Service) changeSessions(ctx context.Context, tx *sqlx.Tx, e *event.Event, r *Registration, replace bool, chosen []int, size int) (sessionsChange, error) {
	var out sessionsChange
	if len(e.Sessions) == 0 {
		return out, nil
	}
	var cur []struct {
		SessionID int64  `db:"session_id"`
		Status    string `db:"status"`
	}
	err := tx.SelectContext(ctx, &cur, `
SELECT session_id, status FROM registration_sessions
WHERE registration_id = $1 AND status <> 'cancelled' FOR UPDATE`, r.ID)
	if err != nil {
		return out, fmt.Errorf("session choices: %w", err)
	}
	want := map[int64]bool{}
	if replace {
		for _, i := range chosen {
			want[e.Sessions[i].ID] = true
		}
	} else {
		for _, c := range cur {
			want[c.SessionID] = true
		}
	}
	held := r.Status == Confirmed
	c := countsOf(e)
	var seatIDs, seatDeltas, dropped []int64
	had := map[int64]bool{}
	for _, ch := range cur {
		had[ch.SessionID] = true
		i := slices.IndexFunc(e.Sessions, func(x event.Session) bool { return x.ID == ch.SessionID })
		if i < 0 || ch.Status != SessionConfirmed {
			if !want[ch.SessionID] {
				dropped = append(dropped, ch.SessionID)
			}
			continue
		}
		ses := &e.Sessions[i]
		delta := size - r.PartySize
		if !want[ch.SessionID] {
			dropped = append(dropped, ch.SessionID)
			delta = -r.PartySize
		}
		if delta > 0 && ses.Capacity != nil && c.seats[i]+delta > *ses.Capacity {
			return out, sessionFull(ses.Key)
		}
		if delta != 0 {
			seatIDs, seatDeltas = append(seatIDs, ses.ID), append(seatDeltas, int64(delta))
		}
		if delta < 0 {
			out.freed = append(out.freed, ses.ID)
		}
	}
	var added []int
	for _, i := range chosen {
		if !had[e.Sessions[i].ID] {
			added = append(added, i)
		}
	}
	planned, err := decideSessions(e, &c, added, size, held)
	if err != nil {
		return out, err
	}
	out.changed = len(dropped) > 0 || len(planned) > 0
	if len(dropped) > 0 {
		if _, err := tx.ExecContext(ctx, `
UPDATE registration_sessions SET status = 'cancelled', updated_at = now()
WHERE registration_id = $1 AND session_id = ANY($2)`, r.ID, pq.Array(dropped)); err != nil {
			return out, fmt.Errorf("drop sessions: %w", err)
		}
	}
	if len(planned) > 0 {
		ids, statuses := make([]int64, len(planned)), make([]string, len(planned))
		for k, p := range planned {
			ids[k], statuses[k] = e.Sessions[p.idx].ID, p.status
			if p.status == SessionConfirmed {
				seatIDs, seatDeltas = append(seatIDs, ids[k]), append(seatDeltas, int64(size))
			}
		}
		// A session chosen before and left meanwhile has its row still: it
		// is chosen anew, at the end of its waitlist if it goes there.
		_, err := tx.ExecContext(ctx, `
INSERT INTO registration_sessions (registration_id, session_id, status)
SELECT $1, u.sess, u.status
FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS u(sess, status, ord)
ORDER BY u.ord
ON CONFLICT (registration_id, session_id) DO UPDATE
SET status = EXCLUDED.status, waitlist_order = EXCLUDED.waitlist_order, updated_at = now()`,
			r.ID, pq.Array(ids), pq.Array(statuses))
		if err != nil {
			return out, fmt.Errorf("add sessions: %w", err)
		}
	}
	if err := event.AddSessionSeats(ctx, tx, seatIDs, seatDeltas); err != nil {
		return out, err
	}
	return out, nil
}
