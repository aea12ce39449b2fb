package testapp

import (
	"context"
	"testing"

	"treffpunkt/internal/registration"
)

// Signed signs up name (email derived from it) for the event slug with a
// party of party and fails the test unless the registration is confirmed
// with one ticket per seat.
func (a *App) Signed(t testing.TB, slug, name string, party int) *registration.Registration {
	t.Helper()
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
		Name: name, Email: emailOf(name), PartySize: party, Lang: "de", Consent: true,
	})
	if err != nil {
		t.Fatalf("sign up %s for %s: %v", name, slug, err)
	}
	r := res.Registration
	if r.Status != registration.Confirmed || len(r.Tickets) != party {
		t.Fatalf("sign up %s for %s: status %s with %d tickets", name, slug, r.Status, len(r.Tickets))
	}
	return r
}

func emailOf(name string) string {
	b := make([]rune, 0, len(name))
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, r)
		case r >= 'A' && r <= 'Z':
			b = append(b, r+'a'-'A')
		}
	}
	return string(b) + "@example.org"
}
