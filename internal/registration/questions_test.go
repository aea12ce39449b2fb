package registration_test

import (
	"context"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// Answers are personal data: the retention job blanks them with the name
// and the email once the retention period after the event has passed.
func TestRetentionErasesAnswers(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	setNow := a.SettableClock()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", func(in *event.Input) {
		in.Questions = &event.Questions{{Key: "needs", Type: event.QText, Label: event.Texts{"de": "Bedarf"}, Required: true}}
	})
	ctx := context.Background()
	if _, err := a.Registrations.SignUp(ctx, "fest", registration.SignupInput{
		Name: "Ayla", Email: "ayla@example.org", PartySize: 1, Consent: true,
		Answers: map[string]any{"needs": "Rollstuhlplatz"},
	}); err != nil {
		t.Fatal(err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE answers->>'needs' = 'Rollstuhlplatz'`); n != 1 {
		t.Fatalf("answer not stored")
	}
	retention := 30 * 24 * time.Hour
	setNow(e.EndsAt.Add(retention + time.Minute))
	if n, err := a.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 1 {
		t.Fatalf("erase: %+v %v", n, err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE answers = '{}'::jsonb AND name = '' AND email = ''`); n != 1 {
		t.Fatalf("answers kept after retention")
	}
}
