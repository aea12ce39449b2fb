package registration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
)

// MailChanged tells a participant that their registration was changed
// through its manage link, with the tickets it has now.
const MailChanged = "changed"

// ChangeInput is what a participant changes of a registration; a nil field
// (or nil Answers and FormAnswers) is left as it is. docs/api.md, "Changing
// a registration".
type ChangeInput struct {
	Name      *string
	PartySize *int
	Lang      *string
	// Answers, when not nil, replace every answer, checked as at sign-up
	// (a required question must still be answered). FormAnswers are the
	// same as a form posts them (SignupInput.FormAnswers).
	Answers     map[string]any
	FormAnswers url.Values
	// Sessions, when not nil, is the new choice of the event's sessions
	// (changeSessions).
	Sessions *[]string
}

// check applies the rules that need no event, with the sign-up's own rule
// functions (input.go), and trims what it checked.
func (in ChangeInput) check(f apperr.Fields) ChangeInput {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		checkName(f, n)
		in.Name = &n
	}
	if in.PartySize != nil {
		checkPartySize(f, *in.PartySize)
	}
	if in.Lang != nil {
		l := strings.TrimSpace(*in.Lang)
		if l == "" {
			// Unlike at sign-up there is no page language to fall back
			// to: a registration always has one.
			f.Add("lang", "err.lang")
		}
		checkLang(f, l)
		in.Lang = &l
	}
	return in
}

// Change changes the registration behind a manage token and returns it as
// it is then. The rules are the sign-up's (input.go, checkRules): the same
// messages, the same fields, nothing written when one fails. In one
// transaction under the event's lock, as sign-ups and cancellations take it:
//
//   - A confirmed party that grows takes the new seats only if they are free
//     (apperr.Full otherwise, nothing changed); its new seats get new
//     tickets, the old ones stay.
//   - A confirmed party that shrinks gives its seats back at once: the
//     tickets of the highest seats are withdrawn (a ticket already checked
//     in cannot be), and the waitlist is settled as a cancellation settles
//     it (promote).
//   - A pending registration that holds seats holds the new number; a
//     waitlisted one keeps its place on the waitlist whatever its size (and
//     moves up at once if it now fits).
//   - Sessions (changeSessions) are replaced all or nothing, and a
//     confirmed party's places in its sessions follow its size.
//   - Growing needs registration to be open; other changes are possible
//     until the event starts. A cancelled or expired registration cannot be
//     changed.
//
// A change that changes something is mailed (MailChanged) and stamped
// changed_at; one that changes nothing writes nothing.
func (s *Service) Change(ctx context.Context, token string, in ChangeInput) (*Registration, error) {
	f := apperr.Fields{}
	in = in.check(f)
	return s.byTokenLocked(ctx, token, "change registration", func(tx *sqlx.Tx, e *event.Event, r *Registration) error {
		return s.change(ctx, tx, e, r, in, f)
	})
}

