package registration

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
)

// Service runs sign-ups, cancellations and the waitlist.
type Service struct {
	db *sqlx.DB
	// mailer writes the emails each change causes in the change's own
	// transaction; nil sends none.
	mailer Mailer
	// clock is the clock (tests move it with SetClock); nil is time.Now.
	clock func() time.Time
	// holdFor is how long a pending registration waits for its confirmation
	// link before it expires (HOLD_HOURS); 0 means DefaultHold.
	holdFor time.Duration
	// noBatch makes every sign-up a transaction of its own: the baseline
	// of the benchmarks.
	noBatch bool
	// secrets derives manage tokens and ticket codes (tokens.go); nil
	// uses the secret generated into the database (development, tests).
	secrets *secret.Source

	srcOnce sync.Once
	engOnce sync.Once
	eng     *signups // the group commit (batch.go), made on first use
}

// Options are what a Service is built from (New).
type Options struct {
	DB *sqlx.DB
	// Mailer writes the emails each change causes; nil sends none (the
	// command line and the demo).
	Mailer Mailer
	// Hold is HOLD_HOURS; 0 means DefaultHold.
	Hold time.Duration
	// Secrets derives manage tokens and ticket codes; nil uses the secret
	// generated into the database.
	Secrets *secret.Source
	// Now is the clock; nil is time.Now. Tests that move it later use
	// SetClock.
	Now func() time.Time
	// NoBatch makes every sign-up a transaction of its own (benchmarks).
	NoBatch bool
}

// New builds the registration service.
func New(o Options) *Service {
	return &Service{db: o.DB, mailer: o.Mailer, holdFor: o.Hold, secrets: o.Secrets, clock: o.Now, noBatch: o.NoBatch}
}

// DefaultHold is how long a pending registration is held by default.
const DefaultHold = 24 * time.Hour

func (s *Service) hold() time.Duration {
	if s.holdFor > 0 {
		return s.holdFor
	}
	return DefaultHold
}

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

// Result is the answer to a sign-up.
type Result struct {
	Registration *Registration
	// Existing is true when the email already had a live registration for
	// the event and that one is returned instead of a new one.
	Existing bool
	// CheckMail is set for every sign-up to a members-only event that
	// passed the event's own rules: member or not, registered before or
	// not, the answer must be the same ("check your mail"), and only the
	// email to the address concerned tells which (docs/access.md).
	// Registration is nil for someone who is not a member.
	CheckMail bool
	// Event is the event as the sign-up found it, so that a face renders
	// the answer without reading it again. It is set with a rule's refusal
	// too (then Result carries nothing else), except when the event is not
	// found or not public. It may be shared by the results of one batch:
	// read only.
	Event *event.Event
}

// SignUp registers a party for the event slug: in one transaction, lock the
// event row, check the rules (and the member list on members-only events),
// decide confirmed or waitlisted, write the registration, its tickets and
// the seat counter. Where the event needs confirmation (docs/access.md) the
// registration is pending instead: its seats are held when they fit, and
// the confirmation link is mailed. Sign-ups that arrive for the same event
// while another is being written share one transaction (batch.go); each is
// decided as it would be alone.
func (s *Service) SignUp(ctx context.Context, slug string, in SignupInput) (*Result, error) {
	f := apperr.Fields{}
	su := in.check(f)
	if len(f) > 0 {
		// Bad input never takes the event's lock; it is answered from a plain
		// read so that an unknown event is still a 404 whatever the body.
		e, err := event.BySlug(ctx, s.db, slug)
		if err != nil {
			return nil, apperr.Wrap(err, "sign up")
		}
		err = checkRules(e, &su, f, s.now())
		if apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		return &Result{Event: e}, err
	}
	return s.submit(ctx, slug, su)
}

