package registration

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
)

// The sign-up rules of a batch, without a database: decide gets the event
// as load locked it, what load found (member list, live registrations) and
// the sign-ups, and its plan must say for each what the rules say
// (docs/access.md, capacity.go).
func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hold := 24 * time.Hour
	seats := func(n int) *int { return &n }
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	base := func() event.Event {
		return event.Event{
			ID: 7, Slug: "fest", DefaultLang: "de", Status: event.Published, Access: event.AccessPublic,
			StartsAt: now.Add(30 * 24 * time.Hour), EndsAt: now.Add(30*24*time.Hour + 3*time.Hour),
			Timezone: "Europe/Berlin", MaxPartySize: 4, Capacity: seats(10),
		}
	}
	// in is a sign-up as SignUp passes it on: checked without the event.
	in := func(email string, party int) SignupInput {
		return SignupInput{Name: "N " + email, Email: email, PartySize: party, Consent: true}
	}
	// ins chooses sessions.
	ins := func(email string, party int, keys ...string) SignupInput {
		su := in(email, party)
		su.Sessions = keys
		return su
	}
	// workshops: a (2 places, waitlist) and b (1 place, no waitlist) in
	// parallel in the first hour, c (unlimited) in the second.
	workshops := func(e *event.Event) {
		h := func(n int) time.Time { return e.StartsAt.Add(time.Duration(n) * time.Hour) }
		e.Sessions = event.Sessions{
			{ID: 1, Key: "a", StartsAt: h(0), EndsAt: h(1), Capacity: seats(2), Waitlist: true, Status: event.SessionActive},
			{ID: 2, Key: "b", StartsAt: h(0), EndsAt: h(1), Capacity: seats(1), Status: event.SessionActive},
			{ID: 3, Key: "c", StartsAt: h(1), EndsAt: h(2), Waitlist: true, Status: event.SessionActive},
		}
	}

	type tc struct {
		name     string
		event    func(e *event.Event)
		signups  []SignupInput
		listed   []string // members-only: the listed address per sign-up, "" = no member
		existing []int64  // nil: not looked up
		want     []string // per sign-up, as describe writes it
		seats    int      // seats the plan confirms or holds
		waitlist int      // the event's waitlist length after the batch
		lookUp   bool     // the plan asks to look the addresses up first
		again    []int64
	}
	cases := []tc{
		{name: "confirmed while seats last",
			signups: []SignupInput{in("a@x.org", 2), in("b@x.org", 3)},
			want:    []string{"confirmed", "confirmed"}, seats: 5},
		{name: "waitlisted once full, in order",
			event:   func(e *event.Event) { e.Waitlist, e.SeatsConfirmed, e.WaitlistLength = true, 8, 3 },
			signups: []SignupInput{in("a@x.org", 2), in("b@x.org", 1), in("c@x.org", 2)},
			want:    []string{"confirmed", "waitlisted#4", "waitlisted#5"}, seats: 2, waitlist: 5},
		{name: "a smaller party behind a waitlisted one still fits",
			event:   func(e *event.Event) { e.Waitlist, e.SeatsConfirmed = true, 8 },
			signups: []SignupInput{in("a@x.org", 3), in("b@x.org", 2)},
			want:    []string{"waitlisted#1", "confirmed"}, seats: 2, waitlist: 1},
		{name: "unlimited capacity",
			event:   func(e *event.Event) { e.Capacity = nil; e.SeatsConfirmed = 5000 },
			signups: []SignupInput{in("a@x.org", 4)},
			want:    []string{"confirmed"}, seats: 4},
		{name: "full without waitlist: look the addresses up first",
			event:   func(e *event.Event) { e.SeatsConfirmed = 9 },
			signups: []SignupInput{in("a@x.org", 1), in("b@x.org", 1)},
			lookUp:  true},
		{name: "full without waitlist, looked up",
			event:    func(e *event.Event) { e.SeatsConfirmed = 9 },
			signups:  []SignupInput{in("a@x.org", 1), in("b@x.org", 1), in("c@x.org", 2)},
			existing: []int64{0, 0, 0},
			want:     []string{"confirmed", "full", "full"}, seats: 1},
		{name: "party larger than the seats left, no waitlist",
			event:    func(e *event.Event) { e.SeatsConfirmed = 7 },
			signups:  []SignupInput{in("a@x.org", 4), in("b@x.org", 3)},
			existing: []int64{0, 0},
			want:     []string{"full", "confirmed"}, seats: 3},
		{name: "party larger than the event allows",
			signups: []SignupInput{in("a@x.org", 5)},
			want:    []string{"invalid[party_size]"}},
		{name: "duplicate address in one batch: the first wins, case aside",
			signups: []SignupInput{in("a@x.org", 1), in("A@X.org", 2), in("b@x.org", 1)},
			want:    []string{"confirmed", "dup:0", "confirmed"}, seats: 2},
		{name: "already registered (looked up) is told, not written",
			event:    func(e *event.Event) { e.SeatsConfirmed = 10 },
			signups:  []SignupInput{in("a@x.org", 1), in("b@x.org", 1)},
			existing: []int64{41, 0},
			want:     []string{"existing:41", "full"}, again: []int64{41}},
		{name: "closed: deadline passed",
			event:   func(e *event.Event) { e.RegistrationClosesAt = at(-time.Minute) },
			signups: []SignupInput{in("a@x.org", 1)},
			want:    []string{"closed:err.closed"}},
		{name: "closed: not yet open",
			event:   func(e *event.Event) { e.RegistrationOpensAt = at(time.Hour) },
			signups: []SignupInput{in("a@x.org", 1)},
			want:    []string{"closed:err.closed_not_yet"}},
		{name: "closed: event cancelled",
			event:   func(e *event.Event) { e.Status = event.Cancelled },
			signups: []SignupInput{in("a@x.org", 1)},
			want:    []string{"closed:err.closed_cancelled"}},
		{name: "a draft is not found",
			event:   func(e *event.Event) { e.Status = event.Draft },
			signups: []SignupInput{in("a@x.org", 1)},
			want:    []string{"not_found"}},
		{name: "age range: too young, old enough, no birth date",
			event: func(e *event.Event) { e.MinAge, e.MaxAge = seats(17), seats(27) },
			signups: []SignupInput{
				{Name: "Young", Email: "y@x.org", PartySize: 1, Consent: true, BirthDate: "2015-01-01"},
				{Name: "Ok", Email: "o@x.org", PartySize: 1, Consent: true, BirthDate: "2004-01-01"},
				in("n@x.org", 1)},
			want: []string{"age", "confirmed", "invalid[birth_date]"}, seats: 1},
		{name: "required question unanswered; a form's answer typed",
			event: func(e *event.Event) {
				e.Questions = event.Questions{{Key: "diet", Type: event.QText, Required: true}, {Key: "bus", Type: event.QYesNo}}
			},
			signups: []SignupInput{in("a@x.org", 1),
				{Name: "F", Email: "f@x.org", PartySize: 1, Consent: true, FormAnswers: url.Values{"diet": {"vegan"}, "bus": {"yes"}}}},
			want: []string{"invalid[answers.diet]", "confirmed answers=map[bus:true diet:vegan]"}, seats: 1},
		{name: "confirm email: pending, seats held while they fit, else pending for the waitlist",
			event:   func(e *event.Event) { e.ConfirmEmail, e.Waitlist, e.SeatsConfirmed = true, true, 8 },
			signups: []SignupInput{in("a@x.org", 2), in("b@x.org", 1)},
			want:    []string{"pending/held 2", "pending"}, seats: 2},
		{name: "members only: member and non-member get the same answer",
			event:   func(e *event.Event) { e.Access = event.AccessMembers },
			signups: []SignupInput{in("typed@x.org", 1), in("stranger@x.org", 1)},
			listed:  []string{"listed@x.org", ""},
			want:    []string{"pending/held 1 mail email=listed@x.org", "stranger mail"}, seats: 1},
		{name: "members only: full is told before the member list counts",
			event:   func(e *event.Event) { e.Access, e.SeatsConfirmed = event.AccessMembers, 10 },
			signups: []SignupInput{in("m@x.org", 1), in("s@x.org", 1)},
			listed:  []string{"m@x.org", ""},
			want:    []string{"full", "full"}},
		{name: "members only: a member registered before",
			event:    func(e *event.Event) { e.Access = event.AccessMembers },
			signups:  []SignupInput{in("number-typed@x.org", 1)},
			listed:   []string{"m@x.org"},
			existing: []int64{9},
			want:     []string{"existing:9 mail email=m@x.org"}, again: []int64{9}},
		{name: "sessions: places while they last, then the session's waitlist in order",
			event:   workshops,
			signups: []SignupInput{ins("a@x.org", 1, "c", "a"), ins("b@x.org", 1, "a"), ins("c@x.org", 1, "a"), ins("d@x.org", 1, "a")},
			want:    []string{"confirmed s=a:confirmed,c:confirmed", "confirmed s=a:confirmed", "confirmed s=a:waitlisted#1", "confirmed s=a:waitlisted#2"}, seats: 4},
		{name: "sessions: a party takes party_size places",
			event:   workshops,
			signups: []SignupInput{ins("a@x.org", 2, "a"), ins("b@x.org", 1, "a")},
			want:    []string{"confirmed s=a:confirmed", "confirmed s=a:waitlisted#1"}, seats: 3},
		{name: "sessions: waitlist continues after the stored one",
			event: func(e *event.Event) {
				workshops(e)
				e.Sessions[0].SeatsConfirmed, e.Sessions[0].WaitlistLength = 2, 3
			},
			signups: []SignupInput{ins("a@x.org", 1, "a")},
			want:    []string{"confirmed s=a:waitlisted#4"}, seats: 1},
		{name: "sessions: full without a waitlist refuses, counting nothing",
			event:    workshops,
			signups:  []SignupInput{ins("a@x.org", 1, "b"), ins("b@x.org", 1, "c", "b"), ins("c@x.org", 1, "c")},
			existing: []int64{0, 0, 0},
			want:     []string{"confirmed s=b:confirmed", "session_full", "confirmed s=c:confirmed"}, seats: 2},
		{name: "sessions: full without a waitlist, not looked up: look up first",
			event:   func(e *event.Event) { workshops(e); e.Sessions[1].SeatsConfirmed = 1 },
			signups: []SignupInput{ins("a@x.org", 1, "b")},
			lookUp:  true},
		{name: "sessions: unknown, overlapping, more than max_sessions, cancelled",
			event: func(e *event.Event) {
				workshops(e)
				e.MaxSessions = seats(1)
				e.Sessions = append(e.Sessions, event.Session{ID: 4, Key: "d", StartsAt: e.StartsAt, EndsAt: e.StartsAt, Status: event.SessionCancelled})
			},
			signups: []SignupInput{ins("a@x.org", 1, "zz"), ins("b@x.org", 1, "a", "b"), ins("c@x.org", 1, "a", "c"), ins("d@x.org", 1, "d"), ins("e@x.org", 1, "a", "a")},
			want:    []string{"invalid[sessions]", "invalid[sessions]", "invalid[sessions]", "invalid[sessions]", "confirmed s=a:confirmed"}, seats: 1},
		{name: "sessions: a registration on the event's waitlist only requests",
			event:   func(e *event.Event) { workshops(e); e.Waitlist, e.SeatsConfirmed = true, 10 },
			signups: []SignupInput{ins("a@x.org", 1, "a")},
			want:    []string{"waitlisted#1 s=a:requested"}, waitlist: 1},
		{name: "sessions: a pending registration only requests",
			event:   func(e *event.Event) { workshops(e); e.ConfirmEmail = true },
			signups: []SignupInput{ins("a@x.org", 1, "a")},
			want:    []string{"pending/held 1 s=a:requested"}, seats: 1},
		{name: "language defaults to the event's",
			event:   func(e *event.Event) { e.DefaultLang = "ar" },
			signups: []SignupInput{in("a@x.org", 1), {Name: "T", Email: "t@x.org", PartySize: 1, Consent: true, Lang: "tr"}},
			want:    []string{"confirmed lang=ar", "confirmed lang=tr"}, seats: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := base()
			if c.event != nil {
				c.event(&e)
			}
			before := e
			before.Sessions = slices.Clone(e.Sessions)
			sus := make([]signup, len(c.signups))
			emails := make([]string, len(c.signups))
			for i, s := range c.signups {
				sus[i] = s.check(apperr.Fields{})
				emails[i] = sus[i].Email
				if c.listed != nil {
					emails[i] = c.listed[i]
				}
			}
			f := found{listed: c.listed, keys: batchKeys(emails), existing: c.existing}
			p := decide(&e, sus, f, now, hold)

			if p.lookUp != c.lookUp {
				t.Fatalf("lookUp %v, want %v", p.lookUp, c.lookUp)
			}
			if e.SeatsConfirmed != before.SeatsConfirmed || e.WaitlistLength != before.WaitlistLength ||
				(len(e.Sessions) > 0 && e.Sessions[0].SeatsConfirmed != before.Sessions[0].SeatsConfirmed) {
				t.Errorf("decide changed the event it was given")
			}
			if c.lookUp {
				return
			}
			var got []string
			for i := range sus {
				got = append(got, describe(&p, i))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("answers\n got %q\nwant %q", got, c.want)
			}
			if p.seats != c.seats {
				t.Errorf("seats %d, want %d", p.seats, c.seats)
			}
			wantWaitlist := c.waitlist
			if wantWaitlist == 0 {
				wantWaitlist = before.WaitlistLength
			}
			if p.waitlist != wantWaitlist {
				t.Errorf("waitlist %d, want %d", p.waitlist, wantWaitlist)
			}
			if !slices.Equal(p.again, c.again) {
				t.Errorf("told again %v, want %v", p.again, c.again)
			}
			if !p.holdUntil.Equal(now.Add(hold)) {
				t.Errorf("hold until %v, want now + hold", p.holdUntil)
			}
			for _, r := range p.regs {
				if r.status == Pending && !needsConfirmation(&e) {
					t.Errorf("pending on an event without confirmation")
				}
			}
		})
	}
}

