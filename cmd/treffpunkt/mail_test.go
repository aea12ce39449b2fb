package main

import (
	"strings"
	"testing"

	"treffpunkt/internal/mail/mailtest"
)

func TestMailPreviewShowsEachKind(t *testing.T) {
	t.Setenv("BASE_URL", "https://treffpunkt.example")
	out, err := cli(t, "", "mail", "preview", "--kind", "waitlisted", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Subject: Waitlist, number 3: ") || !strings.Contains(out, "https://treffpunkt.example/r/") {
		t.Fatalf("text preview:\n%s", out)
	}
	out, err = cli(t, "", "mail", "preview", "--kind", "confirmed", "--lang", "de", "--format", "eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailtest.Parse([]byte(out))
	if err != nil {
		t.Fatalf("eml preview does not parse: %v", err)
	}
	if !strings.HasPrefix(m.Subject, "Anmeldung bestätigt: ") || m.Part("text/calendar") == nil || m.Part("image/png") == nil {
		t.Fatalf("eml preview: %q, parts %d", m.Subject, len(m.Parts))
	}
	if _, err := cli(t, "", "mail", "preview", "--kind", "welcome"); err == nil || !strings.Contains(err.Error(), "confirmed, waitlisted") {
		t.Fatalf("unknown kind: %v", err)
	}
	t.Setenv("SMTP_URL", "smtp://mail.example.org?tls=maybe")
	if _, err := cli(t, "", "mail", "preview"); err == nil || !strings.Contains(err.Error(), "SMTP_URL") {
		t.Fatalf("bad SMTP_URL: %v", err)
	}
}
