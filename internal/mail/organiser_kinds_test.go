package mail

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	orgmsg "treffpunkt/internal/message"
	"treffpunkt/internal/notify"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
)

// Issue 19: an organiser's message and an organisation's notification
// render in every language from that language's catalogue — no raw message
// id, no template gap, no German in another language's frame — and a
// message falls back to the event's language as a whole (text and frame)
// when it lacks the reader's.
func TestOrganiserKindsRenderInEveryLanguage(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	msg := &orgmsg.Message{ID: 1, Subject: event.Texts{}, Body: event.Texts{}}
	for _, lang := range config.Languages {
		msg.Subject[lang], msg.Body[lang] = "Subject "+lang, "Body "+lang+"\n\n<b>second</b> paragraph"
	}
	for _, lang := range config.Languages {
		n, r := sample(registration.MailConfirmed, lang, time.Now())
		m, err := o.composeMessage(msg, n.Event, r)
		if err != nil {
			t.Fatal(err)
		}
		left := 3
		on, err := o.composeOrgNotice(notify.Notice{
			Org: &org.Settings{Org: org.Org{Slug: "faust", Name: "FAUST e. V."}}, Lang: lang,
			Changes: []notify.Change{{Event: n.Event, SignUps: 4, Cancellations: 1, Promoted: 2, NowFull: true, SeatsLeft: &left, Waitlist: 5}},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []*message{m, on} {
			if x.Lang != lang || x.Subject == "" {
				t.Errorf("%s.%s: lang %s, subject %q", x.Kind, lang, x.Lang, x.Subject)
			}
			for name, s := range map[string]string{"text": x.Text, "html": x.HTML} {
				if strings.Contains(s, "<no value>") || strings.Contains(s, "ZgotmplZ") {
					t.Errorf("%s.%s %s has a template gap:\n%s", x.Kind, lang, name, s)
				}
				if id := rawID.FindString(s); id != "" {
					t.Errorf("%s.%s %s shows the raw id %q", x.Kind, lang, name, id)
				}
				if lang != "de" && (strings.Contains(s, "Anmeldung") || strings.Contains(s, "Warteliste")) {
					t.Errorf("%s.%s %s has German in it:\n%s", x.Kind, lang, name, s)
				}
			}
		}
		if m.Subject != "Subject "+lang || !strings.Contains(m.Text, "Body "+lang) || !strings.Contains(m.Text, "/r/SAMPLEMANAGETOKEN") {
			t.Errorf("message.%s: %q\n%s", lang, m.Subject, m.Text)
		}
		// Plain text stays text in the HTML part.
		if !strings.Contains(m.HTML, "&lt;b&gt;second&lt;/b&gt; paragraph") || strings.Contains(m.HTML, "<b>second") {
			t.Errorf("message.%s html does not escape the text:\n%s", lang, m.HTML)
		}
		if lang == "fa" || lang == "ar" {
			continue // the counts are in the language's own digits
		}
		for _, c := range []string{"4", "5", "3"} {
			if !strings.Contains(on.Text, c) {
				t.Errorf("org_changes.%s lacks the count %s:\n%s", lang, c, on.Text)
			}
		}
	}
	// Not in the reader's language: all of it in the event's.
	n, r := sample(registration.MailConfirmed, "ru", time.Now())
	only := &orgmsg.Message{Subject: event.Texts{"de": "Raum"}, Body: event.Texts{"de": "Saal 2"}}
	m, err := o.composeMessage(only, n.Event, r)
	if err != nil {
		t.Fatal(err)
	}
	if m.Lang != "de" || m.Subject != "Raum" || !strings.Contains(m.Text, "Anmeldung") {
		t.Errorf("fallback: %s %q\n%s", m.Lang, m.Subject, m.Text)
	}
	var buf bytes.Buffer
	for _, kind := range []string{KindMessage, KindOrgChanges} {
		if err := o.Preview(&buf, kind, "en", PreviewEML, "x@example.org"); err != nil {
			t.Errorf("preview %s: %v", kind, err)
		}
	}
}
