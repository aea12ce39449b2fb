package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/message"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// admWorld is two organisations, A (slug "a") and B ("b"), each with staff
// in every role, an event with a confirmed and a waitlisted sign-up, and an
// API token: what the organisers' area tests act on.
type admWorld struct {
	*testapp.App
	t        *testing.T
	A, B     admOrg
	AdminEml string // a network admin (of no organisation)
}

type admOrg struct {
	Org                             *org.Org
	Owner, Organiser, Door          string // emails
	OrganiserID                     int64
	Event                           *event.Event
	Confirmed, Waitlisted           *registration.Registration
	TokenID                         int64 // of DoorTok
	OwnerTok, OrganiserTok, DoorTok string
	// PartnerEvent is the other organisation's event, which names this
	// one as partner (the partnership routes).
	PartnerEvent string
	// MessageID is a message sent to the event's confirmed.
	MessageID int64
	// SeriesDate is the slug of the one date of the series admGiveSeries
	// gives the organisation.
	SeriesDate string
}

func admNewWorld(t *testing.T) *admWorld {
	t.Helper()
	w := &admWorld{App: testapp.New(t), t: t}
	w.A = w.org("a")
	w.B = w.org("b")
	for _, x := range []struct {
		of      *admOrg
		partner string
	}{{&w.A, "b"}, {&w.B, "a"}} {
		if _, err := w.Events.Update(context.Background(), x.of.Org.ID, x.of.Event.Slug, event.Input{PartnerOrgs: &[]string{x.partner}}); err != nil {
			t.Fatal(err)
		}
	}
	w.A.PartnerEvent, w.B.PartnerEvent = w.B.Event.Slug, w.A.Event.Slug
	w.AdminEml = "admin@network.example"
	w.Staff(t, w.B.Org, w.AdminEml, auth.Door, true)
	// The admin's door role in B must not matter: admins act as owner.
	return w
}

func (w *admWorld) org(slug string) admOrg {
	t := w.t
	o := w.Org(t, slug)
	x := admOrg{Org: o}
	x.Owner = w.Staff(t, o, "owner@"+slug+".example", auth.Owner, false)
	x.Organiser = w.Staff(t, o, "organiser@"+slug+".example", auth.Organiser, false)
	x.Door = w.Staff(t, o, "door@"+slug+".example", auth.Door, false)
	if err := w.DB.Get(&x.OrganiserID, `SELECT id FROM staff_users WHERE email = $1`, x.Organiser); err != nil {
		t.Fatal(err)
	}
	x.Event = w.Event(t, o, "fest-"+slug, func(in *event.Input) {
		in.Capacity = event.Some(2)
		two := 2
		in.MaxPartySize = &two
	})
	ctx := context.Background()
	c, err := w.Registrations.SignUp(ctx, x.Event.Slug, registration.SignupInput{Name: "Ayşe Yılmaz", Email: "ayse@" + slug + ".example", PartySize: 2, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	wl, err := w.Registrations.SignUp(ctx, x.Event.Slug, registration.SignupInput{Name: "Иван Петров", Email: "ivan@" + slug + ".example", PartySize: 1, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	x.Confirmed, x.Waitlisted = c.Registration, wl.Registration
	x.OwnerTok = w.Token(t, o, auth.Owner)
	x.OrganiserTok = w.Token(t, o, auth.Organiser)
	x.DoorTok = w.Token(t, o, auth.Door)
	if err := w.DB.Get(&x.TokenID, `SELECT max(id) FROM api_tokens WHERE org_id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	m, err := w.Messages.Send(ctx, o.ID, x.Event.Slug, message.Input{
		Subject: event.Texts{"de": "Raum"}, Body: event.Texts{"de": "Saal 2"}, To: message.To{Status: []string{registration.Confirmed}},
	}, message.Sender{})
	if err != nil {
		t.Fatal(err)
	}
	x.MessageID = m.ID
	return x
}

// admClient is a browser with the CSRF token of its session, for posting
// forms without loading each form first.
type admClient struct {
	*testapp.Browser
	t    *testing.T
	base string
	csrf string
}

func (w *admWorld) client(email string) *admClient {
	w.t.Helper()
	b, form := w.Browser(w.t), "/login"
	if email != "" {
		// Signed in, /login redirects; /admin has the logout form.
		b, form = w.LoggedIn(w.t, email), "/admin"
	}
	_, page := b.Get(form)
	return &admClient{Browser: b, t: w.t, base: w.URL, csrf: testapp.CSRF(w.t, page)}
}

// post sends a form with the session's CSRF token.
func (c *admClient) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", c.csrf)
	return c.PostRaw(path, form)
}

// do sends method to path (a form post for POST) and returns status,
// Location and body.
func (c *admClient) do(method, path string) (int, string, string) {
	c.t.Helper()
	if method == http.MethodGet {
		resp, err := c.Client.Get(c.base + path)
		if err != nil {
			c.t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	resp, body := c.post(path, nil)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

// admAPI sends an API request with a bearer token (none when tok is "").
func admAPI(t *testing.T, base, method, path, tok, contentType, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func admRead(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// admSignUp signs a party up through the service.
func admSignUp(t *testing.T, a *testapp.App, slug, name, email string, party int) *registration.Registration {
	t.Helper()
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{Name: name, Email: email, PartySize: party, Consent: true})
	if err != nil {
		t.Fatalf("sign-up %s: %v", email, err)
	}
	return res.Registration
}
