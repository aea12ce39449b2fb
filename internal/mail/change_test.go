package mail_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// A change of a registration is mailed over real SMTP in the language it
// chose, with every ticket it has then; when it added people, the new
// tickets are marked and their QR codes attached (and only theirs).
func TestChangedRegistrationIsMailedWithTheNewTickets(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	a.Event(t, a.Org(t, "miso"), "fest", func(in *event.Input) { in.Capacity, in.MaxPartySize = event.Some(10), ptr(4) })
	anna := signUp(t, a, "fest", "Anna", "de", 1)
	srv.Wait(t, 1, 10*time.Second)
	token := anna.ManageURL[strings.LastIndex(anna.ManageURL, "/")+1:]

	var grown signupAnswer
	if code := a.JSON(t, http.MethodPatch, "/api/v1/registrations/"+token, "", map[string]any{"party_size": 3, "lang": "en"}, &grown); code != http.StatusOK {
		t.Fatalf("change: %d", code)
	}
	if len(grown.Tickets) != 3 || grown.Tickets[0].Code != anna.Tickets[0].Code {
		t.Fatalf("tickets %v, want Anna's first and two more", grown.Tickets)
	}
	m := parsed(t, srv.Wait(t, 2, 10*time.Second))[1]
	if m.To.Address != addr("Anna") || m.Header.Get("Content-Language") != "en" ||
		!strings.HasPrefix(m.Subject, "Your registration was changed: ") {
		t.Fatalf("to %s, language %s, subject %q", m.To.Address, m.Header.Get("Content-Language"), m.Subject)
	}
	for _, want := range []string{"Hello Anna,", "You are signed up, 3 people in all.", anna.ManageURL,
		grown.Tickets[0].Code, grown.Tickets[1].Code, grown.Tickets[2].URL, "Ticket 3 of 3 (new)", "anyone who has the link"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "Ticket 1 of 3 (new)") {
		t.Errorf("the kept ticket is marked new:\n%s", m.Text)
	}
	var qr []string
	for _, p := range m.Parts {
		if p.MediaType == "image/png" {
			qr = append(qr, decodeQR(t, p.Body))
		}
	}
	if !slices.Equal(qr, []string{grown.Tickets[1].URL, grown.Tickets[2].URL}) {
		t.Errorf("QR codes attached %v, want those of the two new tickets", qr)
	}

	// Fewer people, in Arabic: the mail says so, with the one ticket left
	// and nothing attached.
	var shrunk signupAnswer
	if code := a.JSON(t, http.MethodPatch, "/api/v1/registrations/"+token, "", map[string]any{"party_size": 1, "lang": "ar"}, &shrunk); code != http.StatusOK {
		t.Fatalf("change: %d", code)
	}
	m = parsed(t, srv.Wait(t, 3, 10*time.Second))[2]
	if m.Header.Get("Content-Language") != "ar" || !strings.Contains(m.Subject, "تم تغيير تسجيلك") ||
		!strings.Contains(m.Text, anna.Tickets[0].Code) || strings.Contains(m.Text, grown.Tickets[1].Code) || m.Part("image/png") != nil {
		t.Errorf("shrunk mail %q:\n%s", m.Subject, m.Text)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Received()); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}
