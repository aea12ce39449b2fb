package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// changeEvent is a published event with the questions of webQuestions,
// places for capacity and parties of up to 4.
func changeEvent(t *testing.T, a *testapp.App, slug string, capacity int) {
	t.Helper()
	a.Event(t, a.Org(t, "miso"), slug, func(in *event.Input) {
		four := 4
		in.Questions, in.MaxPartySize, in.Capacity = webQuestions(), &four, event.Some(capacity)
	})
}

// changeSigned signs name up for slug with a party of size and the
// required answers.
func changeSigned(t *testing.T, a *testapp.App, slug, name string, size int) *registration.Registration {
	t.Helper()
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
		Name: name, Email: strings.ToLower(name) + "@example.org", PartySize: size, Lang: "de", Consent: true,
		Answers: map[string]any{"diet": "vegan", "photos": true, "needs": []any{"wheelchair"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Registration
}

// changeFormOf is the change form as /r/{token} fills it.
func changeFormOf(name, size, lang string) url.Values {
	return url.Values{
		"name": {name}, "party_size": {size}, "lang": {lang}, "answers_shown": {"1"},
		"answers.diet": {"vegan"}, "answers.photos": {"yes"}, "answers.needs": {"wheelchair"},
	}
}

// dbState is everything a change may write.
func dbState(t *testing.T, a *testapp.App) string {
	t.Helper()
	var s string
	err := a.DB.Get(&s, `
SELECT concat_ws(' | ',
  (SELECT string_agg(concat_ws(',', id, name, lang, party_size, answers::text, status, changed_at), ';' ORDER BY id) FROM registrations),
  (SELECT string_agg(concat_ws(',', registration_id, seat), ';' ORDER BY id) FROM tickets),
  (SELECT string_agg(concat_ws(',', seats_confirmed, waitlist_length), ';' ORDER BY id) FROM events),
  (SELECT count(*) FROM mail_outbox))`)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The form on /r/{token} shows the registration as it is, changes it in
// place (same page, same tickets for the seats kept) and says so; fewer
// people move the waitlist up at once.
func TestChangeFormChangesTheRegistration(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	changeEvent(t, a, "fest", 4)
	r := changeSigned(t, a, "fest", "Ayla", 3)
	changeSigned(t, a, "fest", "Carla", 1)
	wait := changeSigned(t, a, "fest", "Ben", 2)
	if wait.Status != registration.Waitlisted {
		t.Fatalf("ben %s", wait.Status)
	}
	page := "/r/" + r.ManageToken
	b := a.Browser(t)
	_, body := b.Get(page)
	for _, want := range []string{
		`action="/r/` + r.ManageToken + `/change"`, `name="name" type="text" autocomplete="name" required maxlength="200" value="Ayla"`,
		`name="party_size" type="number" inputmode="numeric" min="1" max="4" required value="3"`,
		`<option value="de" lang="de" selected>`, `name="answers.diet" type="radio" value="vegan" checked`,
		`name="answers.needs" type="checkbox" value="wheelchair" checked`, `name="answers.photos" type="radio" value="yes" checked`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	v := changeFormOf("Ayla Demir", "1", "en")
	v["answers.diet"] = []string{"halal"}
	v.Del("answers.needs") // unticked: the answer goes
	resp, _ := b.Post(page, page+"/change", v)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"?changed=1#change" {
		t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = b.Get(page + "?changed=1")
	if !strings.Contains(body, `id="changed"`) || !strings.Contains(body, "Ayla Demir") || strings.Count(body, `class="ticket"`) != 1 ||
		!strings.Contains(body, `/t/`+r.Tickets[0].Code+`/qr.svg`) {
		t.Errorf("page after the change:\n%s", body)
	}
	got, err := a.Registrations.ByToken(context.Background(), r.ManageToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Lang != "en" || got.PartySize != 1 || got.Answers["diet"] != "halal" || got.Answers["needs"] != nil || got.ChangedAt == nil {
		t.Errorf("registration %+v", got)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE name = 'Ben' AND status = 'confirmed'`); n != 1 {
		t.Error("the waitlist did not move up")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'changed' AND lang = 'en'`); n != 1 {
		t.Errorf("%d change mails in English, want 1", n)
	}
}

// Each bad change through the form: the page comes back in its own
// language with the field marked and linked from the summary, the form as
// posted, a 4xx status, and nothing written.
func TestChangeFormBadInputMarksFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	changeEvent(t, a, "fest", 4)
	r := changeSigned(t, a, "fest", "Ayla", 2)
	changeSigned(t, a, "fest", "Carla", 2)
	gone := changeSigned(t, a, "fest", "Gone", 1)
	if _, err := a.Registrations.Cancel(context.Background(), gone.ManageToken); err != nil {
		t.Fatal(err)
	}
	page := "/r/" + r.ManageToken
	before := dbState(t, a)
	cases := []struct {
		name   string
		change func(url.Values)
		field  string // "" when the problem is above the form
		status int
		says   string // in the page's language (English)
	}{
		{"blank name", func(v url.Values) { v.Set("name", "   ") }, "name", 422, "Required."},
		{"name too long", func(v url.Values) { v.Set("name", strings.Repeat("a", 201)) }, "name", 422, ""},
		{"name invalid UTF-8", func(v url.Values) { v.Set("name", "Ay\xffla") }, "name", 422, ""},
		{"party size zero", func(v url.Values) { v.Set("party_size", "0") }, "party_size", 422, ""},
		{"party size over max", func(v url.Values) { v.Set("party_size", "5") }, "party_size", 422, "4"},
		{"party size not a number", func(v url.Values) { v.Set("party_size", "drei") }, "party_size", 422, ""},
		{"unknown language", func(v url.Values) { v.Set("lang", "xx") }, "lang", 422, ""},
		{"required answer dropped", func(v url.Values) { v.Del("answers.diet") }, "answers.diet", 422, ""},
		{"unknown option", func(v url.Values) { v.Set("answers.diet", "kosher") }, "answers.diet", 422, ""},
		{"more people than places", func(v url.Values) { v.Set("party_size", "3") }, "", 409, "not enough free places"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := changeFormOf("Ayla", "2", "de")
			tc.change(v)
			resp, body := a.Browser(t).Post(page+"?lang=en", page+"/change?lang=en", v)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.field != "" {
				if !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, `href="#f-`+tc.field+`"`) {
					t.Fatalf("field %s not marked and linked", tc.field)
				}
			} else if !strings.Contains(body, `id="change-problem"`) {
				t.Fatal("no problem shown above the form")
			}
			if !strings.Contains(body, `<html lang="en"`) || !strings.Contains(body, tc.says) {
				t.Errorf("page not in English or lacks %q", tc.says)
			}
			if tc.name == "party size not a number" && !strings.Contains(body, `value="drei"`) {
				t.Error("the form does not show what was posted")
			}
			if got := dbState(t, a); got != before {
				t.Fatalf("written:\n%s\nwas\n%s", got, before)
			}
		})
	}
	// A cancelled registration offers no form, and a post is refused.
	_, body := a.Browser(t).Get("/r/" + gone.ManageToken)
	if strings.Contains(body, `/change"`) {
		t.Error("a cancelled registration offers the change form")
	}
	resp, _ := a.Browser(t).Post("/r/"+gone.ManageToken, "/r/"+gone.ManageToken+"/change", url.Values{"name": {"Wieder da"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("change of a cancelled registration: %d, want 409", resp.StatusCode)
	}
	if got := dbState(t, a); got != before {
		t.Fatalf("written:\n%s\nwas\n%s", got, before)
	}
}

// The change form is protected against cross-site posts like every form.
func TestChangeFormNeedsItsCSRFToken(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	changeEvent(t, a, "fest", 4)
	r := changeSigned(t, a, "fest", "Ayla", 2)
	before := dbState(t, a)
	resp, _ := a.Browser(t).PostRaw("/r/"+r.ManageToken+"/change", changeFormOf("Mallory", "1", "de"))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("without token: %d, want 403", resp.StatusCode)
	}
	b := a.Browser(t)
	_, page := b.Get("/r/" + r.ManageToken)
	v := changeFormOf("Mallory", "1", "de")
	v.Set("csrf_token", testapp.CSRF(t, page))
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/r/"+r.ManageToken+"/change", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %d, want 403", res.StatusCode)
	}
	if got := dbState(t, a); got != before {
		t.Fatal("a forged post changed the registration")
	}
}

// The organisers' attendee list marks a changed registration.
func TestAttendeeListMarksChangedRegistrations(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.AdminEml)
	reg := w.A.Confirmed
	path := "/admin/orgs/a/events/" + w.A.Event.Slug + "/registrations"
	_, body := c.Get(path)
	if strings.Contains(body, `class="changed"`) {
		t.Fatal("marked before any change")
	}
	name := "Neu Benannt"
	if _, err := w.Registrations.Change(context.Background(), reg.ManageToken, registration.ChangeInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	_, body = c.Get(path)
	if strings.Count(body, `class="changed"`) != 1 || !strings.Contains(body, name) {
		t.Errorf("attendee list does not mark the change:\n%s", body)
	}
}