// checkRules applies the event's rules to a sign-up at now and sets its
// checked answers. Field errors found without the event are reported only
// once the event is known to exist, so that an unknown event is a 404
// whatever the body.
func checkRules(e *event.Event, su *signup, f apperr.Fields, now time.Time) error {
	if e.Status == event.Draft {
		return apperr.New(apperr.NotFound, "err.event_not_found")
	}
	checkPartyMax(f, e, su.PartySize)
	hasAgeRule := e.MinAge != nil || e.MaxAge != nil
	if hasAgeRule && su.birthDate == nil {
		f.Add("birth_date", "err.birth_date_required")
	}
	su.answers = eventAnswers(f, e, su.Answers, su.FormAnswers)
	su.sessions = checkSessionChoice(e, su.Sessions, f)
	if err := f.Err(); err != nil {
		return err
	}
	switch e.RegistrationState(now) {
	case "open":
	case "cancelled":
		return apperr.New(apperr.Closed, "err.closed_cancelled")
	case "not_yet_open":
		return apperr.New(apperr.Closed, "err.closed_not_yet")
	default:
		return apperr.New(apperr.Closed, "err.closed")
	}
	if hasAgeRule {
		start := e.StartsAt.In(e.Location())
		age := ageOn(*su.birthDate, start)
		if (e.MinAge != nil && age < *e.MinAge) || (e.MaxAge != nil && age > *e.MaxAge) {
			return apperr.New(apperr.Age, "err.age", "Min", deref(e.MinAge), "Max", deref(e.MaxAge))
		}
	}
	return nil
}

// needsConfirmation reports whether a sign-up for e goes through pending and
// a confirmation link: on members-only events (the link proves the listed
// address) and on events set to confirm email addresses.
func needsConfirmation(e *event.Event) bool {
	return e.Access == event.AccessMembers || e.ConfirmEmail
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// confirmSeats gives a party its seats on the locked event e and returns
// its tickets.
func confirmSeats(ctx context.Context, tx *sqlx.Tx, k keys, e *event.Event, r *Registration, seats int) ([]Ticket, error) {
	if err := event.AddSeats(ctx, tx, e.ID, seats); err != nil {
		return nil, err
	}
	e.SeatsConfirmed += seats
	return insertTickets(ctx, tx, k, r, e.ID, seats)
}

// releaseSeats gives the seats a confirmed registration has, or a pending
// one holds, back to the locked event e.
func releaseSeats(ctx context.Context, tx *sqlx.Tx, e *event.Event, r *Registration) error {
	seats := r.PartySize
	if r.Status == Pending {
		seats = r.SeatsHeld
	}
	if seats == 0 {
		return nil
	}
	if err := event.AddSeats(ctx, tx, e.ID, -seats); err != nil {
		return err
	}
	e.SeatsConfirmed -= seats
	return nil
}

// Cancel cancels the registration behind a manage token and, in the same
// transaction, confirms the waitlisted parties that now fit. Cancelling twice
// is harmless.
func (s *Service) Cancel(ctx context.Context, token string) (*Registration, error) {
	return s.byTokenLocked(ctx, token, "cancel", func(tx *sqlx.Tx, e *event.Event, r *Registration) error {
		switch r.Status {
		case Cancelled, Expired:
			return nil
		case Confirmed, Pending:
			if err := releaseSeats(ctx, tx, e, r); err != nil {
				return err
			}
		}
		if err := setStatus(ctx, tx, r.ID, Cancelled); err != nil {
			return err
		}
		if err := s.releaseSessions(ctx, tx, e, r.ID); err != nil {
			return err
		}
		r.Status = Cancelled
		if err := s.mail(ctx, tx, Notice{Kind: MailCancelled, Event: e, Registrations: []*Registration{r}}); err != nil {
			return err
		}
		return s.promote(ctx, tx, e)
	})
}

// byTokenLocked runs fn in one transaction that holds the lock of the
// event of the registration behind a manage token (as sign-ups take it),
// with that registration, and then reads it back as its owner sees it. op
// names the work in errors.
func (s *Service) byTokenLocked(ctx context.Context, token, op string, fn func(tx *sqlx.Tx, e *event.Event, r *Registration) error) (*Registration, error) {
	eventID, err := eventIDByToken(ctx, s.db, token)
	if err != nil {
		return nil, apperr.Wrap(err, op)
	}
	var regID int64
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.LockByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		r, err := getByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		regID = r.ID
		return fn(tx, e, r)
	})
	if err != nil {
		return nil, apperr.Wrap(err, op)
	}
	r, err := getByID(ctx, s.db, regID)
	if err == nil {
		err = s.reveal(ctx, r)
	}
	return r, apperr.Wrap(err, "read registration")
}

