package event

import (
	"context"
	"reflect"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// SeatsFreedFunc is called inside the transaction that may have freed seats
// (capacity raised), with the event locked, so that the waitlist moves up in
// that same transaction. The registration service provides it.
type SeatsFreedFunc func(ctx context.Context, tx *sqlx.Tx, e *Event) error

// Service is the organisers' and the public's access to events.
type Service struct {
	db         *sqlx.DB
	seatsFreed SeatsFreedFunc
	changed    ChangedFunc
	clock      func() time.Time

	sessionsChanged SessionsChangedFunc
}

// SessionsChangedFunc is told, in the transaction of a PATCH and under the
// event's lock, which sessions were cancelled (their people are mailed)
// and which may have free places now (their waitlists move).
type SessionsChangedFunc func(ctx context.Context, tx *sqlx.Tx, e *Event, c SessionChange) error

// Options are what a Service is built from (New).
type Options struct {
	DB *sqlx.DB
	// SeatsFreed moves the waitlist when capacity rises; Changed tells the
	// registrants when an event moves or is cancelled. Both are the
	// registration service's; nil does nothing.
	SeatsFreed SeatsFreedFunc
	Changed    ChangedFunc
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// SessionsChanged is the registration service's too (sessions.go).
	SessionsChanged SessionsChangedFunc
}

// New builds the event service.
func New(o Options) *Service {
	return &Service{db: o.DB, seatsFreed: o.SeatsFreed, changed: o.Changed, clock: o.Now, sessionsChanged: o.SessionsChanged}
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// List returns events matching f.
func (s *Service) List(ctx context.Context, f Filter) ([]Event, error) {
	evs, err := list(ctx, s.db, f)
	return evs, apperr.Wrap(err, "list events")
}

// Get returns an event in any status; callers decide who may see drafts.
func (s *Service) Get(ctx context.Context, slug string) (*Event, error) {
	e, err := BySlug(ctx, s.db, slug)
	return e, apperr.Wrap(err, "get event")
}

// GetPublic returns an event the public may see (not drafts).
func (s *Service) GetPublic(ctx context.Context, slug string) (*Event, error) {
	e, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	if e.Status == Draft {
		return nil, apperr.New(apperr.NotFound, "err.event_not_found")
	}
	return e, nil
}

// GetForOrg returns an event only when orgID presents it.
func (s *Service) GetForOrg(ctx context.Context, orgID int64, slug string) (*Event, error) {
	e, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	if e.OrgID != orgID {
		return nil, apperr.New(apperr.NotFound, "err.event_not_found")
	}
	return e, nil
}

// Create adds an event presented by orgID. Absent fields take Defaults.
func (s *Service) Create(ctx context.Context, orgID int64, in Input) (*Event, error) {
	e := new(Defaults())
	e.OrgID = orgID
	in.apply(e)
	if e.Status == Cancelled {
		return nil, apperr.Field("status", "err.create_cancelled")
	}
	if err := check(ctx, s.db, e); err != nil {
		return nil, apperr.Wrap(err, "create event")
	}
	var id int64
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if e.Venue.ID, err = upsertVenue(ctx, tx, orgID, e.Venue); err != nil {
			return err
		}
		id, err = insert(ctx, tx, e)
		return err
	})
	if database.IsUniqueViolation(err, "events_slug_key") {
		return nil, apperr.Field("slug", "err.slug_taken")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "create event")
	}
	return s.getByID(ctx, id)
}

