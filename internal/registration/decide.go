package registration

import (
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
)

// found is what a batch read besides the locked event, one entry per
// sign-up (load in batch.go).
type found struct {
	// listed is, on a members-only event, the address of the member list
	// entry a sign-up matched, "" for no member; nil on other events.
	listed []string
	// keys are what addresses are compared by within the batch: lower
	// case for ASCII (batchKeys), the database's lower() once looked up.
	keys []string
	// existing is the id of the event's live registration with the
	// sign-up's address, or 0; nil when the addresses were not looked up.
	existing []int64
}

// plan is what decide made of a batch: an answer per sign-up, and what
// store writes.
type plan struct {
	answers   []answer
	regs      []planned // the new registrations, in sign-up order
	strangers []Stranger
	again     []int64 // existing registrations whose address is told of the new attempt
	seats     int     // seats the batch confirms or holds
	waitlist  int     // the event's waitlist length after the batch
	holdUntil time.Time
	// lookUp: a sign-up found the event full before the addresses were
	// looked up; an address that signed up before must be answered as
	// such, full or not, so the batch is decided again after looking.
	lookUp bool
}

// answer is one sign-up's fate. At most one of err, reg, existing, dupOf
// is set; none on a members-only event means "not a member".
type answer struct {
	err       error  // a rule refused the sign-up
	reg       int    // 1 + its index in plan.regs
	existing  int64  // its address's live registration
	email     string // the address, for an existing registration
	dupOf     int    // 1 + the index of the batch's earlier sign-up with its address
	checkMail bool   // members-only: "check your mail", whatever the case
}

// planned is a new registration before it has secrets or an id.
type planned struct {
	su       signup // with the member list's address and the checked answers
	lang     string
	status   string // Confirmed, Waitlisted, Pending or Applied
	held     int    // seats held while pending
	position int    // waitlist position
	sessions []plannedSession
}

// decide is the sign-up rules for a batch on the locked event e, read
// once: each sign-up, in order, is decided exactly as it would be alone
// after the ones before it. It does no I/O and reads no clock (now is
// passed), so that its table of cases runs without a database
// (decide_test.go).
//
// Members-only events (docs/access.md): every sign-up that passes the
// event's rules gets the same answer, "check your mail", and the mail tells
// the difference; full is told before the member list is consulted, alike
// to members and others. One address, one live registration: an address
// with a live registration is answered as existing (and told), and within
// the batch the first sign-up of an address wins.
func decide(e *event.Event, sus []signup, f found, now time.Time, hold time.Duration) plan {
	p := plan{answers: make([]answer, len(sus)), holdUntil: now.Add(hold)}
	// The counters change as the batch fills the event; e stays as read.
	ev := *e
	members := e.Access == event.AccessMembers
	lookedUp := f.existing != nil
	firstOf := make(map[string]int, len(sus))
	// The sessions' counters change as the batch fills them, like ev's.
	sc := countsOf(e)
	for i := range sus {
		a := &p.answers[i]
		su := sus[i]
		if err := checkRules(e, &su, apperr.Fields{}, now); err != nil {
			a.err = err
			continue
		}
		if members {
			if seatStatus(&ev, su.PartySize) == "" {
				a.err = apperr.New(apperr.Full, "err.full")
				continue
			}
			a.checkMail = true
			if f.listed[i] == "" {
				p.strangers = append(p.strangers, Stranger{Name: su.Name, Email: su.Email, Lang: su.Lang})
				continue
			}
			// The link goes to the listed address: for a member-number
			// match never to the typed one.
			su.Email = f.listed[i]
		}
		if lookedUp && f.existing[i] != 0 {
			a.existing, a.email = f.existing[i], su.Email
			p.again = append(p.again, a.existing)
			continue
		}
		if first, seen := firstOf[f.keys[i]]; seen {
			a.dupOf = first + 1
			continue
		}
		status := seatStatus(&ev, su.PartySize)
		if status == "" {
			if !lookedUp {
				return plan{lookUp: true}
			}
			a.err = apperr.New(apperr.Full, "err.full")
			continue
		}
		if e.Approval {
			status = Applied // no seat until approved (approval.go)
		}
		holds := status == Confirmed && !needsConfirmation(e)
		sessions, err := decideSessions(e, &sc, su.sessions, su.PartySize, holds)
		if err != nil {
			if !lookedUp {
				return plan{lookUp: true}
			}
			a.err = err
			continue
		}
		firstOf[f.keys[i]] = i
		r := planned{su: su, lang: su.Lang, status: status, sessions: sessions}
		if r.lang == "" {
			r.lang = e.DefaultLang
		}
		switch {
		case needsConfirmation(e):
			// Pending: the seats are held now if they fit (so the capacity
			// rule is decided here, once), else the party joins the
			// waitlist once it has confirmed.
			if status == Confirmed {
				r.held = su.PartySize
			}
			r.status = Pending
			p.seats += r.held
			ev.SeatsConfirmed += r.held
		case status == Confirmed:
			p.seats += su.PartySize
			ev.SeatsConfirmed += su.PartySize
		case status == Applied:
		default:
			// Under the event's lock the waitlist cannot change but for
			// this batch: each newcomer is last.
			ev.WaitlistLength++
			r.position = ev.WaitlistLength
		}
		if p.regs == nil {
			p.regs = make([]planned, 0, len(sus)-i)
		}
		p.regs = append(p.regs, r)
		a.reg = len(p.regs)
	}
	p.waitlist = ev.WaitlistLength
	return p
}

// results turns a stored plan into each sign-up's outcome; regs are the
// new registrations store wrote. Every outcome carries the event as the
// batch left it (shared, read only), except where the event is not found.
func results(e *event.Event, p *plan, regs []*Registration) []outcome {
	outs := make([]outcome, len(p.answers))
	members := e.Access == event.AccessMembers
	for i, a := range p.answers {
		switch {
		case a.err != nil:
			outs[i].err = a.err
			if !apperr.Is(a.err, apperr.NotFound) {
				outs[i].res = &Result{Event: e}
			}
		case a.reg != 0:
			outs[i].res = &Result{Registration: regs[a.reg-1], CheckMail: members, Event: e}
		case a.existing != 0:
			outs[i].res = &Result{Registration: &Registration{ID: a.existing, EventID: e.ID, EventSlug: e.Slug, Email: a.email},
				Existing: true, CheckMail: members, Event: e}
		case a.dupOf != 0:
			outs[i] = existingOf(outs[a.dupOf-1], e)
		default: // not a member
			outs[i].res = &Result{CheckMail: true, Event: e}
		}
	}
	return outs
}

// existingOf answers a sign-up whose address signed up earlier in the same
// batch: as an existing registration, if that one was accepted.
func existingOf(first outcome, e *event.Event) outcome {
	if first.err != nil || first.res == nil || first.res.Registration == nil {
		return first
	}
	r := first.res.Registration
	return outcome{res: &Result{Registration: &Registration{ID: r.ID, EventID: e.ID, EventSlug: e.Slug, Email: r.Email},
		Existing: true, CheckMail: first.res.CheckMail, Event: e}}
}