// Promote settles the waitlist of the locked event e; event.Service calls it
// when a capacity change may have freed seats.
func (s *Service) Promote(ctx context.Context, tx *sqlx.Tx, e *event.Event) error {
	return s.promote(ctx, tx, e)
}

// promote confirms, in waitlist order, every waitlisted party that fits the
// free seats of the locked event e ("first fit", see capacity.go), and tells
// each by email.
func (s *Service) promote(ctx context.Context, tx *sqlx.Tx, e *event.Event) error {
	if e.Status != event.Published || (e.Capacity != nil && e.SeatsConfirmed >= *e.Capacity) {
		return nil
	}
	k, err := s.keys(ctx)
	if err != nil {
		return err
	}
	wl, err := waitlisted(ctx, tx, e.ID)
	if err != nil {
		return err
	}
	var promoted []*Registration
	for _, r := range wl {
		if e.Capacity != nil && e.SeatsConfirmed >= *e.Capacity {
			break
		}
		if !fits(e, r.PartySize) {
			continue
		}
		if err := setStatus(ctx, tx, r.ID, Confirmed); err != nil {
			return err
		}
		if r.Tickets, err = confirmSeats(ctx, tx, k, e, &r, r.PartySize); err != nil {
			return err
		}
		if err := takeSessions(ctx, tx, e, &r); err != nil {
			return err
		}
		r.Status, r.EventSlug = Confirmed, e.Slug
		k.reveal(&r)
		promoted = append(promoted, &r)
	}
	return s.mail(ctx, tx, Notice{Kind: MailPromoted, Event: e, Registrations: promoted})
}

// ByToken returns the registration behind a manage token.
func (s *Service) ByToken(ctx context.Context, token string) (*Registration, error) {
	r, err := getByToken(ctx, s.db, token)
	if err == nil {
		err = s.reveal(ctx, r)
	}
	return r, apperr.Wrap(err, "registration by token")
}

// ByTicket returns the registration and ticket behind a ticket code.
func (s *Service) ByTicket(ctx context.Context, code string) (*Registration, *Ticket, error) {
	r, t, err := ticketByCode(ctx, s.db, code)
	if err == nil {
		err = s.reveal(ctx, r)
	}
	if err == nil {
		for _, rt := range r.Tickets {
			if rt.ID == t.ID {
				t.Code = rt.Code
			}
		}
	}
	return r, t, apperr.Wrap(err, "ticket")
}

// ListForEvent returns every registration of an event, oldest first, as
// its organisers see them: without the address of a registration whose
// confirmation link was not followed (docs/access.md), so that typing a
// member's number never shows the presenting organisation another
// organisation's member's address.
func (s *Service) ListForEvent(ctx context.Context, eventID int64) ([]*Registration, error) {
	rs, err := listByEvent(ctx, s.db, eventID)
	if err == nil {
		err = s.reveal(ctx, rs...)
	}
	for _, r := range rs {
		// An erased row has no address left to hide.
		r.AddressUnconfirmed = r.AddressUnconfirmed && r.Email != ""
		if r.AddressUnconfirmed {
			r.Email = ""
		}
	}
	return rs, apperr.Wrap(err, "list registrations")
}

// MailEnabled says whether changes write emails (the app wired an outbox).
func (s *Service) MailEnabled() bool { return s.mailer != nil }