// change applies in to r on the locked event e; f holds the field errors
// found without the event.
func (s *Service) change(ctx context.Context, tx *sqlx.Tx, e *event.Event, r *Registration, in ChangeInput, f apperr.Fields) error {
	if r.Status == Cancelled || r.Status == Expired || r.Status == Declined {
		return apperr.New(apperr.Conflict, "err.change_cancelled")
	}
	now := s.now()
	if e.Status == event.Cancelled {
		return apperr.New(apperr.Closed, "err.closed_cancelled")
	}
	if !now.Before(e.StartsAt) {
		return apperr.New(apperr.Closed, "err.change_started")
	}
	next := *r
	if in.Name != nil {
		next.Name = *in.Name
	}
	if in.Lang != nil {
		next.Lang = *in.Lang
	}
	if in.PartySize != nil {
		checkPartyMax(f, e, *in.PartySize)
		next.PartySize = *in.PartySize
	}
	if in.Answers != nil || in.FormAnswers != nil {
		next.Answers = eventAnswers(f, e, in.Answers, in.FormAnswers)
	}
	var chosen []int
	if in.Sessions != nil {
		chosen = checkSessionChoice(e, *in.Sessions, f)
	}
	if next.PartySize < r.PartySize && r.Status == Confirmed {
		if err := checkedInAbove(ctx, tx, r, next.PartySize, f); err != nil {
			return err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if next.PartySize > r.PartySize && r.Status != Waitlisted {
		// New places are a sign-up's: only while registration is open.
		switch e.RegistrationState(now) {
		case "open":
		case "not_yet_open":
			return apperr.New(apperr.Closed, "err.closed_not_yet")
		default:
			return apperr.New(apperr.Closed, "err.closed")
		}
	}
	sc, err := s.changeSessions(ctx, tx, e, r, in.Sessions != nil, chosen, next.PartySize)
	if err != nil {
		return err
	}
	if !sc.changed && next.Name == r.Name && next.Lang == r.Lang && next.PartySize == r.PartySize && sameAnswers(next.Answers, r.Answers) {
		return nil
	}
	newFrom, err := s.resize(ctx, tx, e, r, next.PartySize)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
UPDATE registrations SET name = $2, lang = $3, party_size = $4, answers = $5,
    seats_held = CASE WHEN status = 'pending' AND seats_held > 0 THEN $4 ELSE seats_held END,
    changed_at = $6, updated_at = now()
WHERE id = $1`, r.ID, next.Name, next.Lang, next.PartySize, next.Answers, now)
	if err != nil {
		return fmt.Errorf("change registration %d: %w", r.ID, err)
	}
	if next.PartySize < r.PartySize || r.Status == Waitlisted {
		// Seats came free, or a waitlisted party may now fit: settled as
		// after a cancellation.
		if err := s.promote(ctx, tx, e); err != nil {
			return err
		}
	}
	// After the row has its new size: a waitlist may hold this
	// registration's own choice, which is promoted with its new size.
	if err := s.promoteSessions(ctx, tx, e, sc.freed); err != nil {
		return err
	}
	after, err := getByID(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	return s.mail(ctx, tx, Notice{Kind: MailChanged, Event: e, Registrations: []*Registration{after}, NewTicketsFrom: newFrom})
}

// resize gives a confirmed or seat-holding pending registration r the seats
// of a party of size on the locked event e, and returns the first seat whose
// ticket is new (0 when none). Growing takes seats only if they are free:
// the same test (fits) and counter as a sign-up, under the same lock.
func (s *Service) resize(ctx context.Context, tx *sqlx.Tx, e *event.Event, r *Registration, size int) (int, error) {
	holds := r.Status == Confirmed || (r.Status == Pending && r.SeatsHeld > 0)
	delta := size - r.PartySize
	if !holds || delta == 0 {
		return 0, nil
	}
	if delta > 0 && !fits(e, delta) {
		return 0, apperr.New(apperr.Full, "err.full_change")
	}
	if err := event.AddSeats(ctx, tx, e.ID, delta); err != nil {
		return 0, err
	}
	e.SeatsConfirmed += delta
	if r.Status != Confirmed {
		return 0, nil
	}
	if delta < 0 {
		// Withdrawn from the highest seat down, so that seats 1…size keep
		// the tickets their holders may already have passed on.
		if _, err := tx.ExecContext(ctx, `DELETE FROM tickets WHERE registration_id = $1 AND seat > $2`, r.ID, size); err != nil {
			return 0, fmt.Errorf("withdraw tickets: %w", err)
		}
		return 0, nil
	}
	k, err := s.keys(ctx)
	if err != nil {
		return 0, err
	}
	if err := k.ensureNonce(ctx, tx, r); err != nil {
		return 0, err
	}
	grown := &Registration{ID: r.ID, ManageNonce: r.ManageNonce}
	for seat := r.PartySize + 1; seat <= size; seat++ {
		grown.Tickets = append(grown.Tickets, Ticket{RegistrationID: r.ID, Seat: seat})
	}
	if err := insertTicketsOf(ctx, tx, k, e.ID, []*Registration{grown}); err != nil {
		return 0, err
	}
	return r.PartySize + 1, nil
}

// checkedInAbove names party_size when a ticket of a seat above size was
// checked in (on any day): its check-in is a fact the figures and the
// certificates keep, so that ticket cannot be withdrawn.
func checkedInAbove(ctx context.Context, tx *sqlx.Tx, r *Registration, size int, f apperr.Fields) error {
	var n int
	err := tx.GetContext(ctx, &n, `
SELECT count(*) FROM tickets t
WHERE t.registration_id = $1 AND t.seat > $2
  AND (t.checked_in_at IS NOT NULL OR EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = t.id AND c.undone_at IS NULL))`,
		r.ID, size)
	if err != nil {
		return fmt.Errorf("checked-in tickets: %w", err)
	}
	if n > 0 {
		f.Add("party_size", "err.party_size_checked_in")
	}
	return nil
}

// sameAnswers reports whether two sets of answers are equal as stored
// (jsonb: numbers are float64 either way, lists keep their order).
func sameAnswers(a, b Answers) bool {
	ja, errA := a.Value()
	jb, errB := b.Value()
	if errA != nil || errB != nil {
		return false
	}
	var x, y any
	if json.Unmarshal(ja.([]byte), &x) != nil || json.Unmarshal(jb.([]byte), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// ChangeByOrganiser is Change on the registration regID of the event
// eventID, for its organisers (the caller has checked that the event is
// theirs, and audits the call): the same rules, the same mail to the
// participant.
func (s *Service) ChangeByOrganiser(ctx context.Context, eventID, regID int64, in ChangeInput) (*Registration, error) {
	r, err := ofEvent(ctx, s.db, eventID, regID, false)
	if err == nil {
		err = s.reveal(ctx, r)
	}
	if err != nil {
		return nil, apperr.Wrap(err, "change by organiser")
	}
	return s.Change(ctx, r.ManageToken, in)
}
