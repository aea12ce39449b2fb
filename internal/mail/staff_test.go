package mail_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/testapp"
)

// A password reset asked for by a staff member goes out through the
// outbox with its one-time link, and the link opens the page that sets the
// password.
func TestPasswordResetMailCarriesAWorkingLink(t *testing.T) {
	t.Parallel()
	a := testapp.New(t, testapp.StaffOutbox) // the app's own outbox instead of the recorder
	srv := a.StartMail(t)
	o := a.Org(t, "miso")
	if err := a.Auth.AddUser(context.Background(), "anna@miso.example", "correct horse battery", o.ID, "organiser", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.RequestReset(context.Background(), "anna@miso.example", "en"); err != nil {
		t.Fatal(err)
	}
	m := parsed(t, srv.Wait(t, 1, 10*time.Second))[0]
	if m.To.Address != "anna@miso.example" || m.Subject != "Set a new Treffpunkt password" || m.Header.Get("Content-Language") != "en" {
		t.Fatalf("reset mail: to %s, subject %q, lang %s", m.To.Address, m.Subject, m.Header.Get("Content-Language"))
	}
	ls := links(a, m.Text)
	if len(ls) == 0 || !strings.Contains(ls[0], "/login/reset/") {
		t.Fatalf("no reset link in:\n%s", m.Text)
	}
	u, _ := url.Parse(ls[0])
	if code, body := a.Browser(t).Get(u.Path); code != 200 || !strings.Contains(body, "password") {
		t.Fatalf("reset link %s: %d", u.Path, code)
	}
	// The sender marks a message sent right after the server's OK: wait
	// for that commit rather than race it.
	waitFor(t, 5*time.Second, "the reset mail marked sent", func() bool {
		return a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'password_reset' AND registration_id IS NULL AND status = 'sent'`) == 1
	})
}
