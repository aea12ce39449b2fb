package mail

import (
	"bytes"
	"strings"
	"testing"

	"treffpunkt/internal/registration"
)

// The confirmation and the change mail list the chosen sessions with time, room and standing;
// the session mails name the session they are about.
func TestSessionMailsNameTheSessions(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	for kind, want := range map[string][]string{
		registration.MailConfirmed:        {"Deine Programmpunkte:", "Tanzworkshop", "Saal 2", "(Platz sicher)"},
		registration.MailChanged:          {"Deine Programmpunkte:", "Tanzworkshop", "Saal 2", "(Platz sicher)"},
		registration.MailSessionPromoted:  {"Du hast einen Platz im Programmpunkt", "Tanzworkshop", "Raum:", "Saal 2"},
		registration.MailSessionCancelled: {"Programmpunkt abgesagt", "Tanzworkshop", "bleibt bestehen"},
	} {
		for _, f := range []string{PreviewText, PreviewHTML} {
			var buf bytes.Buffer
			if err := o.Preview(&buf, kind, "de", f, "Treffpunkt <noreply@treffpunkt.example>"); err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if f == PreviewHTML && strings.HasSuffix(w, ":") && w != "Raum:" {
					w = strings.TrimSuffix(w, ":")
				}
				if !strings.Contains(buf.String(), w) {
					t.Errorf("%s %s lacks %q:\n%s", kind, f, w, buf.String())
				}
			}
		}
	}
}
