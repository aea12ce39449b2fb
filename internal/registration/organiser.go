package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
)

// Statuses lists every registration status, in the order lists show them.
var Statuses = []string{Confirmed, Waitlisted, Pending, Applied, Declined, Cancelled, Expired}

// AttendeeFilter narrows an attendee list. Empty fields do not filter.
type AttendeeFilter struct {
	// Query matches a part of the name or the email address, in any case.
	Query  string
	Status string
	// Session keeps the registrations that chose the session with this
	// key (and hold or wait for a place in it, or request it).
	Session string
}

// Counts are an event's figures for its organisers.
type Counts struct {
	Confirmed       int // parties
	SeatsConfirmed  int // people in them
	Waitlisted      int
	WaitlistedSeats int
	Pending         int
	SeatsHeld       int // seats the pending hold (docs/access.md)
	Cancelled       int // cancelled or expired
	Applied         int // applications waiting for a decision (approval.go)
	Declined        int
	CheckedIn       int // tickets of confirmed registrations checked in
}

// Attendees is an event's attendee list as organisers see it.
type Attendees struct {
	// Registrations match the filter, oldest first.
	Registrations []*Registration
	// Counts are over every registration, whatever the filter.
	Counts Counts
	// All is how many registrations the event has.
	All int
}

// Attendees returns the event's registrations that match f, and the
// event's counts. Filtering happens here rather than in SQL so that
// waitlist positions stay the event's, not the filtered list's.
func (s *Service) Attendees(ctx context.Context, eventID int64, f AttendeeFilter) (*Attendees, error) {
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return nil, apperr.Field("status", "err.choice")
	}
	rs, err := s.ListForEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	out := &Attendees{All: len(rs)}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	for _, r := range rs {
		out.Counts.add(r)
		if f.Status != "" && r.Status != f.Status {
			continue
		}
		if f.Session != "" && r.Choice(f.Session) == nil {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(r.Name), q) && !strings.Contains(strings.ToLower(r.Email), q) {
			continue
		}
		out.Registrations = append(out.Registrations, r)
	}
	return out, nil
}

func (c *Counts) add(r *Registration) {
	switch r.Status {
	case Confirmed:
		c.Confirmed++
		c.SeatsConfirmed += r.PartySize
		for _, t := range r.Tickets {
			if t.CheckedInAt != nil {
				c.CheckedIn++
			}
		}
	case Waitlisted:
		c.Waitlisted++
		c.WaitlistedSeats += r.PartySize
	case Pending:
		c.Pending++
		c.SeatsHeld += r.SeatsHeld
	case Cancelled, Expired:
		c.Cancelled++
	case Applied:
		c.Applied++
	case Declined:
		c.Declined++
	}
}

// ofEvent loads a registration and makes sure it belongs to eventID; one of
// another event is NotFound, as if it did not exist.
func ofEvent(ctx context.Context, q sqlx.QueryerContext, eventID, regID int64, lock bool) (*Registration, error) {
	var r Registration
	query := selectRegistration + ` WHERE r.id = $1 AND r.event_id = $2`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	err := sqlx.GetContext(ctx, q, &r, query, regID, eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.registration_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("get registration %d: %w", regID, err)
	}
	return &r, loadTickets(ctx, q, []*Registration{&r})
}

// CancelByOrganiser cancels a registration of the event for its
// organisers: the same transaction as a self-service cancellation (seats
// freed, waitlist moved up, the person told).
func (s *Service) CancelByOrganiser(ctx context.Context, eventID, regID int64) (*Registration, error) {
	r, err := ofEvent(ctx, s.db, eventID, regID, false)
	if err == nil {
		err = s.reveal(ctx, r)
	}
	if err != nil {
		return nil, apperr.Wrap(err, "cancel by organiser")
	}
	return s.Cancel(ctx, r.ManageToken)
}

// ofEventLocked runs fn in one transaction that holds the lock of event
// eventID (as sign-ups take it), with its registration regID and the keys
// of its links, and then reads the registration back with its links. op
// names the work in errors. For organisers' actions on one registration.
func (s *Service) ofEventLocked(ctx context.Context, eventID, regID int64, op string, fn func(tx *sqlx.Tx, k keys, e *event.Event, r *Registration) error) (*Registration, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, op)
	}
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.LockByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		r, err := ofEvent(ctx, tx, eventID, regID, true)
		if err != nil {
			return err
		}
		return fn(tx, k, e, r)
	})
	if err != nil {
		return nil, apperr.Wrap(err, op)
	}
	r, err := getByID(ctx, s.db, regID)
	if err == nil {
		k.reveal(r)
	}
	return r, apperr.Wrap(err, "read registration")
}

// MoveUp confirms a waitlisted party by hand when its seats are free. The
// waitlist moves by itself whenever seats free up, so this matters when an
// organiser wants a particular party in first after raising the capacity
// with the waitlist off, or on an event that is not published; a party that
// does not fit is refused with the number of free seats, never squeezed in.
func (s *Service) MoveUp(ctx context.Context, eventID, regID int64) (*Registration, error) {
	return s.ofEventLocked(ctx, eventID, regID, "move up", func(tx *sqlx.Tx, k keys, e *event.Event, r *Registration) error {
		if r.Status != Waitlisted {
			return apperr.New(apperr.Conflict, "err.move_up_not_waitlisted")
		}
		if e.Status == event.Cancelled {
			return apperr.New(apperr.Conflict, "err.closed_cancelled")
		}
		if !fits(e, r.PartySize) {
			return apperr.New(apperr.Conflict, "err.move_up_no_room", "Free", *e.SeatsLeft(), "Party", r.PartySize)
		}
		if err := setStatus(ctx, tx, r.ID, Confirmed); err != nil {
			return err
		}
		var err error
		if r.Tickets, err = confirmSeats(ctx, tx, k, e, r, r.PartySize); err != nil {
			return err
		}
		if err := takeSessions(ctx, tx, e, r); err != nil {
			return err
		}
		r.Status, r.WaitlistPosition = Confirmed, 0
		return s.mail(ctx, tx, Notice{Kind: MailPromoted, Event: e, Registrations: []*Registration{r}})
	})
}

// ResendConfirmation writes the registration's confirmation (or waitlist
// notice) into the outbox again, with the same manage link and tickets,
// for someone who lost the first one; a pending registration gets a new
// confirmation link.
func (s *Service) ResendConfirmation(ctx context.Context, eventID, regID int64) error {
	if s.mailer == nil {
		return apperr.New(apperr.Unavailable, "err.mail_not_configured")
	}
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.GetByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		r, err := ofEvent(ctx, tx, eventID, regID, false)
		if err != nil {
			return err
		}
		var kind string
		switch r.Status {
		case Confirmed:
			kind = MailConfirmed
		case Waitlisted:
			kind = MailWaitlisted
		case Pending:
			// The link's secret is kept only hashed, so a resend is a new
			// link; the old one stops working. The hold keeps its expiry.
			kind, r.ConfirmToken = MailConfirmEmail, newSecret()
			res, err := tx.ExecContext(ctx, `UPDATE registrations SET confirm_token_hash = $2 WHERE id = $1 AND status = 'pending'`, r.ID, secret.Hash(r.ConfirmToken))
			if err != nil {
				return fmt.Errorf("new confirmation link: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return apperr.New(apperr.Conflict, "err.resend_not_live")
			}
		default:
			return apperr.New(apperr.Conflict, "err.resend_not_live")
		}
		return s.mail(ctx, tx, Notice{Kind: kind, Event: e, Registrations: []*Registration{r}})
	})
	return apperr.Wrap(err, "resend confirmation")
}
