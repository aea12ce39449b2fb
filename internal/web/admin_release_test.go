package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// Organisers release no-shows from the event page once it has started:
// the minutes, a confirmation page that counts who would go (nothing
// changes yet), then the POST through the same service call as the API's,
// which cancels the confirmed registration nobody checked in for, moves
// the waitlist up and writes the same audit entry. Before the minutes have
// passed, and for nonsense minutes, the page says why; door staff may do
// none of it.
func TestOrganisersReleaseNoShowsFromTheEventPage(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(2) })
	a.Event(t, o, "later", nil)
	var regs []*registration.Registration
	for i := range 3 {
		res, err := a.Registrations.SignUp(context.Background(), "fest", registration.SignupInput{
			Name: fmt.Sprintf("P %d", i), Email: fmt.Sprintf("p%d@example.org", i), PartySize: 1, Lang: "de", Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, res.Registration)
	}
	if regs[2].Status != registration.Waitlisted {
		t.Fatalf("third sign-up %s, want waitlisted", regs[2].Status)
	}
	// The festival began an hour ago; the first came.
	if _, err := a.DB.Exec(`UPDATE events SET starts_at = now() - interval '1 hour', ends_at = now() + interval '2 hours' WHERE slug = 'fest'`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = $1`, regs[0].ID); err != nil {
		t.Fatal(err)
	}
	org := a.LoggedIn(t, a.Staff(t, o, "organiser@miso.example", auth.Organiser, false))
	door := a.LoggedIn(t, a.Staff(t, o, "door@miso.example", auth.Door, false))
	const ev = "/admin/orgs/miso/events/fest"

	if _, page := org.Get("/admin/orgs/miso/events/later"); strings.Contains(page, `id="release-form"`) {
		t.Error("an event that has not started offers the release")
	}
	if _, page := org.Get(ev); !strings.Contains(page, `id="release-form"`) || !strings.Contains(page, `action="`+ev+`/release-no-shows"`) {
		t.Fatal("the started event's page does not offer the release")
	}
	code, page := org.Get(ev + "/release-no-shows?after_minutes=30&lang=de")
	if code != http.StatusOK || !strings.Contains(page, `id="release-summary"`) || !strings.Contains(page, "30 Minuten nach dem Beginn") ||
		!strings.Contains(page, "1 bestätigte Anmeldungen (1 Personen)") || !strings.Contains(page, `name="after_minutes" value="30"`) {
		t.Fatalf("confirmation: %d\n%.3000s", code, page)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'cancelled'`); n != 0 {
		t.Fatalf("the confirmation page released %d", n)
	}
	if code, page := org.Get(ev + "/release-no-shows?after_minutes=120"); code != http.StatusConflict || !strings.Contains(page, `id="problem"`) || strings.Contains(page, `id="release-confirm"`) {
		t.Errorf("too early: %d", code)
	}
	if code, page := org.Get(ev + "/release-no-shows?after_minutes=viel"); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-after_minutes"`) {
		t.Errorf("bad minutes: %d", code)
	}

	// Door staff: neither the page nor the POST.
	if code, _ := door.Get(ev + "/release-no-shows?after_minutes=30"); code != http.StatusForbidden {
		t.Errorf("door staff on the confirmation: %d, want 403", code)
	}
	if res, _ := door.Post("/checkin/events/fest", ev+"/release-no-shows", url.Values{"after_minutes": {"30"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("door staff releasing: %d, want 403", res.StatusCode)
	}
	// Without the CSRF token: refused.
	if res, _ := org.PostRaw(ev+"/release-no-shows", url.Values{"after_minutes": {"30"}}); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
		t.Errorf("without token: %d", res.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'cancelled'`); n != 0 {
		t.Fatalf("a refused release cancelled %d", n)
	}

	res, _ := org.Post(ev+"/release-no-shows?after_minutes=30", ev+"/release-no-shows", url.Values{"after_minutes": {"30"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != ev {
		t.Fatalf("release: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, page := org.Get(ev + "?lang=de"); !strings.Contains(page, "Die Plätze der nicht Erschienenen sind freigegeben") {
		t.Error("no message after the release")
	}
	status := func(id int64) (s string, released bool) {
		if err := a.DB.QueryRow(`SELECT status, released_at IS NOT NULL FROM registrations WHERE id = $1`, id).Scan(&s, &released); err != nil {
			t.Fatal(err)
		}
		return s, released
	}
	if s, _ := status(regs[0].ID); s != "confirmed" {
		t.Errorf("who came is %s", s)
	}
	if s, rel := status(regs[1].ID); s != "cancelled" || !rel {
		t.Errorf("the no-show is %s (released %v)", s, rel)
	}
	if s, _ := status(regs[2].ID); s != "confirmed" {
		t.Errorf("the waiting one is %s, want confirmed", s)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'registrations.release_no_shows' AND target = 'fest'
	    AND actor = 'organiser@miso.example' AND (details->>'after_minutes')::int = 30 AND (details->>'released')::int = 1`); n != 1 {
		t.Errorf("%d audit entries of the release, want 1", n)
	}
}
