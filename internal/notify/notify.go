// Package notify tells a presenting organisation what happens to its
// events (issue 19): sign-ups, cancellations, promotions from the waitlist
// and an event that filled up (and, on an event with selection by
// approval, applications and the decisions on them, counted apart), by
// email, either soon after each change (gathered: at most one mail per
// event per Gather) or in a daily digest at 07:00 in the organisation's
// time zone.
//
// It is a worker, not a hook: every round it reads each watched event's
// counts from the database (registration.CountChanges, the event's seat
// counters, the promotions the outbox records) and compares them with
// what it told the organisation last (its table notify_events). The new
// counts and the mail are written in one transaction, so a crash repeats
// nothing and loses nothing, and rows locked with SKIP LOCKED let any
// number of instances run it. docs/organisers.md says what organisers
// get.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
)

// Timing of the "each" mode and of the digest.
const (
	// Round is how often the worker looks: the first change of a quiet
	// event is mailed within a minute.
	Round = 20 * time.Second
	// Gather is the least time between two mails about one event.
	Gather = 5 * time.Minute
	// DigestHour is when the daily digest goes out, in the organisation's
	// time zone.
	DigestHour = 7
)

// Change is what happened to one event since the organisation was last
// told, and where it stands.
type Change struct {
	Event                            *event.Event
	SignUps, Cancellations, Promoted int
	// Applications, Approved and Declined are counted apart from the
	// sign-ups (selection by approval): an application takes no place,
	// and its approval is no new sign-up.
	Applications, Approved, Declined int
	// OpenApplications wait for a decision now; shown when the event
	// selects by approval or still has such applications.
	OpenApplications int
	Approval         bool
	// NowFull: the event was not full when last told and is now.
	NowFull bool
	// SeatsLeft is nil for an event without a limit.
	SeatsLeft *int
	Waitlist  int
}

// Notice is one email to an organisation.
type Notice struct {
	Org   *org.Settings
	Lang  string
	Daily bool
	// Day is the digest's day, in the organisation's time zone.
	Day     time.Time
	Changes []Change
}

// Mailer writes notices into the outbox and counts promotions from it;
// package mail implements it.
type Mailer interface {
	EnqueueOrgNotice(ctx context.Context, tx *sqlx.Tx, n Notice) error
	// Promotions is how many promotion emails the event's registrations
	// were ever sent: each is one party that moved up.
	Promotions(ctx context.Context, q sqlx.QueryerContext, eventID int64) (int, error)
}

// Service runs the rounds.
type Service struct {
	db     *sqlx.DB
	orgs   *org.Service
	events *event.Service
	mailer Mailer
	def    string
	log    *slog.Logger
	clock  func() time.Time
}

// Options build a Service.
type Options struct {
	DB          *sqlx.DB
	Orgs        *org.Service
	Events      *event.Service
	Mailer      Mailer
	DefaultLang string
	Log         *slog.Logger
	// Now is the clock; nil is time.Now. Tests set it.
	Now func() time.Time
}

// New builds the service.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: o.DB, orgs: o.Orgs, events: o.Events, mailer: o.Mailer, def: o.DefaultLang, log: o.Log, clock: o.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.clock = now }

// Run does a round every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("notifications", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce looks at every organisation whose notifications are on and
// writes the mails that are due; it returns how many.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	if s.mailer == nil {
		return 0, nil
	}
	orgs, err := s.orgs.Notifying(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for i := range orgs {
		o := &orgs[i]
		if o.To() == "" {
			continue
		}
		n, err := s.org(ctx, o)
		if err != nil {
			return sent, err
		}
		sent += n
	}
	return sent, nil
}

