package mail_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testutil"
)

type signupAnswer struct {
	ID               int64  `json:"id"`
	Status           string `json:"status"`
	WaitlistPosition *int   `json:"waitlist_position"`
	ManageURL        string `json:"manage_url"`
	Tickets          []struct {
		Code string `json:"code"`
		URL  string `json:"url"`
	} `json:"tickets"`
}

// signUp signs name (name@example.org) up for slug through the API.
func signUp(t *testing.T, a *testapp.App, slug, name, lang string, party int) signupAnswer {
	t.Helper()
	var ans signupAnswer
	code := a.JSON(t, http.MethodPost, "/api/v1/events/"+slug+"/registrations", "", map[string]any{
		"name": name, "email": strings.ToLower(name) + "@example.org", "party_size": party, "lang": lang, "consent": true,
	}, &ans)
	if code != http.StatusCreated {
		t.Fatalf("sign-up of %s for %s: %d", name, slug, code)
	}
	return ans
}

func cancel(t *testing.T, a *testapp.App, manageURL string) {
	t.Helper()
	token := manageURL[strings.LastIndex(manageURL, "/")+1:]
	if code := a.JSON(t, http.MethodPost, "/api/v1/registrations/"+token+"/cancel", "", nil, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
}

// parsed takes every received message apart.
func parsed(t *testing.T, rs []mailtest.Received) []*mailtest.Message {
	t.Helper()
	out := make([]*mailtest.Message, len(rs))
	for i, r := range rs {
		m, err := mailtest.Parse(r.Data)
		if err != nil {
			t.Fatalf("message %d does not parse: %v\n%s", i, err, r.Data)
		}
		if len(r.To) != 1 || !strings.EqualFold(r.To[0], m.To.Address) {
			t.Fatalf("message %d: envelope to %v, header To %s", i, r.To, m.To.Address)
		}
		out[i] = m
	}
	return out
}

// kindOf tells the kind of a message from its subject, as its reader would.
func kindOf(t *testing.T, m *mailtest.Message) string {
	t.Helper()
	for _, k := range []struct{ prefix, kind string }{
		{"Anmeldung bestätigt:", "confirmed"}, {"You're signed up:", "confirmed"},
		{"Warteliste, Platz", "waitlisted"}, {"Waitlist, number", "waitlisted"},
		{"Ein Platz ist frei", "promoted"}, {"A place is free", "promoted"},
		{"Abgesagt: deine Anmeldung", "cancelled"}, {"Cancelled: your registration", "cancelled"},
		{"Geändert:", "event_changed"}, {"Changed:", "event_changed"},
		{"Abgesagt:", "event_cancelled"}, {"Cancelled:", "event_cancelled"},
		{"Erinnerung:", "reminder"}, {"Reminder:", "reminder"},
	} {
		if strings.HasPrefix(m.Subject, k.prefix) {
			return k.kind
		}
	}
	t.Fatalf("unknown subject %q", m.Subject)
	return ""
}

// waitFor polls cond until it holds or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, timeout, cond, what)
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// links returns the links in text that point at the app.
func links(a *testapp.App, text string) []string {
	var out []string
	for _, l := range linkRE.FindAllString(text, -1) {
		if strings.HasPrefix(l, a.URL+"/") {
			out = append(out, l)
		}
	}
	return out
}

// get fetches an absolute URL of the app and returns status and body.
func get(t *testing.T, a *testapp.App, link string) (int, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	code, body := a.Browser(t).Get(u.RequestURI())
	return code, body
}

func addr(name string) string { return fmt.Sprintf("%s@example.org", strings.ToLower(name)) }
