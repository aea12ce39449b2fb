package registration_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// rushResult is one concurrent sign-up's answer.
type rushResult struct {
	in  registration.SignupInput
	res *registration.Result
	err error
}

// rush runs the inputs as concurrent sign-ups for slug through the service
// (and so through its batches), all released at once.
func rush(t *testing.T, svcs []*registration.Service, slug string, ins []registration.SignupInput) []rushResult {
	t.Helper()
	out := make([]rushResult, len(ins))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := svcs[i%len(svcs)].SignUp(context.Background(), slug, in)
			out[i] = rushResult{in: in, res: res, err: err}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// What a batch answers is what the database holds: every field of every
// answer equals the registration read back afterwards, waitlist positions
// are 1…W in the waitlist's order, duplicates within a batch are answered
// as existing, refusals write nothing, and the seat and waitlist counters
// equal the rows.
func TestBatchedAnswersEqualWhatIsStored(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := a.Second(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) {
		in.Capacity = event.Some(40)
		in.MaxPartySize = ptr(3)
	})

	var ins []registration.SignupInput
	for i := range 240 {
		in := registration.SignupInput{Name: fmt.Sprintf("Guest %d", i), Email: fmt.Sprintf("g%d@example.org", i), PartySize: 1 + i%3, Consent: true, Lang: "en"}
		switch {
		case i%10 == 7:
			in.Email = fmt.Sprintf("G%d@Example.org", i-1) // the same address as the one before, other case
		case i%20 == 9:
			in.Email = fmt.Sprintf("early%d@example.org", i%3) // signed up before the rush
		case i%30 == 11:
			// Outside ASCII, only the database's lower() compares.
			in.Email = fmt.Sprintf("Öykü%d@example.org", i%2)
			if i%60 == 41 {
				in.Email = fmt.Sprintf("öYKÜ%d@example.org", i%2)
			}
		case i%25 == 3:
			in.PartySize = 4 // above the event's maximum
		}
		ins = append(ins, in)
	}
	created := map[int64]bool{}
	for i := range 3 {
		res, err := a.Registrations.SignUp(context.Background(), "fest", registration.SignupInput{
			Name: "Early", Email: fmt.Sprintf("Early%d@example.org", i), PartySize: 1, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		created[res.Registration.ID] = true
	}
	results := rush(t, []*registration.Service{a.Registrations, b.Registrations}, "fest", ins)

	batchesA, signupsA := a.Registrations.BatchStats()
	batchesB, signupsB := b.Registrations.BatchStats()
	if signupsA+signupsB < int64(len(ins)) {
		t.Fatalf("batches carried %d sign-ups, want at least %d", signupsA+signupsB, len(ins))
	}
	if batchesA+batchesB >= signupsA+signupsB {
		t.Fatalf("%d transactions for %d sign-ups: nothing was batched", batchesA+batchesB, signupsA+signupsB)
	}

	seats := 3
	var waitlisted []*registration.Registration
	for i, r := range results {
		if r.in.PartySize > 3 {
			if !apperr.Is(r.err, apperr.Invalid) {
				t.Fatalf("sign-up %d with party of 4: %v", i, r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("sign-up %d: %v", i, r.err)
		}
		got := r.res.Registration
		if r.res.Existing {
			continue
		}
		created[got.ID] = true
		stored, err := a.Registrations.ByToken(context.Background(), got.ManageToken)
		if err != nil {
			t.Fatalf("sign-up %d: read back: %v", i, err)
		}
		if got.ID != stored.ID || got.Status != stored.Status || got.PartySize != stored.PartySize ||
			got.Email != stored.Email || got.Name != stored.Name || got.Lang != stored.Lang ||
			got.WaitlistPosition != stored.WaitlistPosition || !got.CreatedAt.Equal(stored.CreatedAt) ||
			(got.ConfirmedAt == nil) != (stored.ConfirmedAt == nil) {
			t.Fatalf("sign-up %d: answered %+v, stored %+v", i, *got, *stored)
		}
		codes := func(r *registration.Registration) []string {
			var cs []string
			for _, tk := range r.Tickets {
				cs = append(cs, fmt.Sprint(tk.Seat, tk.Code))
			}
			return cs
		}
		if !slices.Equal(codes(got), codes(stored)) {
			t.Fatalf("sign-up %d: tickets answered %v, stored %v", i, codes(got), codes(stored))
		}
		switch got.Status {
		case registration.Confirmed:
			seats += got.PartySize
			if len(got.Tickets) != got.PartySize {
				t.Fatalf("sign-up %d: %d tickets for a party of %d", i, len(got.Tickets), got.PartySize)
			}
		case registration.Waitlisted:
			waitlisted = append(waitlisted, got)
		default:
			t.Fatalf("sign-up %d: status %s", i, got.Status)
		}
	}
	// Every address that signed up twice got one registration and one
	// "existing" answer naming it.
	existing := 0
	for i, r := range results {
		if r.err != nil || !r.res.Existing {
			continue
		}
		if !created[r.res.Registration.ID] {
			t.Fatalf("sign-up %d: existing answer names registration %d, which no sign-up created", i, r.res.Registration.ID)
		}
		if a.Count(t, `SELECT count(*) FROM registrations WHERE id = $1 AND lower(email) = lower($2)`, r.res.Registration.ID, r.in.Email) != 1 {
			t.Fatalf("sign-up %d (%s): existing answer names registration %d of another address", i, r.in.Email, r.res.Registration.ID)
		}
		existing++
	}
	if existing < 30 {
		t.Fatalf("only %d sign-ups answered as existing", existing)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != len(created) {
		t.Fatalf("%d rows for %d created registrations", n, len(created))
	}
	slices.SortFunc(waitlisted, func(x, y *registration.Registration) int { return x.WaitlistPosition - y.WaitlistPosition })
	for k, r := range waitlisted {
		if r.WaitlistPosition != k+1 {
			t.Fatalf("waitlist positions %d…: position %d at rank %d", waitlisted[0].WaitlistPosition, r.WaitlistPosition, k+1)
		}
	}
	e, err := event.BySlug(context.Background(), a.DB, "fest")
	if err != nil {
		t.Fatal(err)
	}
	if e.SeatsConfirmed != seats || seats > 40 {
		t.Fatalf("counter %d, confirmed seats answered %d (capacity 40)", e.SeatsConfirmed, seats)
	}
	if want := a.Count(t, `SELECT COALESCE(sum(party_size), 0) FROM registrations WHERE status = 'confirmed'`); seats != want {
		t.Fatalf("confirmed seats answered %d, stored %d", seats, want)
	}
	if e.WaitlistLength != len(waitlisted) {
		t.Fatalf("waitlist length %d, waitlisted answers %d", e.WaitlistLength, len(waitlisted))
	}
	// First fit at rest: no waitlisted party fits the seats left.
	for _, r := range waitlisted {
		if seats+r.PartySize <= 40 {
			t.Fatalf("waitlisted party of %d fits %d free seats", r.PartySize, 40-seats)
		}
	}
}

// A sign-up that the database refuses for a reason of its own fails its
// batch; the batch is then written one sign-up at a time, so that only that
// one fails and every other is decided as usual.
func TestOneFailingSignupDoesNotFailItsBatch(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(10) })
	for _, q := range []string{
		`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'boom'; END $$`,
		`CREATE TRIGGER refuse_boom BEFORE INSERT ON registrations
FOR EACH ROW WHEN (NEW.name = 'Boom') EXECUTE FUNCTION refuse_boom()`,
	} {
		if _, err := a.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var ins []registration.SignupInput
	for i := range 60 {
		name := fmt.Sprintf("Guest %d", i)
		if i == 30 {
			name = "Boom"
		}
		ins = append(ins, registration.SignupInput{Name: name, Email: fmt.Sprintf("g%d@example.org", i), PartySize: 1, Consent: true})
	}
	results := rush(t, []*registration.Service{a.Registrations}, "fest", ins)
	confirmed, waitlisted := 0, 0
	for i, r := range results {
		if i == 30 {
			if r.err == nil || !apperr.Is(r.err, apperr.Internal) {
				t.Fatalf("the refused sign-up: %v", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("sign-up %d failed with the refused one: %v", i, r.err)
		}
		switch r.res.Registration.Status {
		case registration.Confirmed:
			confirmed++
		case registration.Waitlisted:
			waitlisted++
		}
	}
	if confirmed != 10 || waitlisted != 49 {
		t.Fatalf("confirmed %d, waitlisted %d; want 10 and 49", confirmed, waitlisted)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 59 {
		t.Fatalf("%d registrations stored, want 59", n)
	}
}

// The event's waitlist length follows every change of status: sign-ups,
// cancellations, promotions.
func TestWaitlistLengthFollowsEveryChange(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(3) })
	var ins []registration.SignupInput
	for i := range 12 {
		ins = append(ins, registration.SignupInput{Name: fmt.Sprintf("Guest %d", i), Email: fmt.Sprintf("g%d@example.org", i), PartySize: 1, Consent: true})
	}
	results := rush(t, []*registration.Service{a.Registrations}, "fest", ins)
	check := func(when string) {
		t.Helper()
		e, err := event.BySlug(context.Background(), a.DB, "fest")
		if err != nil {
			t.Fatal(err)
		}
		if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'waitlisted'`); e.WaitlistLength != n {
			t.Fatalf("%s: waitlist length %d, %d waitlisted rows", when, e.WaitlistLength, n)
		}
	}
	check("after the rush")
	cancelled := 0
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.res.Registration.Status == registration.Confirmed && cancelled < 2 {
			if _, err := a.Registrations.Cancel(context.Background(), r.res.Registration.ManageToken); err != nil {
				t.Fatal(err)
			}
			cancelled++
		}
	}
	check("after cancellations that promote")
	for _, r := range results {
		if r.res.Registration.Status == registration.Waitlisted {
			if _, err := a.Registrations.Cancel(context.Background(), r.res.Registration.ManageToken); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	check("after a waitlisted party cancelled")
}
