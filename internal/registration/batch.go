package registration

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/member"
	"treffpunkt/internal/secret"
)

// Group commit of sign-ups (docs/performance.md, "The registration rush").
//
// A commit waits for the disk, so one transaction per sign-up caps an
// event at a few hundred sign-ups a second whatever the hardware. Instead,
// the sign-ups that arrive for an event while one batch is being written
// queue up, and the next batch takes them all (up to maxBatch) into one
// transaction: lock the event row, read what the rules need once, decide
// each sign-up in arrival order exactly as it would be decided alone, write
// everything with one statement per table, commit once.
//
// The database stays the judge of capacity: every batch holds the event
// row's lock and re-reads the counters, so batches of several instances
// serialise like single sign-ups do, and the CHECK constraint still refuses
// an oversell. A batch that fails for any reason other than a sign-up's own
// rule is retried one sign-up at a time, so that one bad item never fails
// the others.

// maxBatch bounds a batch: its statements' parameters and the time the
// event's lock is held.
const maxBatch = 128

// batchTimeout bounds a batch's transaction. A batch does not run under any
// one request's context: a client that goes away must not roll back the
// sign-ups of the others.
const batchTimeout = 20 * time.Second

// batcher keeps a queue per event; a queue lives while it has work, drained
// by one goroutine.
type batcher struct {
	mu     sync.Mutex
	queues map[string]*signupQueue

	// Transactions written and the sign-ups they carried.
	batches, signups atomic.Int64
}

// BatchStats returns how many sign-up transactions this service has
// committed and how many sign-ups they carried.
func (s *Service) BatchStats() (batches, signups int64) {
	return s.batches.batches.Load(), s.batches.signups.Load()
}

type signupQueue struct {
	jobs []*signupJob
}

type signupJob struct {
	su   signup
	res  *Result
	err  error
	done chan struct{}
}

// submit queues a checked sign-up for its event and waits for its batch.
func (b *batcher) submit(ctx context.Context, s *Service, slug string, su signup) (*Result, error) {
	j := &signupJob{su: su, done: make(chan struct{})}
	b.mu.Lock()
	if b.queues == nil {
		b.queues = make(map[string]*signupQueue)
	}
	q, running := b.queues[slug]
	if !running {
		q = &signupQueue{}
		b.queues[slug] = q
	}
	q.jobs = append(q.jobs, j)
	b.mu.Unlock()
	if !running {
		go b.drain(s, slug, q)
	}
	select {
	case <-j.done:
		return j.res, j.err
	case <-ctx.Done():
		// The request ended (client gone, server shutting down). Its
		// sign-up may still be written by the batch, like a sign-up whose
		// answer is lost on the way; the confirmation mail tells.
		return nil, apperr.Wrap(ctx.Err(), "sign up")
	}
}

// drain writes the queue's batches until it is empty, then retires it.
func (b *batcher) drain(s *Service, slug string, q *signupQueue) {
	for {
		b.mu.Lock()
		if len(q.jobs) == 0 {
			delete(b.queues, slug)
			b.mu.Unlock()
			return
		}
		n := min(len(q.jobs), maxBatch)
		jobs := q.jobs[:n:n]
		if n == len(q.jobs) {
			q.jobs = nil
		} else {
			q.jobs = q.jobs[n:]
		}
		b.mu.Unlock()
		s.runBatch(slug, jobs)
	}
}

// runBatch decides and writes jobs in one transaction and answers each.
func (s *Service) runBatch(slug string, jobs []*signupJob) {
	defer func() {
		if p := recover(); p != nil {
			// Never leave a request waiting: answer whoever is unanswered.
			for _, j := range jobs {
				select {
				case <-j.done:
				default:
					j.err = apperr.Wrap(fmt.Errorf("sign-up batch panicked: %v", p), "sign up")
					close(j.done)
				}
			}
		}
	}()
	outs, err := s.writeBatch(slug, jobs)
	if err != nil && len(jobs) > 1 {
		for _, j := range jobs {
			s.runBatch(slug, []*signupJob{j})
		}
		return
	}
	for i, j := range jobs {
		if err != nil {
			j.err = apperr.Wrap(err, "sign up")
		} else {
			j.res, j.err = outs[i].res, outs[i].err
		}
		close(j.done)
	}
}

