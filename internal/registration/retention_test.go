package registration_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// Personal data goes RETENTION_DAYS after the event ends, not a minute
// earlier; counts, tickets and check-ins stay, and running the job again
// erases nothing new.
func TestRetentionErasesPersonalDataAfterTheEventWithAControlledClock(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	setNow := a.SettableClock()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", func(in *event.Input) {
		in.Capacity = event.Some(2)
		in.MinAge = event.Some(17)
		in.MaxPartySize = ptr(2)
	})
	other := a.Event(t, o, "later", func(in *event.Input) {
		start := e.StartsAt.Add(30 * 24 * time.Hour)
		end := start.Add(time.Hour)
		in.StartsAt, in.EndsAt = &start, &end
	})
	for i, size := range []int{2, 1} {
		body := person(i)
		body["party_size"] = size
		body["birth_date"] = "2000-01-01"
		if code, _ := signUp(t, a, "loccum", body); code != http.StatusCreated {
			t.Fatalf("sign-up %d: %d", i, code)
		}
	}
	if code, _ := signUp(t, a, "later", person(9)); code != http.StatusCreated {
		t.Fatal("sign-up later")
	}
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE event_id = $1 AND seat = 1`, e.ID); err != nil {
		t.Fatal(err)
	}
	retention := 90 * 24 * time.Hour
	ctx := context.Background()
	setNow(e.EndsAt.Add(retention - time.Minute))
	if n, err := a.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 0 {
		t.Fatalf("a minute early: %+v %v", n, err)
	}
	setNow(e.EndsAt.Add(retention + time.Minute))
	n, err := a.Registrations.EraseExpired(ctx, retention, 100)
	if err != nil || n.Registrations != 2 || n.Events != 1 {
		t.Fatalf("erase: %+v %v, want 2 registrations of 1 event", n, err)
	}
	if left := a.Count(t, `SELECT count(*) FROM registrations WHERE event_id = $1 AND (name <> '' OR email <> '' OR birth_date IS NOT NULL OR member_number <> '' OR answers <> '{}')`, e.ID); left != 0 {
		t.Fatalf("%d registrations keep personal data", left)
	}
	if left := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE event_id = $1 AND (recipient <> '' OR body_text <> '' OR body_html <> '' OR payload <> '{}')`, e.ID); left != 0 {
		t.Fatalf("%d emails keep personal data", left)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'waitlisted'`, e.ID); got != 1 {
		t.Fatalf("waitlisted count lost: %d", got)
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM events WHERE id = $1`, e.ID); got != 2 {
		t.Fatalf("seats %d, want 2", got)
	}
	if got := a.Count(t, `SELECT count(*) FROM tickets WHERE event_id = $1 AND checked_in_at IS NOT NULL`, e.ID); got != 1 {
		t.Fatalf("check-in total lost: %d", got)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations WHERE event_id = $1 AND name <> ''`, other.ID); got != 1 {
		t.Fatal("the later event's data was erased too")
	}
	if n, err := a.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 0 {
		t.Fatalf("second run: %+v %v", n, err)
	}
}

// An organiser erases one person on request: their data goes, their seats
// are freed and the waitlist moves up.
func TestEraseOnePersonFreesTheSeatAndKeepsOthers(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(1) })
	signUp(t, a, "fest", person(1))
	signUp(t, a, "fest", person(2))
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations WHERE email = 'p1@example.org'`); err != nil {
		t.Fatal(err)
	}
	if err := a.Registrations.EraseOne(context.Background(), e.ID, id); err != nil {
		t.Fatal(err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE id = $1 AND name = '' AND email = '' AND status = 'cancelled' AND erased_at IS NOT NULL`, id); n != 1 {
		t.Fatal("not erased")
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'p2@example.org' AND status = 'confirmed'`); n != 1 {
		t.Fatal("the waitlist did not move up")
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM events WHERE id = $1`, e.ID); n != 1 {
		t.Fatalf("seats %d", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE registration_id = $1 AND recipient <> ''`, id); n != 0 {
		t.Fatal("outbox keeps the address")
	}
}
