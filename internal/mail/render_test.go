package mail

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/config"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/registration"
	webfs "treffpunkt/web"
)

func testOutbox(t testing.TB, defLang string) *Outbox {
	t.Helper()
	cat, err := i18n.Load(webfs.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOutbox(nil, &config.Config{BaseURL: "https://treffpunkt.example", DefaultLang: defLang}, cat)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Every kind has a subject, a text and an HTML body in German and English,
// on the layout, with no template gaps, and the previews build real MIME.
func TestEveryKindRendersInGermanAndEnglish(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	greeting := map[string]string{"de": "Hallo", "en": "Hello"}
	for _, kind := range registration.MailKinds {
		for _, lang := range []string{"de", "en"} {
			if !o.tpl.has(kind, lang) {
				t.Errorf("no template %s.%s", kind, lang)
				continue
			}
			var text, html, eml bytes.Buffer
			for f, buf := range map[string]*bytes.Buffer{PreviewText: &text, PreviewHTML: &html, PreviewEML: &eml} {
				if err := o.Preview(buf, kind, lang, f, "Treffpunkt <noreply@treffpunkt.example>"); err != nil {
					t.Fatalf("%s.%s %s: %v", kind, lang, f, err)
				}
			}
			for name, s := range map[string]string{"text": text.String(), "html": html.String()} {
				if strings.Contains(s, "<no value>") || strings.Contains(s, "ZgotmplZ") {
					t.Errorf("%s.%s %s has a template gap:\n%s", kind, lang, name, s)
				}
				if !strings.Contains(s, greeting[lang]+" Ayşe Yılmaz,") && !strings.Contains(s, greeting[lang]+" <bdi>Ayşe Yılmaz</bdi>,") {
					t.Errorf("%s.%s %s does not greet in %s:\n%s", kind, lang, name, lang, s)
				}
			}
			if !strings.Contains(text.String(), "Subject: ") || !strings.Contains(text.String(), "\n-- \n") {
				t.Errorf("%s.%s text lacks subject or signature:\n%s", kind, lang, text.String())
			}
			if !strings.HasPrefix(html.String(), "<!DOCTYPE html>") || !strings.Contains(html.String(), `<html lang="`+lang+`"`) {
				t.Errorf("%s.%s html is not on the layout", kind, lang)
			}
			m, err := mailtest.Parse(eml.Bytes())
			if err != nil {
				t.Fatalf("%s.%s eml: %v", kind, lang, err)
			}
			if m.Subject == "" || m.Text == "" || m.HTML == "" {
				t.Errorf("%s.%s eml: subject %q, text %d bytes, html %d bytes", kind, lang, m.Subject, len(m.Text), len(m.HTML))
			}
		}
	}
}

// What each kind must say, beyond the layout.
func TestKindsCarryTheirFacts(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	const manage = "https://treffpunkt.example/r/SAMPLEMANAGETOKEN000000000"
	const ticket = "https://treffpunkt.example/t/SAMPLETICKETCODE0000000001"
	for kind, want := range map[string][]string{
		registration.MailConfirmed:      {"du bist angemeldet", manage, ticket, "SAMPLETICKETCODE0000000002", "calendar.ics"},
		registration.MailWaitlisted:     {"Platz 3 der Warteliste", manage},
		registration.MailPromoted:       {"nachgerückt", manage, ticket, "calendar.ics"},
		registration.MailCancelled:      {"abgesagt", "https://treffpunkt.example/events/1-mai-fest"},
		registration.MailEventChanged:   {"die Zeit", "Vorher war es:", manage, "calendar.ics"},
		registration.MailEventCancelled: {"abgesagt", "calendar.ics"},
		registration.MailReminder:       {"erinnern", ticket, manage},
	} {
		var buf bytes.Buffer
		if err := o.Preview(&buf, kind, "de", PreviewText, "x@example.org"); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s lacks %q:\n%s", kind, w, buf.String())
			}
		}
		if kind == registration.MailCancelled && strings.Contains(buf.String(), ticket) {
			t.Errorf("a cancellation shows a ticket link:\n%s", buf.String())
		}
	}
}

