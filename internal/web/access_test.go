package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/member"
	"treffpunkt/internal/testapp"
)

var formConfirmLinkRE = regexp.MustCompile(`/confirm/([A-Z2-7]{26})`)

// membersOnlyEvent creates a members-only event with Anna (by email), Bert
// (by number, listed as bert@listed.example) and Cem (membership ended the
// day before the event) on the list.
func membersOnlyEvent(t *testing.T, a *testapp.App) {
	t.Helper()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "ag", func(in *event.Input) {
		m := event.AccessMembers
		in.Access = &m
		in.Capacity = event.Some(10)
	})
	day := e.StartsAt.In(e.Location())
	_, err := a.Members.ImportJSON(context.Background(), o.ID, []member.Input{
		{Name: "Anna", Email: "anna@example.org"},
		{Name: "Bert", Email: "bert@listed.example", MemberNumber: "M-2"},
		{Name: "Cem", Email: "cem@example.org", ValidUntil: day.AddDate(0, 0, -1).Format(time.DateOnly)},
	}, member.Replace)
	if err != nil {
		t.Fatal(err)
	}
}

func formSignup(t *testing.T, a *testapp.App, slug string, f url.Values) (*http.Response, string) {
	t.Helper()
	f.Set("consent", "yes")
	return a.Browser(t).Post("/events/"+slug, "/events/"+slug+"/register", f)
}

func TestFormMembersOnlyBranches(t *testing.T) {
	a := testapp.New(t)
	membersOnlyEvent(t, a)
	if _, page := a.Browser(t).Get("/events/ag"); !strings.Contains(page, `name="member_number"`) {
		t.Fatal("the form of a members-only event does not ask for the member number")
	}
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"non-member", url.Values{"name": {"Eve"}, "email": {"eve@example.org"}}},
		{"lapsed membership", url.Values{"name": {"Cem"}, "email": {"cem@example.org"}}},
	} {
		resp, page := formSignup(t, a, "ag", tc.form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, `role="alert"`) ||
			!strings.Contains(page, "MISO e. V.") || !strings.Contains(page, "info@miso.example") {
			t.Errorf("%s: %d, want 403 naming the organisation and its address", tc.name, resp.StatusCode)
		}
	}
	// Email match: pending, the page says a link was sent; no manage link.
	resp, page := formSignup(t, a, "ag", url.Values{"name": {"Anna"}, "email": {"Anna@Example.org"}})
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, `id="notice"`) || strings.Contains(page, "/r/") {
		t.Fatalf("email match: %d", resp.StatusCode)
	}
	// Number match: the link goes to the listed address, not the typed one.
	resp, _ = formSignup(t, a, "ag", url.Values{"name": {"Bert"}, "email": {"typed@elsewhere.example"}, "member_number": {"M-2"}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("number match: %d", resp.StatusCode)
	}
	var to []string
	if err := a.DB.Select(&to, `SELECT recipient FROM mail_outbox WHERE kind = 'confirm_email' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(to) != 2 || to[0] != "anna@example.org" || to[1] != "bert@listed.example" {
		t.Fatalf("confirmation mails to %v", to)
	}
	// The link confirms: GET shows a button, POST (with CSRF) confirms and
	// shows the registration with its tickets.
	var body string
	// The sender renders a mail when it sends it: render it as it would.
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM mail_outbox WHERE recipient = 'bert@listed.example'`); err != nil {
		t.Fatal(err)
	}
	if m, err := a.Mail.Render(context.Background(), id); err != nil {
		t.Fatal(err)
	} else {
		body = m.Text
	}
	link := "/confirm/" + formConfirmLinkRE.FindStringSubmatch(body)[1]
	b := a.Browser(t)
	code, page := b.Get(link)
	if code != http.StatusOK {
		t.Fatalf("confirm page: %d", code)
	}
	resp, _ = b.PostRaw(link, url.Values{"csrf_token": {testapp.CSRF(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	code, page = b.Get(resp.Header.Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, "/qr.svg") || !strings.Contains(page, "bert@listed.example") || !strings.Contains(page, `id="retention"`) {
		t.Fatalf("registration after confirming: %d", code)
	}
}

// Age range through the form: the day before the 17th birthday is too
// young, the birthday itself counts.
func TestFormAgeBoundaries(t *testing.T) {
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", func(in *event.Input) { in.MinAge, in.MaxAge = event.Some(17), event.Some(27) })
	start := e.StartsAt.In(e.Location())
	birth := func(years, shift int) string {
		return time.Date(start.Year()-years, start.Month(), start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, shift).Format(time.DateOnly)
	}
	for i, tc := range []struct {
		birth string
		code  int
	}{
		{birth(17, 1), http.StatusForbidden},           // 17 the day after the start
		{birth(17, 0), http.StatusSeeOther},            // 17 on the day
		{birth(28, 0), http.StatusForbidden},           // 28 on the day
		{birth(28, 1), http.StatusSeeOther},            // still 27
		{"", http.StatusUnprocessableEntity},           // missing
		{"2001-02-30", http.StatusUnprocessableEntity}, // impossible
	} {
		resp, page := formSignup(t, a, "loccum", url.Values{
			"name": {"Jugendliche"}, "email": {"j" + string(rune('a'+i)) + "@example.org"}, "birth_date": {tc.birth},
		})
		if resp.StatusCode != tc.code {
			t.Errorf("birth %q: %d, want %d", tc.birth, resp.StatusCode, tc.code)
		}
		if tc.code == http.StatusUnprocessableEntity && !strings.Contains(page, `id="e-birth_date"`) {
			t.Errorf("birth %q: the field is not marked", tc.birth)
		}
	}
}

// The attendee list erases one person on request (POST with the CSRF token).
func TestAttendeeEraseOnRequest(t *testing.T) {
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	_, page := c.Get("/admin/orgs/a/events/fest-a/registrations")
	if !strings.Contains(page, "/erase") {
		t.Fatal("no erase button on the attendee list")
	}
	resp, _ := c.post("/admin/orgs/a/events/fest-a/registrations/"+strconv.FormatInt(w.A.Confirmed.ID, 10)+"/erase", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	if n := w.Count(t, `SELECT count(*) FROM registrations WHERE id = $1 AND name = '' AND email = ''`, w.A.Confirmed.ID); n != 1 {
		t.Fatal("not erased")
	}
	if n := w.Count(t, `SELECT count(*) FROM registrations WHERE id = $1 AND status = 'confirmed'`, w.A.Waitlisted.ID); n != 1 {
		t.Fatal("the waitlisted party did not move up")
	}
}

// An event set to confirm email addresses answers the form with "check your
// mail", holds the seat, and mails the link to the typed address.
func TestFormEmailConfirmationEvent(t *testing.T) {
	a := testapp.New(t)
	o := a.Org(t, "faust")
	yes := true
	a.Event(t, o, "quiz", func(in *event.Input) { in.ConfirmEmail = &yes; in.Capacity = event.Some(3) })
	resp, page := formSignup(t, a, "quiz", url.Values{"name": {"Team Linden"}, "email": {"team@example.org"}})
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, `id="notice"`) {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'confirm_email' AND recipient = 'team@example.org'`); n != 1 {
		t.Fatal("no confirmation link to the typed address")
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'quiz'`); n != 1 {
		t.Fatalf("seats taken %d, want 1 held", n)
	}
}
