package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
)

// byConfirmToken returns the registration behind a confirmation link.
func byConfirmToken(ctx context.Context, q sqlx.QueryerContext, token string) (*Registration, error) {
	var r Registration
	err := sqlx.GetContext(ctx, q, &r, selectRegistration+` WHERE r.confirm_token_hash = $1`, secret.Hash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.confirm_link_invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("registration by confirmation link: %w", err)
	}
	return &r, nil
}

// ByConfirmToken returns the pending registration behind a confirmation
// link, for the page that asks to confirm; it changes nothing (mail
// scanners open links). A link that was used or has expired is a 404.
func (s *Service) ByConfirmToken(ctx context.Context, token string) (*Registration, error) {
	r, err := byConfirmToken(ctx, s.db, token)
	if err == nil && r.HoldExpiresAt != nil && !s.now().Before(*r.HoldExpiresAt) {
		err = apperr.New(apperr.Closed, "err.hold_expired")
	}
	return r, apperr.Wrap(err, "confirmation link")
}

// Confirm follows a confirmation link: in one transaction, under the event's
// lock, the pending registration becomes confirmed (its held seats become
// tickets) or, when it held none, confirmed if its party fits now and else
// waitlisted. A link past its hold is refused with 410; the expiry job
// releases its seats.
func (s *Service) Confirm(ctx context.Context, token string) (*Registration, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "confirm")
	}
	r, err := byConfirmToken(ctx, s.db, token)
	if err != nil {
		return nil, apperr.Wrap(err, "confirm")
	}
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.LockByID(ctx, tx, r.EventID)
		if err != nil {
			return err
		}
		// Re-read under the event's lock (event first, then registration).
		if r, err = byConfirmToken(ctx, tx, token); err != nil {
			return err
		}
		if r.Status != Pending {
			return apperr.New(apperr.NotFound, "err.confirm_link_invalid")
		}
		if r.HoldExpiresAt != nil && !s.now().Before(*r.HoldExpiresAt) {
			return apperr.New(apperr.Closed, "err.hold_expired")
		}
		if e.Status == event.Cancelled {
			return apperr.New(apperr.Closed, "err.closed_cancelled")
		}
		status, kind := Confirmed, MailConfirmed
		if e.Approval && r.SeatsHeld == 0 {
			// The address is proven; the selection decides the seat.
			status, kind = Applied, MailApplied
		} else if r.SeatsHeld == 0 {
			switch seatStatus(e, r.PartySize) {
			case Confirmed:
				if err := event.AddSeats(ctx, tx, e.ID, r.PartySize); err != nil {
					return err
				}
				e.SeatsConfirmed += r.PartySize
			case Waitlisted:
				status, kind = Waitlisted, MailWaitlisted
			default:
				return apperr.New(apperr.Full, "err.full")
			}
		}
		if err := setStatus(ctx, tx, r.ID, status); err != nil {
			return err
		}
		// The link was followed: the address is its owner's, and the
		// organisers may see it.
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET address_unconfirmed = false WHERE id = $1`, r.ID); err != nil {
			return fmt.Errorf("address confirmed: %w", err)
		}
		if status == Confirmed {
			// The seats are counted already (held, or added just above).
			if r.Tickets, err = insertTickets(ctx, tx, k, r, e.ID, r.PartySize); err != nil {
				return err
			}
			if err := takeSessions(ctx, tx, e, r); err != nil {
				return err
			}
		} else if status == Waitlisted {
			r.WaitlistPosition = e.WaitlistLength + 1
		}
		r.Status = status
		return s.mail(ctx, tx, Notice{Kind: kind, Event: e, Registrations: []*Registration{r}})
	})
	if err != nil {
		return nil, apperr.Wrap(err, "confirm")
	}
	out, err := getByID(ctx, s.db, r.ID)
	if err == nil {
		k.reveal(out)
	}
	return out, apperr.Wrap(err, "read registration")
}

// ExpireHolds expires the pending registrations whose hold has run out, at
// most limit events' worth per call, and returns how many it expired. Each
// event is one transaction: lock the event, claim its expired holds (rows
// another instance is expiring are skipped, never waited for), release
// their seats, tell each person, and settle the waitlist.
func (s *Service) ExpireHolds(ctx context.Context, limit int) (int, error) {
	now := s.now()
	var eventIDs []int64
	err := s.db.SelectContext(ctx, &eventIDs, `
SELECT DISTINCT event_id FROM registrations
WHERE status = 'pending' AND hold_expires_at <= $1
LIMIT $2`, now, limit)
	if err != nil {
		return 0, apperr.Wrap(fmt.Errorf("find expired holds: %w", err), "expire holds")
	}
	total := 0
	for _, id := range eventIDs {
		err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
			e, err := event.LockByID(ctx, tx, id)
			if err != nil {
				return err
			}
			var rs []*Registration
			err = tx.SelectContext(ctx, &rs, selectRegistration+`
WHERE r.event_id = $1 AND r.status = 'pending' AND r.hold_expires_at <= $2
ORDER BY r.id
FOR NO KEY UPDATE OF r SKIP LOCKED`, id, now)
			if err != nil {
				return fmt.Errorf("claim expired holds: %w", err)
			}
			for _, r := range rs {
				if err := releaseSeats(ctx, tx, e, r); err != nil {
					return err
				}
				if err := setStatus(ctx, tx, r.ID, Expired); err != nil {
					return err
				}
				r.Status = Expired
				if err := s.releaseSessions(ctx, tx, e, r.ID); err != nil {
					return err
				}
			}
			if err := s.mail(ctx, tx, Notice{Kind: MailHoldExpired, Event: e, Registrations: rs}); err != nil {
				return err
			}
			total += len(rs)
			return s.promote(ctx, tx, e)
		})
		if err != nil {
			return total, apperr.Wrap(err, "expire holds")
		}
	}
	return total, nil
}
