package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// FuzzSignupForm fills the sign-up form with arbitrary values and posts it
// as a browser would (CSRF token and all) through the real router: every
// input is answered with the registration (303), the form again with the
// problems marked (422 or a notice), or another clean 4xx page — never a
// 5xx. Seed corpus: testdata/fuzz/FuzzSignupForm; `make fuzz` runs it
// briefly.
func FuzzSignupForm(f *testing.F) {
	a := testapp.New(f)
	o := a.Org(f, "miso")
	a.Event(f, o, "fest", func(in *event.Input) {
		in.Capacity = event.Some(1_000_000)
		four := 4
		in.MaxPartySize = &four
		in.MinAge = event.Some(16)
	})
	f.Add("Ayla", "ayla@example.org", "2", "de", "1990-01-31", "", "yes")
	f.Add("", "not an email", "0", "xx", "31.01.1990", "M-1", "")
	f.Add("Ali \x00\r\n", "ALI@EXAMPLE.ORG ", "-1", "ar", "2999-12-31", strings.Repeat("9", 70), "on")
	f.Add("محمد رضایی", "m@example.org", "99999999999999999999", "fa", "1900-02-29", "", "yes")
	f.Add("\xff\xfe", "a@b", "1e3", "ku", "", "\u202e", "yes")
	f.Fuzz(func(t *testing.T, name, email, party, lang, birth, member, consent string) {
		form := url.Values{
			"name": {name}, "email": {email}, "party_size": {party}, "lang": {lang},
			"birth_date": {birth}, "member_number": {member}, "consent": {consent},
		}
		resp, body := a.Browser(t).Post("/events/fest", "/events/fest/register", form)
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("status %d for %q", resp.StatusCode, form)
		case resp.StatusCode == http.StatusSeeOther:
			if !strings.HasPrefix(resp.Header.Get("Location"), "/r/") {
				t.Fatalf("303 to %q", resp.Header.Get("Location"))
			}
		case resp.StatusCode == http.StatusUnprocessableEntity:
			if !strings.Contains(body, `action="/events/fest/register"`) {
				t.Fatalf("422 without the form again:\n%.2000s", body)
			}
		case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusForbidden &&
			resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusGone:
			t.Fatalf("status %d for %q", resp.StatusCode, form)
		}
	})
}
