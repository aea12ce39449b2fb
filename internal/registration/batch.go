package registration

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/groupcommit"
	"treffpunkt/internal/member"
)

// Group commit of sign-ups (docs/performance.md, "The registration rush").
//
// A commit waits for the disk, so one transaction per sign-up caps an
// event at a few hundred sign-ups a second whatever the hardware. Instead,
// the sign-ups that arrive for an event while one batch is being written
// queue up (internal/groupcommit, keyed by the event's slug), and the next
// batch takes them all (up to maxBatch) into one transaction: load (lock
// the event row, match the member list, look up addresses when needed),
// decide (decide.go: each sign-up in arrival order exactly as it would be
// decided alone; no I/O), store (signup_store.go: one statement per table),
// commit once.
//
// The database stays the judge of capacity: every batch holds the event
// row's lock and re-reads the counters, so batches of several instances
// serialise like single sign-ups do, and the CHECK constraint still refuses
// an oversell. A batch that fails for any reason other than a sign-up's own
// rule is retried one sign-up at a time by the engine, so that one bad item
// never fails the others.

// maxBatch bounds a batch: its statements' parameters and the time the
// event's lock is held.
const maxBatch = 128

// batchTimeout bounds a batch's transaction. A batch does not run under any
// one request's context: a client that goes away must not roll back the
// sign-ups of the others.
const batchTimeout = 20 * time.Second

// signups is the group-commit engine of sign-ups, per event slug: one
// batch of an event at a time (they would wait for the event's lock
// anyway), no linger (the sign-ups that arrive while a batch is written
// make the next one).
type signups = groupcommit.Engine[string, signup, *Result]

func (s *Service) engine() *signups {
	s.engOnce.Do(func() {
		s.eng = groupcommit.New(groupcommit.Options[signup]{MaxBatch: maxBatch}, s.runBatch)
	})
	return s.eng
}

// BatchStats returns how many sign-up transactions this service has
// committed and how many sign-ups they carried.
func (s *Service) BatchStats() (batches, signups int64) {
	st := s.engine().Stats()
	return st.Batches, st.Items
}

// submit queues a checked sign-up for its event and waits for its batch. A
// request that ends first (client gone, server shutting down) leaves its
// sign-up to be written by the batch all the same, like a sign-up whose
// answer is lost on the way; the confirmation mail tells.
func (s *Service) submit(ctx context.Context, slug string, su signup) (*Result, error) {
	var res *Result
	var err error
	if s.noBatch {
		res, err = s.engine().Alone(slug, su)
	} else {
		res, err = s.engine().Do(ctx, slug, su)
	}
	// A rule's refusal is an apperr already; a failed batch, a panic or
	// the request's end becomes an internal error.
	return res, apperr.Wrap(err, "sign up")
}

// outcome is one sign-up's answer: a result, or the rule that refused it.
type outcome struct {
	res *Result
	err error
}

// runBatch is the engine's batch function: it writes batch in one
// transaction and answers each sign-up, or fails as a whole.
func (s *Service) runBatch(slug string, _ int, batch []*groupcommit.Item[signup, *Result]) error {
	outs, err := s.writeBatch(slug, batch)
	if err != nil {
		return err
	}
	for i, it := range batch {
		it.Out, it.Err = outs[i].res, outs[i].err
	}
	return nil
}

// writeBatch runs one transaction for batch. A sign-up refused by a rule is
// an outcome, not an error; an error means nothing was written.
//
// One address, one live registration: the unique index on the address is
// the judge, as the CHECK constraint is for capacity. First the batch is
// written trusting that its addresses are new (sign-ups twice are rare, and
// a lookup of every address would cost a query per batch whose plan depends
// on fresh statistics); when the index refuses one, the transaction rolls
// back (errAddressTaken) and the batch is decided again after load looked
// up the live registrations of its addresses. So does a batch in which a
// sign-up finds the event full before anything is written (plan.lookUp): an
// address that signed up before is answered as such, full or not.
func (s *Service) writeBatch(slug string, batch []*groupcommit.Item[signup, *Result]) ([]outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	sk, err := s.keys(ctx)
	if err != nil {
		return nil, err
	}
	sus := make([]signup, len(batch))
	for i, it := range batch {
		sus[i] = it.In
	}
	var outs []outcome
	write := func(lookUp bool) error {
		return database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
			now := s.now()
			e, f, err := s.load(ctx, tx, slug, sus, now, lookUp)
			if apperr.Is(err, apperr.NotFound) {
				outs = make([]outcome, len(sus))
				for i := range outs {
					outs[i].err = err
				}
				return nil
			}
			if err != nil {
				return err
			}
			p := decide(e, sus, f, now, s.hold())
			if p.lookUp {
				return errAddressTaken
			}
			regs, err := s.store(ctx, tx, sk, e, &p, now)
			if err != nil {
				return err
			}
			outs = results(e, &p, regs)
			return nil
		})
	}
	err = write(false)
	if errors.Is(err, errAddressTaken) {
		// Someone signed up again: decide once more, knowing who.
		err = write(true)
	}
	return outs, err
}

// errAddressTaken rolls a batch back when the unique index found that an
// address it wrote has a live registration already.
var errAddressTaken = errors.New("an address of the batch has a live registration")

// load is the batch's reading: the event row, locked; on a members-only
// event the member list entry of each sign-up; with lookUp the live
// registrations of the batch's addresses.
func (s *Service) load(ctx context.Context, tx *sqlx.Tx, slug string, sus []signup, now time.Time, lookUp bool) (*event.Event, found, error) {
	var f found
	e, err := event.LockBySlug(ctx, tx, slug)
	if err != nil {
		return nil, f, err
	}
	emails := make([]string, len(sus))
	if e.Access != event.AccessMembers {
		for i := range sus {
			emails[i] = sus[i].Email
		}
	} else {
		// The member list decides; someone who is no member has no
		// registration to find (emails[i] stays ""). A closed event
		// refuses every sign-up before the list counts: no need to ask it.
		f.listed = emails
		if e.RegistrationOpen(now) {
			orgs, day := e.MemberOrgIDs(), e.StartsAt.In(e.Location())
			for i := range sus {
				m, err := member.Match(ctx, tx, orgs, sus[i].Email, sus[i].MemberNumber, day)
				if err != nil {
					return nil, f, err
				}
				if m != nil {
					emails[i] = m.Email
				}
			}
		}
	}
	if lookUp {
		f.keys, f.existing, err = liveByEmails(ctx, tx, e.ID, emails)
		if err != nil {
			return nil, f, err
		}
	} else {
		f.keys = batchKeys(emails)
	}
	return e, f, nil
}
