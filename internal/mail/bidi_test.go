package mail

import (
	"bytes"
	"strings"
	"testing"

	"treffpunkt/internal/registration"
)

// TestAddressIsIsolatedAsOneUnitInRightToLeftMails: in an Arabic or
// Persian confirmation, the venue and its address (left-to-right parts)
// stay in their order as one unit: Unicode isolates (FSI … PDI) in the
// text part, one <bdi dir="auto"> in the HTML part, where the two used to
// swap places ("Zur Bettfedernfabrik 3, 30451 Hannover ,Kulturzentrum
// Faust").
func TestAddressIsIsolatedAsOneUnitInRightToLeftMails(t *testing.T) {
	t.Parallel()
	o := testOutbox(t, "de")
	place := "Kulturzentrum Faust, Zur Bettfedernfabrik 3, 30451 Hannover"
	for _, lang := range []string{"ar", "fa", "de"} {
		for _, kind := range []string{registration.MailConfirmed, registration.MailEventChanged} {
			var text, html bytes.Buffer
			if err := o.Preview(&text, kind, lang, PreviewText, "x@example.org"); err != nil {
				t.Fatal(err)
			}
			if err := o.Preview(&html, kind, lang, PreviewHTML, "x@example.org"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "\u2068"+place+"\u2069") {
				t.Errorf("%s %s: the text part does not isolate %q:\n%s", lang, kind, place, text.String())
			}
			if !strings.Contains(html.String(), `<bdi dir="auto">`+place+`</bdi>`) {
				t.Errorf("%s %s: the HTML part does not isolate the place as one unit", lang, kind)
			}
		}
	}
}
