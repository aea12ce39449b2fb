package registration_test

import (
	"context"
	"testing"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// The form renders every answer of a sign-up with the event the service
// decided on (Result.Event), so that a form post reads the event once: the
// event must come with every answer a face shows it with, and never with
// the answer to a draft.
func TestSignUpReturnsTheEventWithEveryAnswer(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	no := false
	a.Event(t, o, "one", func(in *event.Input) { in.Capacity, in.Waitlist = event.Some(1), &no })
	draft := event.Draft
	a.Event(t, o, "draft", func(in *event.Input) { in.Status = &draft })
	ctx := context.Background()
	in := func(email string, party int) registration.SignupInput {
		return registration.SignupInput{Name: "N", Email: email, PartySize: party, Consent: true}
	}

	res, err := a.Registrations.SignUp(ctx, "one", in("a@example.org", 1))
	if err != nil || res.Event == nil || res.Event.Slug != "one" || res.Event.SeatsConfirmed != 1 {
		t.Fatalf("confirmed: %+v, %v; want the event with its seat taken", res, err)
	}
	res, err = a.Registrations.SignUp(ctx, "one", in("a@example.org", 1))
	if err != nil || !res.Existing || res.Event == nil {
		t.Errorf("existing: %+v, %v; want the event", res, err)
	}
	res, err = a.Registrations.SignUp(ctx, "one", in("b@example.org", 1))
	if !apperr.Is(err, apperr.Full) || res == nil || res.Event == nil || res.Registration != nil {
		t.Errorf("full: %+v, %v; want only the event", res, err)
	}
	res, err = a.Registrations.SignUp(ctx, "one", in("c@example.org", 0))
	if !apperr.Is(err, apperr.Invalid) || res == nil || res.Event == nil {
		t.Errorf("invalid: %+v, %v; want only the event", res, err)
	}
	for _, party := range []int{0, 1} {
		res, err = a.Registrations.SignUp(ctx, "draft", in("d@example.org", party))
		if !apperr.Is(err, apperr.NotFound) || res != nil {
			t.Errorf("draft, party %d: %+v, %v; want not found and no event", party, res, err)
		}
	}
}
