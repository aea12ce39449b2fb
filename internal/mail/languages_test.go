package mail

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"treffpunkt/internal/config"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/registration"
)

// greetings open every mail, by language: a participant's mail greets them
// by name, a staff mail without one.
var greetings = map[string]string{
	"de": "Hallo", "en": "Hello", "tr": "Merhaba", "ar": "مرحبًا",
	"fa": "سلام", "ru": "Здравствуйте", "ku": "Silav",
}

// rawID is a catalogue id left in a mail: a message no catalogue has.
var rawID = regexp.MustCompile(`\bmail[._][a-z_.]+`)

// Every kind of mail, to participants and to staff, renders in every
// language Treffpunkt publishes in: its own templates (not a fallback), a
// subject, text and HTML without gaps, the HTML with the language's lang and
// dir, and a message that parses.
func TestEveryKindRendersInEveryLanguage(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	kinds := append(append([]string{registration.MailNotMember}, registration.MailKinds...), staffKinds...)
	for _, lang := range config.Languages {
		greeting := greetings[lang]
		if greeting == "" {
			t.Errorf("no greeting listed for %s", lang)
			continue
		}
		for _, kind := range kinds {
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
				if !strings.Contains(s, greeting) {
					t.Errorf("%s.%s %s does not greet in %s:\n%s", kind, lang, name, lang, s)
				}
				if lang != "de" && strings.Contains(s, "Hallo") {
					t.Errorf("%s.%s %s has German in it:\n%s", kind, lang, name, s)
				}
				if id := rawID.FindString(s); id != "" {
					t.Errorf("%s.%s %s shows the raw message id %q:\n%s", kind, lang, name, id, s)
				}
			}
			if !strings.Contains(html.String(), `<html lang="`+lang+`" dir="`+i18n.Dir(lang)+`">`) {
				t.Errorf("%s.%s html lacks lang and dir", kind, lang)
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

// The mails that send the reader back to the event page to sign up again
// link that phrase in every language, besides the event's title.
func TestEventPagePhraseIsALinkInEveryLanguage(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	const link = `href="https://treffpunkt.example/events/1-mai-fest"`
	for _, lang := range config.Languages {
		for _, kind := range []string{registration.MailCancelled, registration.MailHoldExpired} {
			var html bytes.Buffer
			if err := o.Preview(&html, kind, lang, PreviewHTML, "x@example.org"); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(html.String(), link); n < 2 {
				t.Errorf("%s.%s: the event page is linked %d times, want the title and the phrase", kind, lang, n)
			}
		}
	}
}
