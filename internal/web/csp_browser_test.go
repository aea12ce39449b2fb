package web_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// In a real browser the Content-Security-Policy blocks nothing on the
// public pages, the registration page, the organisers' attendee list and
// the door's scanner page, and the confirm dialogs (web/static/site.js)
// still guard the dangerous buttons.
func TestBrowserPagesKeepTheirCSP(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	e := a.Event(t, o, "fest", nil)
	res, err := a.Registrations.SignUp(t.Context(), e.Slug, registration.SignupInput{Name: "Ayşe", Email: "ayse@example.org", PartySize: 1, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	var mu sync.Mutex
	var violations []string
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	must("listen", chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			mu.Lock()
			violations = append(violations, e.Entry.URL+": "+e.Entry.Text)
			mu.Unlock()
		}
	}))
	must("enable the log", chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{})
		return err
	})))
	for _, p := range []string{"/?lang=de", "/events/fest", "/r/" + res.Registration.ManageToken, "/login"} {
		must("open "+p, chromedp.Do(ctx, chromedp.Navigate(a.URL+p), chromedp.WaitVisible(`main`)))
	}
	must("sign in", chromedp.Do(ctx,
		chromedp.SendKeys(`#f-email`, "organiser@miso.example"),
		chromedp.SendKeys(`#f-password`, testapp.StaffPassword),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#orgs`),
		chromedp.Navigate(a.URL+"/admin/orgs/miso/events/fest/registrations"),
		chromedp.WaitVisible(`button.erase`),
	))
	// Answer the dialog with "no": the form must not be sent.
	asked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		let asked = false;
		window.confirm = () => { asked = true; return false; };
		document.querySelector('button.erase').click();
		return asked;
	})()`))
	must("click erase", err)
	if !asked {
		t.Error("the erase button did not ask for confirmation")
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'ayse@example.org'`); n != 1 {
		t.Errorf("declining the dialog still erased the registration")
	}
	must("open the scanner", chromedp.Do(ctx, chromedp.Navigate(a.URL+"/checkin/events/fest"), chromedp.WaitVisible(`#door`)))
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("CSP violations:\n%s", strings.Join(violations, "\n"))
	}
}