// A participant whose language has no templates gets the installation's
// default language, and German when that has none either.
func TestMailFallsBackToTheDefaultLanguage(t *testing.T) {
	t.Parallel()
	for def, want := range map[string]string{"en": "Hello", "de": "Hallo", "tr": "Merhaba", "fr": "Hallo"} {
		o := testOutbox(t, def)
		var buf bytes.Buffer
		if err := o.Preview(&buf, registration.MailConfirmed, "fr", PreviewText, "x@example.org"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), want+" Ayşe") {
			t.Errorf("DEFAULT_LANG=%s, recipient fr: want %q\n%s", def, want, buf.String())
		}
	}
}

// Calendar entries and QR codes go only to confirmed participants, and QR
// codes only with the kinds that show tickets.
func TestCalendarAndQRCodesGoToTheConfirmedOnly(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	for _, tc := range []struct {
		kind, status string
		calendar     bool
		qr           int
	}{
		{registration.MailConfirmed, registration.Confirmed, true, 2},
		{registration.MailPromoted, registration.Confirmed, true, 2},
		{registration.MailReminder, registration.Confirmed, false, 2},
		{registration.MailEventChanged, registration.Confirmed, true, 0},
		{registration.MailEventChanged, registration.Waitlisted, false, 0},
		{registration.MailEventCancelled, registration.Confirmed, true, 0},
		{registration.MailEventCancelled, registration.Waitlisted, false, 0},
		{registration.MailCancelled, registration.Cancelled, false, 0},
		{registration.MailWaitlisted, registration.Waitlisted, false, 0},
	} {
		n, r := sample(tc.kind, "en", time.Now())
		r.Status = tc.status
		m, err := o.compose(n, r, newCalendars())
		if err != nil {
			t.Fatal(err)
		}
		if (m.Calendar != "") != tc.calendar || len(m.QR) != tc.qr {
			t.Errorf("%s to %s: calendar %v, %d QR codes; want %v, %d", tc.kind, tc.status, m.Calendar != "", len(m.QR), tc.calendar, tc.qr)
		}
		if m.Calendar != "" && !strings.Contains(m.Calendar, "\r\nMETHOD:PUBLISH\r\n") {
			t.Errorf("%s: calendar without METHOD:PUBLISH", tc.kind)
		}
	}
}

// Staff emails carry their link, its expiry and the role, in German and
// English, with a footer that speaks of no event.
func TestStaffMailsRenderWithTheirLink(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	for _, kind := range staffKinds {
		for lang, role := range map[string]string{"de": "„Veranstalter*in“", "en": "Organiser"} {
			var buf bytes.Buffer
			if err := o.Preview(&buf, kind, lang, PreviewText, "x@example.org"); err != nil {
				t.Fatalf("%s.%s: %v", kind, lang, err)
			}
			s := buf.String()
			link := "https://treffpunkt.example/login/reset/SAMPLELINKTOKEN"
			if kind == "staff_added" {
				link = "https://treffpunkt.example/login"
			}
			if !strings.Contains(s, link) || strings.Contains(s, "<no value>") || strings.Contains(s, "Veranstaltung beantwortet") || strings.Contains(s, "answers questions about the event") {
				t.Errorf("%s.%s:\n%s", kind, lang, s)
			}
			if kind != "password_reset" && !strings.Contains(s, role) {
				t.Errorf("%s.%s lacks the role %q:\n%s", kind, lang, role, s)
			}
			if kind != "staff_added" && !strings.Contains(s, time.Now().Add(24*time.Hour).Format("2006")) {
				t.Errorf("%s.%s lacks the link's expiry:\n%s", kind, lang, s)
			}
		}
	}
}