// Update changes an event of orgID. Raising the capacity confirms waitlisted
// parties that now fit, in the same transaction; lowering it below the seats
// already confirmed is refused.
func (s *Service) Update(ctx context.Context, orgID int64, slug string, in Input) (*Event, error) {
	var id int64
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := LockBySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		if e.OrgID != orgID {
			return apperr.New(apperr.NotFound, "err.event_not_found")
		}
		if e.Status == Cancelled {
			// Attendees were told it is off; a later edit would reach nobody.
			// The one home of the rule: the API and the editor both end here.
			return apperr.New(apperr.Conflict, "err.event_cancelled_final")
		}
		before := *e
		in.apply(e)
		if e.Status == Cancelled {
			return apperr.Field("status", "err.use_cancel")
		}
		if err := check(ctx, tx, e); err != nil {
			return err
		}
		if e.Capacity != nil && *e.Capacity < e.SeatsConfirmed {
			return apperr.Field("capacity", "err.capacity_below_confirmed", "Count", e.SeatsConfirmed)
		}
		if in.Venue != nil {
			if e.Venue.ID, err = upsertVenue(ctx, tx, orgID, e.Venue); err != nil {
				return err
			}
		}
		bump := calendarChanged(&before, e)
		if err := update(ctx, tx, e, bump); err != nil {
			return err
		}
		if in.PartnerOrgs != nil {
			if err := writePartners(ctx, tx, e); err != nil {
				return err
			}
		}
		if in.Sessions != nil {
			if err := writeSessions(ctx, tx, e); err != nil {
				return err
			}
			c := sessionChange(before.Sessions, e.Sessions)
			if s.sessionsChanged != nil && (len(c.Cancelled) > 0 || len(c.Freed) > 0) {
				if err := s.sessionsChanged(ctx, tx, e, c); err != nil {
					return err
				}
			}
		}
		if bump {
			// As update wrote them: mails attach this version's calendar.
			e.Sequence++
			e.CalendarChangedAt = s.now()
		}
		id = e.ID
		if s.changed != nil && moved(&before, e) {
			if err := s.changed(ctx, tx, &before, e); err != nil {
				return err
			}
		}
		if s.seatsFreed != nil && seatsMayHaveFreed(&before, e) {
			return s.seatsFreed(ctx, tx, e)
		}
		return nil
	})
	if database.IsUniqueViolation(err, "events_slug_key") {
		return nil, apperr.Field("slug", "err.slug_taken")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "update event")
	}
	return s.getByID(ctx, id)
}

// Cancel marks an event cancelled; it stays visible as cancelled.
func (s *Service) Cancel(ctx context.Context, orgID int64, slug string) (*Event, error) {
	var id int64
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := LockBySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		if e.OrgID != orgID {
			return apperr.New(apperr.NotFound, "err.event_not_found")
		}
		id = e.ID
		if e.Status == Cancelled {
			return nil
		}
		before := *e
		e.Status = Cancelled
		if err := update(ctx, tx, e, true); err != nil {
			return err
		}
		e.Sequence++
		e.CalendarChangedAt = s.now()
		if s.changed != nil {
			return s.changed(ctx, tx, &before, e)
		}
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "cancel event")
	}
	return s.getByID(ctx, id)
}

func (s *Service) getByID(ctx context.Context, id int64) (*Event, error) {
	e, err := GetByID(ctx, s.db, id)
	return e, apperr.Wrap(err, "get event")
}

// calendarChanged reports a change that calendars show, so SEQUENCE rises.
func calendarChanged(a, b *Event) bool {
	return !reflect.DeepEqual(a.Title, b.Title) || !reflect.DeepEqual(a.Description, b.Description) ||
		!a.StartsAt.Equal(b.StartsAt) || !a.EndsAt.Equal(b.EndsAt) || a.AllDay != b.AllDay ||
		a.Timezone != b.Timezone || !sameVenue(a.Venue, b.Venue) || a.Status != b.Status ||
		a.Kind != b.Kind || a.Slug != b.Slug // CATEGORIES and URL
}

func seatsMayHaveFreed(a, b *Event) bool {
	switch {
	case b.Capacity == nil:
		return a.Capacity != nil
	case a.Capacity == nil:
		return false
	default:
		return *b.Capacity > *a.Capacity
	}
}

func sameVenue(a, b Venue) bool {
	a.ID, b.ID = nil, nil
	return a == b
}