func (s *Service) org(ctx context.Context, o *org.Settings) (int, error) {
	now := s.clock()
	evs, err := s.events.List(ctx, event.Filter{OrgSlug: o.Slug, From: now.Add(-24 * time.Hour), Statuses: []string{event.Published}, Limit: 500})
	if err != nil {
		return 0, err
	}
	if o.Notify == org.NotifyDaily {
		return s.digest(ctx, o, evs, now)
	}
	sent := 0
	for i := range evs {
		ok, err := s.each(ctx, o, &evs[i], now)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// seen is an event's counts as last told.
type seen struct {
	SignUps       int `db:"signups"`
	Cancellations int `db:"cancellations"`
	Applications  int `db:"applications"`
	Approvals     int `db:"approvals"`
	Declines      int `db:"declines"`
	Promotions    int `db:"promotions"`
	// open is no count that rises: the applications waiting now.
	open     int
	Full     bool         `db:"full_"`
	MailedAt sql.NullTime `db:"mailed_at"`
}

// current reads the event's counts now, in tx, with the event as it is.
func (s *Service) current(ctx context.Context, tx *sqlx.Tx, e *event.Event) (seen, *event.Event, error) {
	cur, err := event.GetByID(ctx, tx, e.ID)
	if err != nil {
		return seen{}, nil, err
	}
	c, err := registration.CountChanges(ctx, tx, e.ID)
	if err != nil {
		return seen{}, nil, err
	}
	p, err := s.mailer.Promotions(ctx, tx, e.ID)
	if err != nil {
		return seen{}, nil, err
	}
	full := cur.Capacity != nil && cur.SeatsConfirmed >= *cur.Capacity
	return seen{SignUps: c.SignUps, Cancellations: c.Cancellations, Applications: c.Applications, Approvals: c.Approvals,
		Declines: c.Declines, open: c.Open, Promotions: p, Full: full}, cur, nil
}

// last locks and returns the event's row of notify_events; ok is false
// when another instance holds it. An event seen for the first time is
// watched from now on — or from nothing, when it was created after the
// notifications were switched on, so that its first sign-up counts.
func (s *Service) last(ctx context.Context, tx *sqlx.Tx, o *org.Settings, e *event.Event, cur seen) (seen, bool, error) {
	base := cur
	if e.CreatedAt.After(o.NotifySince) {
		base = seen{}
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO notify_events (event_id, signups, cancellations, applications, approvals, declines, promotions, full_)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (event_id) DO NOTHING`, e.ID, base.SignUps, base.Cancellations, base.Applications, base.Approvals, base.Declines,
		base.Promotions, base.Full); err != nil {
		return seen{}, false, fmt.Errorf("watch event: %w", err)
	}
	var l seen
	err := tx.GetContext(ctx, &l, `
SELECT signups, cancellations, applications, approvals, declines, promotions, full_, mailed_at FROM notify_events
WHERE event_id = $1 FOR UPDATE SKIP LOCKED`, e.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return seen{}, false, nil
	}
	if err != nil {
		return seen{}, false, fmt.Errorf("notify state: %w", err)
	}
	return l, true, nil
}

func (s *Service) remember(ctx context.Context, tx *sqlx.Tx, eventID int64, cur seen, mailed *time.Time) error {
	_, err := tx.ExecContext(ctx, `
UPDATE notify_events SET signups = $2, cancellations = $3, applications = $4, approvals = $5, declines = $6,
    promotions = $7, full_ = $8, mailed_at = COALESCE($9, mailed_at)
WHERE event_id = $1`, eventID, cur.SignUps, cur.Cancellations, cur.Applications, cur.Approvals, cur.Declines,
		cur.Promotions, cur.Full, mailed)
	if err != nil {
		return fmt.Errorf("remember notify state: %w", err)
	}
	return nil
}

func change(e *event.Event, last, cur seen) (Change, bool) {
	c := Change{
		Event:            e,
		SignUps:          max(cur.SignUps-last.SignUps, 0),
		Cancellations:    max(cur.Cancellations-last.Cancellations, 0),
		Promoted:         max(cur.Promotions-last.Promotions, 0),
		Applications:     max(cur.Applications-last.Applications, 0),
		Approved:         max(cur.Approvals-last.Approvals, 0),
		Declined:         max(cur.Declines-last.Declines, 0),
		NowFull:          cur.Full && !last.Full,
		Waitlist:         e.WaitlistLength,
		Approval:         e.Approval || cur.open > 0,
		OpenApplications: cur.open,
	}
	if e.Capacity != nil {
		left := max(*e.Capacity-e.SeatsConfirmed, 0)
		c.SeatsLeft = &left
	}
	// Open applications alone are no news: they were told when they came.
	return c, c.SignUps > 0 || c.Cancellations > 0 || c.Promoted > 0 || c.NowFull ||
		c.Applications > 0 || c.Approved > 0 || c.Declined > 0
}

func (s *Service) lang(o *org.Settings) string {
	if o.Lang != "" {
		return o.Lang
	}
	return s.def
}

// each mails the changes of one event when there are any and the last
// mail about it is at least Gather ago; else the changes wait (they are
// still counted: the next mail sums them up).
func (s *Service) each(ctx context.Context, o *org.Settings, e *event.Event, now time.Time) (bool, error) {
	sent := false
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		cur, ev, err := s.current(ctx, tx, e)
		if err != nil {
			return err
		}
		last, ok, err := s.last(ctx, tx, o, e, cur)
		if err != nil || !ok {
			return err
		}
		c, changed := change(ev, last, cur)
		if !changed || last.MailedAt.Valid && now.Sub(last.MailedAt.Time) < Gather {
			return nil
		}
		if err := s.mailer.EnqueueOrgNotice(ctx, tx, Notice{Org: o, Lang: s.lang(o), Changes: []Change{c}}); err != nil {
			return err
		}
		sent = true
		return s.remember(ctx, tx, e.ID, cur, &now)
	})
	return sent, apperr.Wrap(err, "notify")
}

// digest sends the organisation's daily digest once its 07:00 has come
// and none went out since: one mail with every event that changed, none
// when nothing did. Before that it only starts watching new events.
func (s *Service) digest(ctx context.Context, o *org.Settings, evs []event.Event, now time.Time) (int, error) {
	loc := event.Zone(o.Timezone)
	local := now.In(loc)
	due := time.Date(local.Year(), local.Month(), local.Day(), DigestHour, 0, 0, 0, loc)
	sent := 0
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// The row exists before it is locked, so that two instances never
		// both send the first digest.
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_digests (org_id, sent_at) VALUES ($1, 'epoch')
ON CONFLICT (org_id) DO NOTHING`, o.ID); err != nil {
			return fmt.Errorf("digest state: %w", err)
		}
		var last time.Time
		err := tx.GetContext(ctx, &last, `SELECT sent_at FROM notify_digests WHERE org_id = $1 FOR UPDATE SKIP LOCKED`, o.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another instance is at it
		}
		if err != nil {
			return fmt.Errorf("digest state: %w", err)
		}
		isDue := !now.Before(due) && last.Before(due)
		n := Notice{Org: o, Lang: s.lang(o), Daily: true, Day: local}
		var seenNow []seen
		for i := range evs {
			cur, ev, err := s.current(ctx, tx, &evs[i])
			if err != nil {
				return err
			}
			l, ok, err := s.last(ctx, tx, o, &evs[i], cur)
			if err != nil {
				return err
			}
			if !ok || !isDue {
				continue
			}
			if c, changed := change(ev, l, cur); changed {
				n.Changes = append(n.Changes, c)
				seenNow = append(seenNow, cur)
			}
		}
		if !isDue {
			return nil
		}
		if len(n.Changes) > 0 {
			if err := s.mailer.EnqueueOrgNotice(ctx, tx, n); err != nil {
				return err
			}
			sent = 1
			for i, c := range n.Changes {
				if err := s.remember(ctx, tx, c.Event.ID, seenNow[i], &now); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE notify_digests SET sent_at = $2 WHERE org_id = $1`, o.ID, now)
		return err
	})
	return sent, apperr.Wrap(err, "daily digest")
}
