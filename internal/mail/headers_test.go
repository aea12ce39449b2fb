package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

var messageIDRE = regexp.MustCompile(`^<[a-z0-9]{26}@[^<>@\s]+>$`)

// Headers of a sent message: Message-ID, Date, Auto-Submitted, umlauts and
// Arabic encoded in the subject and the recipient's name, text before HTML,
// and nothing but 7-bit ASCII on the wire.
func TestHeadersAndEncodings(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	o := a.Org(t, "miso")
	ar := "ar"
	a.Event(t, o, "eid", func(in *event.Input) {
		in.DefaultLang = &ar
		in.Title = event.Texts{"ar": "مهرجان العيد في هانوفر"}
	})
	var ans signupAnswer
	code := a.JSON(t, http.MethodPost, "/api/v1/events/eid/registrations", "", map[string]any{
		"name": "Jürgen Groß-Öztürk", "email": "juergen@example.org", "party_size": 1, "lang": "de", "consent": true,
	}, &ans)
	if code != http.StatusCreated {
		t.Fatalf("sign-up: %d", code)
	}
	raw := srv.Wait(t, 1, 10*time.Second)[0]
	for i, b := range raw.Data {
		if b >= 0x80 {
			t.Fatalf("8-bit byte at %d: the message must be 7-bit clean (QP/base64, RFC 2047)", i)
		}
	}
	m := parsed(t, srv.Received())[0]
	if want := "Anmeldung bestätigt: مهرجان العيد في هانوفر"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if m.To.Name != "Jürgen Groß-Öztürk" || m.To.Address != "juergen@example.org" {
		t.Errorf("To %q <%s>", m.To.Name, m.To.Address)
	}
	if id := m.Header.Get("Message-ID"); !messageIDRE.MatchString(id) {
		t.Errorf("Message-ID %q", id)
	}
	stored := ""
	if err := a.DB.Get(&stored, `SELECT message_id FROM mail_outbox`); err != nil || "<"+stored+">" != m.Header.Get("Message-ID") {
		t.Errorf("Message-ID %q is not the one stored at enqueue (%q, %v)", m.Header.Get("Message-ID"), stored, err)
	}
	if d, err := mail.ParseDate(m.Header.Get("Date")); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %q: %v", m.Header.Get("Date"), err)
	}
	if v := m.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted %q", v)
	}
	if v := m.Header.Get("Reply-To"); !strings.Contains(v, "info@miso.example") {
		t.Errorf("Reply-To %q, want the organisation's address", v)
	}
	if from, err := mail.ParseAddress(m.Header.Get("From")); err != nil || from.Address != "noreply@example.org" {
		t.Errorf("From %q: %v", m.Header.Get("From"), err)
	}
	if !slices.Equal(m.Alternative, []string{"text/plain", "text/html"}) {
		t.Errorf("multipart/alternative holds %v, want text/plain then text/html", m.Alternative)
	}
	for _, p := range m.Parts {
		if (p.MediaType == "text/plain" || p.MediaType == "text/html") && !strings.EqualFold(p.Params["charset"], "utf-8") {
			t.Errorf("%s charset %q", p.MediaType, p.Params["charset"])
		}
	}
	if !strings.Contains(m.Text, "Hallo Jürgen Groß-Öztürk,") || !strings.Contains(m.HTML, "<bdi>Jürgen Groß-Öztürk</bdi>") {
		t.Errorf("body does not carry the name intact:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `lang="ar" dir="rtl"`) {
		t.Errorf("the Arabic title in a German mail is not marked right-to-left")
	}
}

// Without SMTP_URL mail is logged and marked sent; the log shows kind and
// the recipient's domain, never the address or a link.
func TestDevModeLogsAndMarksSent(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	ans := signUp(t, a, "fest", "Anna", "de", 1)
	var log bytes.Buffer
	s := a.Sender(t, nil)
	s.Log = slog.New(slog.NewJSONHandler(&log, nil))
	if n, err := s.SendBatch(context.Background()); err != nil || n != 1 {
		t.Fatalf("SendBatch: %d, %v", n, err)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE status = 'sent'`); n != 1 {
		t.Fatalf("%d marked sent", n)
	}
	out := log.String()
	token := ans.ManageURL[strings.LastIndex(ans.ManageURL, "/")+1:]
	if !strings.Contains(out, `"kind":"confirmed"`) || !strings.Contains(out, `"to_domain":"example.org"`) ||
		strings.Contains(out, "anna@") || strings.Contains(out, token) || strings.Contains(out, ans.Tickets[0].Code) {
		t.Fatalf("dev-mode log: %s", out)
	}
}