// Strangers on a members-only event are mailed, with what they typed.
func TestDecideMailsStrangers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := event.Event{ID: 1, Slug: "ag", Status: event.Published, Access: event.AccessMembers, MaxPartySize: 1,
		StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour), DefaultLang: "de"}
	su := SignupInput{Name: "S", Email: "s@x.org", Lang: "fa", PartySize: 1, Consent: true}.check(apperr.Fields{})
	p := decide(&e, []signup{su}, found{listed: []string{""}, keys: []string{""}}, now, time.Hour)
	want := []Stranger{{Name: "S", Email: "s@x.org", Lang: "fa"}}
	if !slices.Equal(p.strangers, want) {
		t.Errorf("strangers %+v, want %+v", p.strangers, want)
	}
	if len(p.regs) != 0 {
		t.Errorf("%d registrations for a stranger", len(p.regs))
	}
}

// describe writes sign-up i's answer in the plan as the table expects it.
func describe(p *plan, i int) string {
	a := p.answers[i]
	var s string
	switch {
	case a.err != nil:
		ae := apperr.From(a.err)
		switch ae.Code {
		case apperr.Invalid:
			var fields []string
			for f := range ae.Fields {
				fields = append(fields, f)
			}
			slices.Sort(fields)
			return "invalid[" + strings.Join(fields, ",") + "]"
		case apperr.Closed:
			return "closed:" + ae.Msg.ID
		}
		return ae.Code
	case a.reg != 0:
		r := p.regs[a.reg-1]
		s = r.status
		if r.held > 0 {
			s += fmt.Sprintf("/held %d", r.held)
		}
		if r.position > 0 {
			s += fmt.Sprintf("#%d", r.position)
		}
		if len(r.su.answers) > 0 {
			s += fmt.Sprintf(" answers=%v", map[string]any(r.su.answers))
		}
		if r.lang != "de" {
			s += " lang=" + r.lang
		}
		if len(r.sessions) > 0 {
			var ss []string
			for _, ps := range r.sessions {
				x := string(rune('a'+ps.idx)) + ":" + ps.status
				if ps.position > 0 {
					x += fmt.Sprintf("#%d", ps.position)
				}
				ss = append(ss, x)
			}
			s += " s=" + strings.Join(ss, ",")
		}
		if r.su.Email != "" && a.checkMail {
			s += " mail email=" + r.su.Email
		}
		return s
	case a.existing != 0:
		s = fmt.Sprintf("existing:%d", a.existing)
		if a.checkMail {
			s += " mail email=" + a.email
		}
		return s
	case a.dupOf != 0:
		return fmt.Sprintf("dup:%d", a.dupOf-1)
	}
	s = "stranger"
	if a.checkMail {
		s += " mail"
	}
	return s
}
