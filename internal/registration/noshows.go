package registration

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
)

// MailReleased tells a confirmed participant who was not checked in that
// their place was given away (ReleaseNoShows).
const MailReleased = "released"

// MaxReleaseAfter bounds after_minutes: a week.
const MaxReleaseAfter = 7 * 24 * 60

// noShow is the condition on registrations r of the event $1 that a
// release gives away: confirmed, and no ticket checked in.
const noShow = `r.event_id = $1 AND r.status = 'confirmed'
      AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.registration_id = r.id AND t.checked_in_at IS NOT NULL)`

// ReleaseNoShows gives away the places of those who did not come: once the
// event eventID has been running for afterMinutes, every confirmed
// registration none of whose tickets is checked in is cancelled (marked
// released, so that the figures still count it as a no-show), its seats
// are freed, the waitlist moves up in its order (the same promote as a
// cancellation), and each released person with an address is mailed; all
// in one transaction on the locked event. It returns how many
// registrations it released. Before the time it is a conflict that says
// from when; a cancelled event has nothing to release.
func (s *Service) ReleaseNoShows(ctx context.Context, eventID int64, afterMinutes *int) (int, error) {
	if err := checkReleaseAfter(afterMinutes); err != nil {
		return 0, err
	}
	n := 0
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.LockByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		if e.Status != event.Published {
			return apperr.New(apperr.Conflict, "err.closed_cancelled")
		}
		now := s.now()
		from := e.StartsAt.Add(time.Duration(*afterMinutes) * time.Minute)
		if now.Before(from) {
			return apperr.New(apperr.Conflict, "err.release_too_early",
				"Time", from.In(e.Location()).Format("02.01.2006 15:04"))
		}
		var ids []int64
		var seats int
		err = tx.QueryRowxContext(ctx, `
WITH gone AS (
    UPDATE registrations r SET status = 'cancelled', cancelled_at = $2, released_at = $2, updated_at = now()
    WHERE `+noShow+`
    RETURNING r.id, r.party_size
)
SELECT COALESCE(array_agg(id ORDER BY id), '{}'), COALESCE(sum(party_size), 0) FROM gone`, e.ID, now).
			Scan(pq.Array(&ids), &seats)
		if err != nil {
			return fmt.Errorf("release no-shows: %w", err)
		}
		n = len(ids)
		// The audit entry written in this transaction says how many.
		database.Note(ctx, "released", n)
		if n == 0 {
			return nil
		}
		if err := event.AddSeats(ctx, tx, e.ID, -seats); err != nil {
			return err
		}
		e.SeatsConfirmed -= seats
		if err := s.releaseSessions(ctx, tx, e, ids...); err != nil {
			return err
		}
		if s.mailer != nil {
			var rs []*Registration
			if err := tx.SelectContext(ctx, &rs, selectRegistration+` WHERE r.id = ANY($1) AND r.email <> '' ORDER BY r.id`, pq.Array(ids)); err != nil {
				return fmt.Errorf("released registrations: %w", err)
			}
			if err := s.mail(ctx, tx, Notice{Kind: MailReleased, Event: e, Registrations: rs}); err != nil {
				return err
			}
		}
		return s.promote(ctx, tx, e)
	})
	if err != nil {
		return 0, apperr.Wrap(err, "release no-shows")
	}
	return n, nil
}

func checkReleaseAfter(afterMinutes *int) error {
	if afterMinutes == nil {
		return apperr.Field("after_minutes", "err.required")
	}
	if *afterMinutes < 0 || *afterMinutes > MaxReleaseAfter {
		return apperr.Field("after_minutes", "err.release_after_range", "Max", MaxReleaseAfter)
	}
	return nil
}

// NoShows is what ReleaseNoShows would give away now: the confirmed
// registrations of which no ticket is checked in, and their persons; From
// is when the release may run (the start plus the minutes), TooEarly
// whether that is still to come. The organisers' confirmation step shows
// it; the release itself decides again, under the event's lock.
type NoShows struct {
	Parties, Persons int
	From             time.Time
	TooEarly         bool
}

// NoShowsOf counts the no-shows of the event e for a release afterMinutes
// after its start, without changing anything.
func (s *Service) NoShowsOf(ctx context.Context, e *event.Event, afterMinutes *int) (*NoShows, error) {
	if err := checkReleaseAfter(afterMinutes); err != nil {
		return nil, err
	}
	out := &NoShows{From: e.StartsAt.Add(time.Duration(*afterMinutes) * time.Minute)}
	out.TooEarly = s.now().Before(out.From)
	err := s.db.QueryRowxContext(ctx, `
SELECT count(*), COALESCE(sum(r.party_size), 0) FROM registrations r WHERE `+noShow, e.ID).
		Scan(&out.Parties, &out.Persons)
	if err != nil {
		return nil, apperr.Wrap(err, "count no-shows")
	}
	return out, nil
}
