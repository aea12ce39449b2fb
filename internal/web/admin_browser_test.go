package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/testapp"
)

// An organiser in a real browser: signs in, writes an event in German and
// English, publishes it, finds it on the public list, and sees a sign-up
// made through the public API appear in the attendee list.
func TestBrowserOrganiserPublishesAnEventAndSeesASignup(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	ctx := newBrowser(t)
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	start := time.Now().AddDate(0, 0, 14).Format("2006-01-02")

	must("sign in", chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login?lang=de"),
		chromedp.WaitVisible(`#f-email`),
		chromedp.SendKeys(`#f-email`, "organiser@miso.example"),
		chromedp.SendKeys(`#f-password`, testapp.StaffPassword),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#orgs`),
	))
	must("open the editor", chromedp.Do(ctx,
		chromedp.Click(`#orgs a[href="/admin/orgs/miso"]`),
		chromedp.WaitVisible(`#new-event`),
		chromedp.Click(`#new-event`),
		chromedp.WaitVisible(`#f-slug`),
	))
	must("write the event", chromedp.Do(ctx,
		chromedp.SendKeys(`#f-slug`, "sommerfest"),
		chromedp.SetValue(`#f-kind`, "festival"),
		chromedp.SendKeys(`#f-title-de`, "Sommerfest im Park"),
		chromedp.SendKeys(`#f-title-en`, "Summer party in the park"),
		chromedp.SendKeys(`#f-description-de`, "Musik, Essen und Spiele."),
		chromedp.SendKeys(`#f-description-en`, "Music, food and games."),
		chromedp.SetValue(`#f-starts_at`, start+"T15:00"),
		chromedp.SetValue(`#f-ends_at`, start+"T22:00"),
		chromedp.SendKeys(`#f-venue-name`, "Kulturzentrum Faust"),
		chromedp.SendKeys(`#f-venue-city`, "Hannover"),
		chromedp.SendKeys(`#f-capacity`, "50"),
		chromedp.Click(`#publish`),
		chromedp.WaitVisible(`#flash`),
	))
	status, err := chromedp.Run(ctx, chromedp.Text(`#event-status`))
	must("read the status", err)
	if status != "Veröffentlicht" {
		t.Fatalf("status after publishing: %q", status)
	}

	must("find it on the public list", chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/?lang=en"),
		chromedp.WaitVisible(`ul.events`),
	))
	list, err := chromedp.Run(ctx, chromedp.Text(`ul.events`))
	must("read the list", err)
	if !strings.Contains(list, "Summer party in the park") {
		t.Fatalf("the public list (in English) lacks the event: %q", list)
	}

	var answer map[string]any
	if code := a.JSON(t, http.MethodPost, "/api/v1/events/sommerfest/registrations", "",
		map[string]any{"name": "Ayşe Yılmaz", "email": "ayse@example.org", "party_size": 1, "consent": true}, &answer); code != http.StatusCreated {
		t.Fatalf("sign-up: %d %v", code, answer)
	}

	must("open the attendee list", chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/admin/orgs/miso/events/sommerfest/registrations?lang=de"),
		chromedp.WaitVisible(`#attendees`),
	))
	rows, err := chromedp.Run(ctx, chromedp.Text(`#attendees tbody`))
	must("read the attendee list", err)
	seats, err := chromedp.Run(ctx, chromedp.Text(`#count-seats`))
	must("read the seats", err)
	if !strings.Contains(rows, "Ayşe Yılmaz") || !strings.Contains(rows, "ayse@example.org") {
		t.Fatalf("the attendee list lacks the sign-up: %q", rows)
	}
	if seats != "1 / 50" {
		t.Errorf("seats %q, want 1 / 50", seats)
	}
}
