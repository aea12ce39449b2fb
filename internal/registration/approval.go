package registration

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
)

// Selection by approval (issue 19, docs/organisers.md): on an event with
// Approval every sign-up is an application (Applied) that takes no seat.
// An organiser approves it under the event's lock, exactly as a sign-up
// takes seats (capacity.go): confirmed when the party fits, else
// waitlisted when the event has a waitlist, else refused as full with
// nothing changed. The seat counter's CHECK constraint has the last word,
// so approvals racing on several instances never overfill the event.

// MaxApproveBatch is how many applications one batch approval may name.
const MaxApproveBatch = 500

// Approval is the outcome of a batch approval.
type Approval struct {
	// Approved are the registrations approved, in the order asked.
	Approved []*Registration
	// StoppedAt is the application that no longer fitted (left applied,
	// as are the ones after it); 0 when every one was approved.
	StoppedAt int64
	// Skipped are ids that were no longer applications (approved or
	// declined before), passed over.
	Skipped []int64
}

// Approve approves one application of the event: 200 with the
// registration confirmed or waitlisted, or a Full error with nothing
// changed. Approving a registration that is already confirmed or
// waitlisted answers it as it is (a retry changes nothing); any other
// status is a conflict.
func (s *Service) Approve(ctx context.Context, eventID, regID int64) (*Registration, error) {
	return s.ofEventLocked(ctx, eventID, regID, "approve", func(tx *sqlx.Tx, k keys, e *event.Event, r *Registration) error {
		switch r.Status {
		case Applied:
		case Confirmed, Waitlisted:
			return nil
		default:
			return apperr.New(apperr.Conflict, "err.approval.not_applied")
		}
		ok, err := s.approve(ctx, tx, k, e, r, true)
		if err == nil && !ok {
			err = apperr.New(apperr.Full, "err.full")
		}
		return err
	})
}

// ApproveMany approves the applications ids of the event in the given
// order, in one transaction under the event's lock, and stops at the first
// whose party does not fit the free places: that one and the rest stay
// applications (a batch never fills the waitlist; approve one by one for
// that). An id that is not the event's refuses the whole batch (NotFound,
// nothing changed); one that is no longer an application is skipped.
func (s *Service) ApproveMany(ctx context.Context, eventID int64, ids []int64) (*Approval, error) {
	if len(ids) == 0 || len(ids) > MaxApproveBatch {
		return nil, apperr.Field("ids", "err.approval.ids", "Max", MaxApproveBatch)
	}
	k, err := s.keys(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "approve")
	}
	var out Approval
	var approved []int64
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		out, approved = Approval{}, nil
		e, err := event.LockByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(DISTINCT id) FROM registrations WHERE event_id = $1 AND id = ANY($2)`,
			eventID, pq.Array(ids)); err != nil {
			return fmt.Errorf("check batch: %w", err)
		}
		if n != len(distinct(ids)) {
			return apperr.New(apperr.NotFound, "err.registration_not_found")
		}
		for i, id := range ids {
			r, err := ofEvent(ctx, tx, eventID, id, true)
			if err != nil {
				return err
			}
			if r.Status != Applied {
				out.Skipped = append(out.Skipped, id)
				continue
			}
			ok, err := s.approve(ctx, tx, k, e, r, false)
			if err != nil {
				return err
			}
			if !ok {
				out.StoppedAt = ids[i]
				return nil
			}
			approved = append(approved, id)
		}
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "approve")
	}
	for _, id := range approved {
		r, err := getByID(ctx, s.db, id)
		if err != nil {
			return nil, apperr.Wrap(err, "read registration")
		}
		k.reveal(r)
		out.Approved = append(out.Approved, r)
	}
	return &out, nil
}

// MaxReason is the longest reason for declining, per language, in
// characters.
const MaxReason = 2000

// checkReason trims the reason's texts and drops the empty ones; nil when
// none is left.
func checkReason(reason map[string]string) (map[string]string, error) {
	var out map[string]string
	for lang, s := range reason {
		s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
		if s == "" {
			continue
		}
		if utf8.RuneCountInString(s) > MaxReason {
			return nil, apperr.Field("reason", "err.approval.reason")
		}
		if out == nil {
			out = map[string]string{}
		}
		out[lang] = s
	}
	return out, nil
}

func distinct(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// approve gives the application r on the locked event e its seats
// (tickets mailed) or, when waitlist is allowed and the event has one, a
// place at the end of the waitlist. It reports false, having changed
// nothing, when neither is possible.
func (s *Service) approve(ctx context.Context, tx *sqlx.Tx, k keys, e *event.Event, r *Registration, waitlist bool) (bool, error) {
	status := seatStatus(e, r.PartySize)
	if status == "" || (status == Waitlisted && !waitlist) {
		return false, nil
	}
	if e.Status == event.Cancelled {
		return false, apperr.New(apperr.Conflict, "err.closed_cancelled")
	}
	// An approved party joins the waitlist at its end, not at the place its
	// application had.
	if _, err := tx.ExecContext(ctx, `
UPDATE registrations SET status = $2, updated_at = now(), decided_at = now(),
    confirmed_at = CASE WHEN $2 = 'confirmed' THEN now() END,
    waitlist_order = CASE WHEN $2 = 'waitlisted' THEN nextval('registration_waitlist_order') ELSE waitlist_order END
WHERE id = $1`, r.ID, status); err != nil {
		return false, fmt.Errorf("approve registration %d: %w", r.ID, err)
	}
	r.Status = status
	kind := MailWaitlisted
	if status == Confirmed {
		var err error
		if r.Tickets, err = confirmSeats(ctx, tx, k, e, r, r.PartySize); err != nil {
			return false, err
		}
		// The sessions the applicant chose are decided now, as for a
		// confirmed sign-up (sessions.go).
		if err := takeSessions(ctx, tx, e, r); err != nil {
			return false, err
		}
		kind = MailConfirmed
	} else {
		e.WaitlistLength++
		r.WaitlistPosition = e.WaitlistLength
	}
	return true, s.mail(ctx, tx, Notice{Kind: kind, Event: e, Registrations: []*Registration{r}})
}

// Decline turns an application of the event down and tells the applicant,
// with the organisers' reason when one is given (per language; the ""
// key is for every language). Declining one that is declined already
// changes nothing; any status but applied is a conflict (a place given is
// taken back by cancelling).
func (s *Service) Decline(ctx context.Context, eventID, regID int64, reason map[string]string) (*Registration, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	return s.ofEventLocked(ctx, eventID, regID, "decline", func(tx *sqlx.Tx, k keys, e *event.Event, r *Registration) error {
		switch r.Status {
		case Applied:
		case Declined:
			return nil
		default:
			return apperr.New(apperr.Conflict, "err.approval.not_applied")
		}
		if err := setStatus(ctx, tx, r.ID, Declined); err != nil {
			return err
		}
		if err := s.releaseSessions(ctx, tx, e, r.ID); err != nil {
			return err
		}
		r.Status, r.EventSlug = Declined, e.Slug
		return s.mail(ctx, tx, Notice{Kind: MailDeclined, Event: e, Registrations: []*Registration{r}, Reason: reason})
	})
}
