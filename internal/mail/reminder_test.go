package mail_test

import (
	"context"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// The reminder goes out once per registration, within the day before the
// event; not to someone who signed up within that day; and again when the
// event moves to another time.
func TestReminderOncePerRegistrationAndAgainAfterAMove(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	now := time.Now()
	a.Registrations.SetClock(func() time.Time { return now })
	o := a.Org(t, "miso")
	week := a.Event(t, o, "week", nil) // starts in 7 days
	signUp(t, a, "week", "Anna", "de", 1)
	soon := now.Add(12 * time.Hour).Truncate(time.Minute)
	soonEnd := soon.Add(time.Hour)
	a.Event(t, o, "soon", func(in *event.Input) { in.StartsAt, in.EndsAt = &soon, &soonEnd })
	signUp(t, a, "soon", "Ben", "de", 1) // confirmed 12 hours before: no reminder
	remind := func() int {
		t.Helper()
		n, err := a.Registrations.Remind(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := remind(); n != 0 {
		t.Fatalf("reminders a week ahead: %d", n)
	}
	now = week.StartsAt.Add(-12 * time.Hour)
	if n := remind(); n != 1 {
		t.Fatalf("reminders the day before: %d, want Anna's 1", n)
	}
	if n := remind(); n != 0 {
		t.Fatalf("reminders on the next run: %d, want 0", n)
	}
	later := week.StartsAt.Add(48 * time.Hour)
	laterEnd := later.Add(3 * time.Hour)
	if _, err := a.Events.Update(context.Background(), o.ID, "week", event.Input{StartsAt: &later, EndsAt: &laterEnd}); err != nil {
		t.Fatal(err)
	}
	now = later.Add(-12 * time.Hour)
	if n := remind(); n != 1 {
		t.Fatalf("reminders after the move: %d, want 1", n)
	}
	if got := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'reminder' AND recipient = $1`, addr("Anna")); got != 2 {
		t.Fatalf("Anna has %d reminders in the outbox, want 2", got)
	}
	if got := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'reminder' AND recipient = $1`, addr("Ben")); got != 0 {
		t.Fatalf("Ben, who signed up within the day, has %d reminders", got)
	}
}