// outcome is one sign-up's answer: a result, or the rule that refused it.
type outcome struct {
	res *Result
	err error
}

// writeBatch runs one transaction for jobs. A sign-up refused by a rule is
// an outcome, not an error; an error means nothing was written.
func (s *Service) writeBatch(slug string, jobs []*signupJob) ([]outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	var outs []outcome
	write := func(lookUp bool) error {
		return database.WithTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			var err error
			outs, err = s.decideBatch(ctx, tx, slug, jobs, lookUp)
			return err
		})
	}
	err := write(false)
	if errors.Is(err, errAddressTaken) {
		// Someone signed up again: decide once more, knowing who.
		err = write(true)
	}
	if err == nil {
		s.batches.batches.Add(1)
		s.batches.signups.Add(int64(len(jobs)))
	}
	return outs, err
}

// errAddressTaken rolls a batch back when the unique index found that an
// address it wrote has a live registration already.
var errAddressTaken = errors.New("an address of the batch has a live registration")

// decideBatch is the batch's transaction: it decides every sign-up on the
// locked event in order and writes the new registrations, their tickets,
// the seat counter and the emails.
//
// One address, one live registration: the unique index on the address is
// the judge, as the CHECK constraint is for capacity. First the batch is
// written trusting that its addresses are new (sign-ups twice are rare, and
// a lookup of every address would cost a query per batch whose plan depends
// on fresh statistics); when the index refuses one, the transaction rolls
// back (errAddressTaken) and the batch is decided again with lookUp set,
// which reads the live registrations of its addresses first. So does a
// batch in which a sign-up finds the event full, before it writes anything:
// an address that signed up before is answered as such, full or not.
func (s *Service) decideBatch(ctx context.Context, tx *sqlx.Tx, slug string, jobs []*signupJob, lookUp bool) ([]outcome, error) {
	outs := make([]outcome, len(jobs))
	sk, err := s.keys(ctx)
	if err != nil {
		return nil, err
	}
	e, err := event.LockBySlug(ctx, tx, slug)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			for i := range outs {
				outs[i].err = err
			}
			return outs, nil
		}
		return nil, err
	}

	// The rules that need only the event, and the member list.
	sus := make([]signup, len(jobs))
	live := make([]int, 0, len(jobs)) // indexes of sign-ups still in the running
	members := e.Access == event.AccessMembers
	notMember := map[int]bool{}
	for i, j := range jobs {
		sus[i] = j.su
		if err := s.checkEvent(e, &sus[i], apperr.Fields{}); err != nil {
			outs[i].err = err
			continue
		}
		if members {
			// The member list decides, and the link goes to the listed
			// address: for a member-number match never to the typed one, so
			// the registration carries the listed address from the start.
			m, err := member.Match(ctx, tx, e.MemberOrgIDs(), sus[i].Email, sus[i].MemberNumber, e.StartsAt.In(e.Location()))
			if err != nil {
				return nil, err
			}
			if m == nil {
				notMember[i] = true
			} else {
				sus[i].Email = m.Email
			}
		}
		live = append(live, i)
	}

	// One address, one live registration: against the table, and within
	// the batch (the first one wins, as it would one at a time). Someone
	// who is no member has no registration to find.
	emails := make([]string, len(live))
	for k, i := range live {
		if !notMember[i] {
			emails[k] = sus[i].Email
		}
	}
	keys, existingIDs := batchKeys(emails), make([]int64, len(emails))
	if lookUp {
		if keys, existingIDs, err = liveByEmails(ctx, tx, e.ID, emails); err != nil {
			return nil, err
		}
	}
	firstOf := make(map[string]int, len(live)) // email key → job index of its new registration
	var newRegs []*Registration
	var rows []newRegistration
	var dupOf = make(map[int]int) // job index → job index of the batch's earlier sign-up
	seats := 0
	holdUntil := s.now().Add(s.hold())
	var strangers []Stranger
	var again []int64 // existing registrations whose address is told
	for k, i := range live {
		su := &sus[i]
		if members {
			// On a members-only event every sign-up that passes the event's
			// rules gets the same answer, "check your mail", and the mail
			// tells the difference (docs/access.md). Full is told before the
			// member list is read, alike to members and others.
			if decide(e, su.PartySize) == "" {
				outs[i].err = apperr.New(apperr.Full, "err.full")
				continue
			}
			if notMember[i] {
				strangers = append(strangers, Stranger{Name: su.Name, Email: su.Email, Lang: su.Lang})
				outs[i].res = &Result{CheckMail: true}
				continue
			}
		}
		if id := existingIDs[k]; id != 0 {
			outs[i].res = &Result{Registration: &Registration{ID: id, EventID: e.ID, EventSlug: e.Slug, Email: su.Email}, Existing: true, CheckMail: members}
			again = append(again, id)
			continue
		}
		if first, seen := firstOf[keys[k]]; seen {
			dupOf[i] = first
			continue
		}
		status := decide(e, su.PartySize)
		if status == "" {
			if !lookUp {
				// An address that signed up before is answered as such
				// even when the event is full: look first.
				return nil, errAddressTaken
			}
			outs[i].err = apperr.New(apperr.Full, "err.full")
			continue
		}
		firstOf[keys[k]] = i
		lang := su.Lang
		if lang == "" {
			lang = e.DefaultLang
		}
		nonce := secret.Nonce()
		r := &Registration{
			EventID: e.ID, EventSlug: e.Slug, Name: su.Name, Email: su.Email, Lang: lang,
			PartySize: su.PartySize, Status: status, ManageNonce: nonce, ManageToken: sk.manageToken(nonce),
			Answers: su.answers,
		}
		n := newRegistration{
			Name: su.Name, Email: su.Email, Lang: lang, PartySize: su.PartySize,
			MemberNumber: su.MemberNumber, BirthDate: su.birthDate, Status: status,
			ManageNonce: nonce, ManageHash: secret.Hash(r.ManageToken), Answers: su.answers,
		}
		switch {
		case needsConfirmation(e):
			// Pending: the seats are held now if they fit (so the capacity
			// rule is decided here, once), else the party joins the
			// waitlist once it has confirmed.
			if status == Confirmed {
				n.SeatsHeld = su.PartySize
			}
			r.ConfirmToken = newSecret()
			n.Status, n.ConfirmHash, n.HoldExpiresAt = Pending, secret.Hash(r.ConfirmToken), &holdUntil
			r.Status, r.SeatsHeld, r.HoldExpiresAt = Pending, n.SeatsHeld, &holdUntil
			seats += n.SeatsHeld
			e.SeatsConfirmed += n.SeatsHeld
		case status == Confirmed:
			seats += su.PartySize
			e.SeatsConfirmed += su.PartySize
			r.Tickets = newTickets(su.PartySize)
			sk.reveal(r)
		default:
			// Under the event's lock the waitlist cannot change but for
			// this batch: each newcomer is last.
			e.WaitlistLength++
			r.WaitlistPosition = e.WaitlistLength
		}
		outs[i].res = &Result{Registration: r, CheckMail: members}
		newRegs = append(newRegs, r)
		rows = append(rows, n)
	}
	if err := s.mailNotMembers(ctx, tx, e, strangers); err != nil {
		return nil, err
	}
	if err := s.mailAgain(ctx, tx, e, again); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		for i, first := range dupOf {
			outs[i] = existingOf(outs[first], e)
		}
		return outs, nil
	}

	if err := insertRegistrations(ctx, tx, e.ID, s.now(), rows, newRegs); err != nil {
		return nil, err
	}
	for i, first := range dupOf {
		outs[i] = existingOf(outs[first], e)
	}
	if err := insertTicketsOf(ctx, tx, sk, e.ID, newRegs); err != nil {
		return nil, err
	}
	if seats != 0 {
		if err := event.AddSeats(ctx, tx, e.ID, seats); err != nil {
			return nil, err
		}
	}
	byKind := map[string][]*Registration{}
	var kinds []string
	for _, r := range newRegs {
		kind := MailWaitlisted
		switch {
		case r.Status == Pending:
			kind = MailConfirmEmail
		case r.Status == Confirmed:
			kind = MailConfirmed
		}
		if byKind[kind] == nil {
			kinds = append(kinds, kind)
		}
		byKind[kind] = append(byKind[kind], r)
	}
	for _, kind := range kinds {
		if err := s.mail(ctx, tx, Notice{Kind: kind, Event: e, Registrations: byKind[kind]}); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// existingOf answers a sign-up whose address signed up earlier in the same
// batch: as an existing registration, if that one was accepted.
func existingOf(first outcome, e *event.Event) outcome {
	if first.err != nil || first.res == nil {
		return first
	}
	r := first.res.Registration
	return outcome{res: &Result{Registration: &Registration{ID: r.ID, EventID: e.ID, EventSlug: e.Slug, Email: r.Email},
		Existing: true, CheckMail: first.res.CheckMail}}
}

// newTickets returns the seats of a party of n; their codes are derived
// from the registration's nonce (tokens.go).
func newTickets(n int) []Ticket {
	ts := make([]Ticket, n)
	for k := range ts {
		ts[k] = Ticket{Seat: k + 1}
	}
	return ts
}

// batchKeys returns the keys by which the batch's addresses are compared
// before the database is asked: lower case for ASCII addresses (lower()
// agrees in every locale), the address itself otherwise, so that the
// database's lower() decides (through the unique index).
func batchKeys(emails []string) []string {
	keys := make([]string, len(emails))
	for k, e := range emails {
		keys[k] = e
		if isASCII(e) {
			keys[k] = strings.ToLower(e)
		}
	}
	return keys
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// liveByEmails returns, for each address, the key the database compares
// addresses by (lower(), the unique index's expression) and the id of the
// event's live registration with that address, or 0. The subquery per
// address spells out the unique index's predicate so that the planner may
// use it (with stale statistics it may still prefer another index).
func liveByEmails(ctx context.Context, tx *sqlx.Tx, eventID int64, emails []string) ([]string, []int64, error) {
	keys := make([]string, len(emails))
	ids := make([]int64, len(emails))
	if len(emails) == 0 {
		return keys, ids, nil
	}
	rows, err := tx.QueryContext(ctx, `
SELECT u.ord, lower(u.email), COALESCE((
    SELECT r.id FROM registrations r
    WHERE r.event_id = $1 AND lower(r.email) = lower(u.email)
      AND r.status IN ('pending', 'confirmed', 'waitlisted') AND r.erased_at IS NULL), 0)
FROM unnest($2::text[]) WITH ORDINALITY AS u(email, ord)`, eventID, pq.Array(emails))
	if err != nil {
		return nil, nil, fmt.Errorf("find registrations by email: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ord int
		var key string
		var id int64
		if err := rows.Scan(&ord, &key, &id); err != nil {
			return nil, nil, fmt.Errorf("find registrations by email: %w", err)
		}
		keys[ord-1], ids[ord-1] = key, id
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find registrations by email: %w", err)
	}
	return keys, ids, nil
}

// insertRegistrations writes rows with one statement and sets each
// registration's id and times from what the database assigned.
func insertRegistrations(ctx context.Context, tx *sqlx.Tx, eventID int64, consent time.Time, rows []newRegistration, regs []*Registration) error {
	n := len(rows)
	var (
		names, emails, langs, members, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		nonces, manageHashes                    = make([][]byte, n), make([][]byte, n)
		births, hashes                          = make([]sql.NullString, n), make([]sql.NullString, n)
		answers                                 = make([]string, n)
		parties, held                           = make([]int64, n), make([]int64, n)
		holdUntil                               *time.Time
	)
	for k, r := range rows {
		names[k], emails[k], langs[k], members[k], statuses[k] = r.Name, r.Email, r.Lang, r.MemberNumber, r.Status
		nonces[k], manageHashes[k] = r.ManageNonce, r.ManageHash
		parties[k], held[k] = int64(r.PartySize), int64(r.SeatsHeld)
		if r.BirthDate != nil {
			births[k] = sql.NullString{String: r.BirthDate.Format(time.DateOnly), Valid: true}
		}
		if r.ConfirmHash != nil {
			hashes[k] = sql.NullString{String: hex.EncodeToString(r.ConfirmHash), Valid: true}
		}
		if r.HoldExpiresAt != nil {
			holdUntil = r.HoldExpiresAt
		}
		answers[k] = "{}"
		if len(r.Answers) > 0 {
			b, err := json.Marshal(map[string]any(r.Answers))
			if err != nil {
				return fmt.Errorf("insert registrations: answers: %w", err)
			}
			answers[k] = string(b)
		}
	}
	// The waitlist's order is the sequence's: nextval runs in the SELECT's
	// order, which is the batch's order.
	q, err := tx.QueryContext(ctx, `
INSERT INTO registrations (event_id, name, email, lang, party_size, member_number,
    birth_date, status, manage_nonce, manage_hash, consent_at, confirmed_at,
    confirm_token_hash, seats_held, hold_expires_at, answers, address_unconfirmed)
SELECT $1, u.name, u.email, u.lang, u.party, u.member, u.birth::date, u.status, u.nonce, u.mhash, $2,
    CASE WHEN u.status = 'confirmed' THEN now() END,
    decode(u.hash, 'hex'), u.held, CASE WHEN u.status = 'pending' THEN $3::timestamptz END,
    u.answers::jsonb, u.status = 'pending'
FROM unnest($4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[],
            $10::text[], $11::bytea[], $12::bytea[], $13::text[], $14::int[], $15::text[])
     WITH ORDINALITY AS u(name, email, lang, party, member, birth, status, nonce, mhash, hash, held, answers, ord)
ORDER BY u.ord
ON CONFLICT (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted') AND erased_at IS NULL
    DO NOTHING
RETURNING id, manage_hash, created_at`,
		eventID, consent, holdUntil, pq.Array(names), pq.Array(emails), pq.Array(langs), pq.Array(parties),
		pq.Array(members), pq.Array(births), pq.Array(statuses), pq.Array(nonces), pq.Array(manageHashes),
		pq.Array(hashes), pq.Array(held), pq.Array(answers))
	if err != nil {
		return fmt.Errorf("insert registrations: %w", err)
	}
	defer q.Close()
	byHash := make(map[string]*Registration, n)
	for k, r := range regs {
		byHash[string(rows[k].ManageHash)] = r
	}
	got := 0
	for q.Next() {
		var id int64
		var hash []byte
		var created time.Time
		if err := q.Scan(&id, &hash, &created); err != nil {
			return fmt.Errorf("insert registrations: %w", err)
		}
		r := byHash[string(hash)]
		if r == nil {
			return errors.New("insert registrations: unknown token returned")
		}
		r.ID, r.CreatedAt = id, created
		if r.Status == Confirmed {
			r.ConfirmedAt = &r.CreatedAt
		}
		for k := range r.Tickets {
			r.Tickets[k].RegistrationID = id
		}
		got++
	}
	if err := q.Err(); err != nil {
		return fmt.Errorf("insert registrations: %w", err)
	}
	if got != n {
		return errAddressTaken
	}
	return nil
}

// insertTicketsOf writes the tickets of every registration in regs with
// one statement.
func insertTicketsOf(ctx context.Context, tx *sqlx.Tx, k keys, eventID int64, regs []*Registration) error {
	var regIDs, seats []int64
	var codes [][]byte
	for _, r := range regs {
		for i := range r.Tickets {
			t := &r.Tickets[i]
			t.Code = k.ticketCode(r.ManageNonce, t.Seat)
			regIDs = append(regIDs, r.ID)
			seats = append(seats, int64(t.Seat))
			codes = append(codes, secret.Hash(t.Code))
		}
	}
	if len(codes) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO tickets (registration_id, event_id, seat, code_hash)
SELECT t.reg, $1, t.seat, t.code
FROM unnest($2::bigint[], $3::int[], $4::bytea[]) AS t(reg, seat, code)`,
		eventID, pq.Array(regIDs), pq.Array(seats), pq.Array(codes))
	if err != nil {
		return fmt.Errorf("insert tickets: %w", err)
	}
	return nil
}
