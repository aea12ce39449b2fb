package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/testapp"
)

// The change form on /r/{token} offers the sessions with the chosen ones
// ticked; a full one without a waitlist refuses the whole change with the
// field marked, an overlap too; a good choice moves the places.
func TestChangeFormChangesSessions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	sessionsEvent(t, a, "konf")
	signup := func(name string, keys ...string) string {
		resp, _ := a.Browser(t).Post("/events/konf", "/events/konf/register",
			url.Values{"name": {name}, "email": {strings.ToLower(name) + "@example.org"}, "consent": {"yes"}, "session": keys})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-up of %s: %d", name, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	signup("Erste", "b")
	page := signup("Ayla", "a", "c")
	b := a.Browser(t)
	_, body := b.Get(page)
	for _, want := range []string{
		`name="sessions_shown" value="1"`,
		`id="f-session-a" name="session" type="checkbox" value="a" checked>`,
		`id="f-session-b" name="session" type="checkbox" value="b" disabled>`,
		`id="f-session-c" name="session" type="checkbox" value="c" checked>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("change form lacks %s", want)
		}
	}
	form := func(keys ...string) url.Values {
		return url.Values{"name": {"Ayla"}, "lang": {"de"}, "sessions_shown": {"1"}, "session": keys}
	}
	before := dbState(t, a)
	places := func() int { return a.Count(t, `SELECT sum(seats_confirmed) FROM event_sessions`) }
	for name, tc := range map[string]struct {
		keys   []string
		status int
		text   string
	}{
		"full":        {[]string{"b", "c"}, http.StatusConflict, "ausgebucht"},
		"overlapping": {[]string{"a", "b"}, http.StatusUnprocessableEntity, "gleichzeitig"},
	} {
		resp, body := b.Post(page, page+"/change", form(tc.keys...))
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: status %d, want %d", name, resp.StatusCode, tc.status)
		}
		if !strings.Contains(body, `id="e-sessions"`) || !strings.Contains(body, `href="#f-sessions"`) || !strings.Contains(body, tc.text) {
			t.Fatalf("%s: sessions field not marked with %q", name, tc.text)
		}
		if dbState(t, a) != before || places() != 3 {
			t.Fatalf("%s: a refused change wrote something", name)
		}
	}
	// Nothing ticked but c: a is given up.
	resp, _ := b.Post(page, page+"/change", form("c"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'a'`); n != 0 {
		t.Fatalf("a holds %d places after it was unticked", n)
	}
	if _, body = b.Get(page); strings.Contains(body, `value="a" checked`) || !strings.Contains(body, `value="c" checked`) {
		t.Error("the form does not show the new choice")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'changed'`); n != 1 {
		t.Errorf("%d change mails, want 1", n)
	}
}
