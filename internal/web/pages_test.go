package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

var rawMessageID = regexp.MustCompile(`>\s*(err|form|reg|event|state|home|title|nav|kind|ticket|org|site|fmt|weekday|month)\.[a-z_.]+\s*<`)

// Every page template, rendered with real data in both languages: status,
// lang/dir attributes, the key content, and no raw message id.
func TestEveryPageRendersWithRealData(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "konferenz", func(in *event.Input) {
		in.Capacity = event.Some(2)
		two := 2
		in.MaxPartySize = &two
		in.MinAge = event.Some(16)
		in.Title = event.Texts{"de": "Migrationskonferenz", "ar": "مؤتمر الهجرة"}
	})
	ctx := context.Background()
	confirmed, err := a.Registrations.SignUp(ctx, "konferenz", registration.SignupInput{Name: "Ayşe Yılmaz", Email: "ayse@example.org", PartySize: 2, BirthDate: "1990-05-01", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := a.Registrations.SignUp(ctx, "konferenz", registration.SignupInput{Name: "Omid", Email: "omid@example.org", PartySize: 1, BirthDate: "1995-01-01", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := a.Registrations.SignUp(ctx, "konferenz", registration.SignupInput{Name: "Lena", Email: "lena@example.org", PartySize: 1, BirthDate: "1999-01-01", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Registrations.Cancel(ctx, cancelled.Registration.ManageToken); err != nil {
		t.Fatal(err)
	}
	ticket := confirmed.Registration.Tickets[0].Code

	pages := []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{"Migrationskonferenz", "MISO e. V."}},
		{"/?org=miso&kind=workshop", 200, []string{"Migrationskonferenz"}},
		{"/orgs/miso", 200, []string{"Migrationskonferenz"}},
		{"/events/konferenz", 200, []string{"Migrationskonferenz", `name="birth_date"`, `name="party_size"`, "Kulturzentrum Faust", "30451 Hannover", `name="csrf_token"`}},
		{"/r/" + confirmed.Registration.ManageToken, 200, []string{"Ayşe Yılmaz", "/t/" + ticket + "/qr.svg", ticket, "/cancel"}},
		{"/r/" + waiting.Registration.ManageToken, 200, []string{"Omid", `id="waitlist-position"`}},
		{"/r/" + cancelled.Registration.ManageToken, 200, []string{"Lena", "status-cancelled"}},
		{"/t/" + ticket, 200, []string{"verdict ok", ticket}},
		{"/events/nope", 404, []string{"alert"}},
		{"/orgs/nope", 404, []string{"alert"}},
		{"/r/nope", 404, []string{"alert"}},
		{"/no/such/page", 404, []string{"alert"}},
	}
	for _, lang := range []string{"de", "en"} {
		for _, p := range pages {
			b := a.Browser(t)
			sep := "?"
			if strings.Contains(p.path, "?") {
				sep = "&"
			}
			code, body := b.Get(p.path + sep + "lang=" + lang)
			if code != p.status {
				t.Errorf("%s [%s]: status %d, want %d", p.path, lang, code, p.status)
			}
			if !strings.Contains(body, `<html lang="`+lang+`" dir="ltr">`) {
				t.Errorf("%s [%s]: wrong or missing lang/dir", p.path, lang)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s [%s]: missing %q", p.path, lang, w)
				}
			}
			if m := rawMessageID.FindString(body); m != "" {
				t.Errorf("%s [%s]: raw message id %q", p.path, lang, m)
			}
		}
	}
	// A title shown in a language other than the page's is marked as such.
	_, body := a.Browser(t).Get("/events/konferenz?lang=en")
	if !strings.Contains(body, `lang="de" dir="ltr">Migrationskonferenz`) {
		t.Errorf("fallback title not marked with its language")
	}
	// The QR code is an SVG.
	resp, err := http.Get(a.URL + "/t/" + ticket + "/qr.svg")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("qr: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestFormSignupRedirectsToRegistrationWithTickets(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) {
		three := 3
		in.MaxPartySize = &three
	})
	b := a.Browser(t)
	resp, _ := b.Post("/events/fest", "/events/fest/register", url.Values{
		"name": {"Ayla"}, "email": {"ayla@example.org"}, "party_size": {"3"}, "consent": {"yes"},
	})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/r/") {
		t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := b.Get(resp.Header.Get("Location"))
	if n := strings.Count(page, `class="ticket"`); n != 3 {
		t.Fatalf("registration page shows %d tickets, want 3", n)
	}
	// The same address again: no second registration, and no manage link for
	// whoever typed it.
	again, body := a.Browser(t).Post("/events/fest", "/events/fest/register", url.Values{
		"name": {"Someone"}, "email": {"AYLA@example.org"}, "party_size": {"1"}, "consent": {"yes"},
	})
	if again.StatusCode != http.StatusOK || !strings.Contains(body, `id="notice"`) || strings.Contains(body, "/r/") {
		t.Fatalf("second sign-up with same email: status %d, notice shown %v", again.StatusCode, strings.Contains(body, `id="notice"`))
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 1 {
		t.Fatalf("registrations = %d, want 1", got)
	}
	// Cancel through the page's own form.
	resp, _ = b.Post(resp.Header.Get("Location"), resp.Header.Get("Location")+"/cancel", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'fest'`); got != 0 {
		t.Fatalf("seats after cancel = %d", got)
	}
}

func TestFormPostWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	form := url.Values{"name": {"Ayla"}, "email": {"ayla@example.org"}, "party_size": {"1"}, "consent": {"yes"}}
	for name, post := range map[string]func() int{
		"no token": func() int {
			resp, _ := a.Browser(t).PostRaw("/events/fest/register", form)
			return resp.StatusCode
		},
		"token from another session": func() int {
			_, page := a.Browser(t).Get("/events/fest")
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("csrf_token", testapp.CSRF(t, page))
			resp, _ := a.Browser(t).PostRaw("/events/fest/register", f)
			return resp.StatusCode
		},
		"foreign origin": func() int {
			b := a.Browser(t)
			_, page := b.Get("/events/fest")
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("csrf_token", testapp.CSRF(t, page))
			req, _ := http.NewRequest(http.MethodPost, a.URL+"/events/fest/register", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			resp, err := b.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		},
	} {
		if code := post(); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, code)
		}
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 0 {
		t.Fatalf("registrations = %d, want 0", got)
	}
}

// Each bad input to the sign-up form: the form comes back with the field
// marked, a 4xx status, and nothing written.
func TestFormBadInputMarksFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) {
		four := 4
		in.MaxPartySize = &four
		in.MinAge = event.Some(16)
	})
	good := func() url.Values {
		return url.Values{"name": {"Ayla"}, "email": {"ayla@example.org"}, "party_size": {"1"}, "consent": {"yes"}, "birth_date": {"1990-01-01"}}
	}
	cases := []struct {
		name   string
		change func(url.Values)
		field  string
		status int
	}{
		{"missing name", func(v url.Values) { v.Del("name") }, "name", 422},
		{"blank name", func(v url.Values) { v.Set("name", "   ") }, "name", 422},
		{"name too long", func(v url.Values) { v.Set("name", strings.Repeat("a", 201)) }, "name", 422},
		{"name with NUL", func(v url.Values) { v.Set("name", "Ay\x00la") }, "name", 422},
		{"name invalid UTF-8", func(v url.Values) { v.Set("name", "Ay\xffla") }, "name", 422},
		{"missing email", func(v url.Values) { v.Del("email") }, "email", 422},
		{"bad email", func(v url.Values) { v.Set("email", "not-an-email") }, "email", 422},
		{"email header injection", func(v url.Values) { v.Set("email", "a@example.org\r\nBcc: victim@example.org") }, "email", 422},
		{"email with display name", func(v url.Values) { v.Set("email", "Ayla <a@example.org>") }, "email", 422},
		{"email list", func(v url.Values) { v.Set("email", "a@example.org,b@example.org") }, "email", 422},
		{"party size zero", func(v url.Values) { v.Set("party_size", "0") }, "party_size", 422},
		{"party size negative", func(v url.Values) { v.Set("party_size", "-2") }, "party_size", 422},
		{"party size over max", func(v url.Values) { v.Set("party_size", "5") }, "party_size", 422},
		{"party size not a number", func(v url.Values) { v.Set("party_size", "drei") }, "party_size", 422},
		{"party size huge", func(v url.Values) { v.Set("party_size", "99999999999999999999") }, "party_size", 422},
		{"no consent", func(v url.Values) { v.Del("consent") }, "consent", 422},
		{"missing birth date", func(v url.Values) { v.Del("birth_date") }, "birth_date", 422},
		{"impossible birth date", func(v url.Values) { v.Set("birth_date", "1990-02-31") }, "birth_date", 422},
		{"unknown language", func(v url.Values) { v.Set("lang", "xx") }, "lang", 422},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := good()
			tc.change(v)
			resp, body := a.Browser(t).Post("/events/fest", "/events/fest/register", v)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.field != "lang" && !strings.Contains(body, `id="e-`+tc.field+`"`) {
				t.Fatalf("field %s not marked", tc.field)
			}
			if !strings.Contains(body, `href="#f-`+tc.field+`"`) {
				t.Fatalf("error summary does not link field %s", tc.field)
			}
			if got := a.Count(t, `SELECT count(*) FROM registrations`) + a.Count(t, `SELECT count(*) FROM tickets`) + a.Count(t, `SELECT seats_confirmed FROM events`); got != 0 {
				t.Fatalf("something was written: %d", got)
			}
		})
	}

	t.Run("oversized body", func(t *testing.T) {
		v := good()
		v.Set("name", strings.Repeat("a", 70<<10))
		resp, _ := a.Browser(t).Post("/events/fest", "/events/fest/register", v)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	t.Run("unknown event", func(t *testing.T) {
		resp, _ := a.Browser(t).Post("/events/fest", "/events/nope/register", good())
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", resp.StatusCode)
		}
	})
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 0 {
		t.Fatalf("registrations = %d", got)
	}
}

// SIGNUP_RATE_PER_IP limits sign-ups per client IP over form and API
// together; other pages are not limited.
func TestSignupRateLimitPerIP(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.SignupRatePerIP = 3 })
	codes := []int{}
	for i := range 3 {
		body := map[string]any{"name": "P", "email": fmt.Sprintf("p%d@example.org", i), "consent": true}
		codes = append(codes, b.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", body, nil))
	}
	resp, _ := b.Browser(t).Post("/events/fest", "/events/fest/register", url.Values{
		"name": {"Q"}, "email": {"q@example.org"}, "party_size": {"1"}, "consent": {"yes"},
	})
	if fmt.Sprint(codes) != "[201 201 201]" || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("API codes %v, then form %d (Retry-After %q); want 3×201 then 429 with Retry-After", codes, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code, _ := b.Browser(t).Get("/events/fest"); code != http.StatusOK {
		t.Fatalf("event page limited too: %d", code)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 3 {
		t.Fatalf("registrations = %d, want 3", got)
	}
}
