package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// An address with invisible or look-alike characters, or an IP literal for
// a domain, is refused with 422 naming the email field and a message that
// says what is wrong; nothing is written. An internationalised domain is
// stored in its ASCII form, lower-case.
func TestSignupRefusesInvisibleAndLookAlikeEmailsWithoutWriting(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.event(a.org("miso").ID, "konferenz", nil)
	const path = "/api/v1/events/konferenz/registrations"
	for _, tc := range []struct{ email, says string }{
		{"ayse@example.org\u200b", "invisible"},
		{"\u202eayse@example.org", "invisible"},
		{"\uff41\uff59\uff53\uff45@example.org", "look like"},
		{"ayse@[127.0.0.1]", "IP address"},
		{"ay se@example.org", "spaces"},
		{strings.Repeat("a", 250) + "@example.org", "at most 254"},
	} {
		res := a.do(request{Method: http.MethodPost, Path: path, ContentType: "application/json",
			Body: `{"name":"Ayşe","email":"` + tc.email + `","consent":true,"lang":"en"}`, Header: map[string]string{"Accept-Language": "en"}})
		e := res.apiErr(t, http.StatusUnprocessableEntity, "invalid")
		if m := e.Fields["email"]; !strings.Contains(m, tc.says) || len(e.Fields) != 1 {
			t.Errorf("%+q: fields %v, want email saying %q", tc.email, e.Fields, tc.says)
		}
	}
	for _, table := range []string{"registrations", "tickets", "mail_outbox"} {
		if n := a.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Fatalf("%d rows written to %s", n, table)
		}
	}

	res := a.postJSON(http.MethodPost, path, "", signup("Ayse@BÜCHER.Example"))
	res.wantStatus(t, http.StatusCreated)
	if n := a.count(`SELECT count(*) FROM registrations WHERE email = 'Ayse@xn--bcher-kva.example'`); n != 1 {
		t.Fatalf("the domain is not stored lower-case in punycode")
	}
}
