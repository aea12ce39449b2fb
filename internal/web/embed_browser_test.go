package web_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testdb"
	"treffpunkt/internal/testutil"
)

// A member organisation's website (another site: localhost, while the app
// is at 127.0.0.1) frames the embedded sign-up form with the snippet of the
// organisers' page. A visitor fills it in inside the frame and signs up
// there; the frame follows its content's height both times. Third-party
// cookies are blocked, as in Safari, so the form must work without them.
func TestBrowserEmbeddedSignupOnAnotherOrigin(t *testing.T) {
	t.Parallel()
	// The host page is another site (localhost, the app 127.0.0.1) that
	// FRAME_ANCESTORS allows.
	var appURL string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Verein</title></head>
<body><h1>Unser Verein</h1><p>Meldet euch hier an:</p>
<iframe src="%[1]s/embed/events/maifest?lang=de" title="Anmeldung" style="width:100%%;border:0"></iframe>
<script src="%[1]s/static/embed.js" async></script>
<p id="after">Ende</p></body></html>`, appURL)
	}))
	t.Cleanup(host.Close)
	hostURL := strings.Replace(host.URL, "127.0.0.1", "localhost", 1)
	db, dbURL := testdb.NewWithURL(t)
	a := testapp.OnDBWith(t, db, func(c *config.Config) { c.FrameAncestors = []string{hostURL} })
	a.DBURL, appURL = dbURL, a.URL
	o := a.Org(t, "miso")
	a.Event(t, o, "maifest", func(in *event.Input) {
		in.Title = event.Texts{"de": "Internationales 1. Mai-Fest"}
		in.Capacity = event.Some(100)
	})

	// Site isolation on: the frame, another site, runs as its own target
	// (the headless shell does not isolate sites unless asked).
	ctx := newBrowser(t, chromedp.Flag("test-third-party-cookie-phaseout", true), chromedp.Flag("site-per-process", true))
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	must("open host page", chromedp.Do(ctx, chromedp.Navigate(hostURL), chromedp.WaitVisible(`iframe`)))

	// The frame is another site, so Chromium runs it as its own target.
	var frameCtx context.Context
	testutil.Eventually(t, 15*time.Second, func() bool {
		infos, err := chromedp.Targets(ctx)
		must("list targets", err)
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, a.URL+"/embed/events/maifest") {
				fc, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				frameCtx = fc
				return true
			}
		}
		return false
	}, "the embedded page to load in its frame")

	// sized waits until the iframe in the host page is as tall as the
	// document inside it says it is, and returns that height.
	sized := func(step string) float64 {
		t.Helper()
		var outer float64
		testutil.EventuallyNoError(t, 15*time.Second, func() error {
			inner, err := chromedp.Run(frameCtx, chromedp.Evaluate[float64](`Math.ceil(document.documentElement.getBoundingClientRect().height)`))
			must(step+": inner height", err)
			outer, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('iframe').getBoundingClientRect().height`))
			must(step+": frame height", err)
			if inner > 200 && math.Abs(inner-outer) <= 1 {
				return nil
			}
			return fmt.Errorf("iframe is %.0f px tall, its content %.0f px", outer, inner)
		}, step+": iframe as tall as its content")
		return outer
	}

	must("see the form in the frame", chromedp.Do(frameCtx, chromedp.WaitVisible(`#f-name`)))
	formHeight := sized("form")
	must("fill in and submit in the frame", chromedp.Do(frameCtx,
		chromedp.SendKeys(`#f-name`, "Ayla Demir"),
		chromedp.SendKeys(`#f-email`, "ayla@example.org"),
		// By keyboard: clicks go to coordinates, and under load (two CPU
		// hogs beside the test) they missed the consent box or the button
		// in 3 of 6 runs, so nothing was sent; focus and a key do not
		// depend on where the frame is while it grows with its content.
		chromedp.SendKeys(`#f-consent`, " "),
		chromedp.SendKeys(`button.primary`, "\r"),
		chromedp.WaitVisible(`#embed-done`),
	))
	// Read in one step: a node id looked up first can be gone by the time
	// its text is asked for, if the frame's document changes in between.
	status, err := chromedp.Run(frameCtx, chromedp.Evaluate[string](`document.querySelector('#status').innerText`))
	must("status", err)
	target, err := chromedp.Run(frameCtx, chromedp.Evaluate[string](`document.querySelector('#manage-link').target || document.querySelector('base').target`))
	must("manage link target", err)
	doneHeight := sized("result")
	hostURLNow, err := chromedp.Run(ctx, chromedp.Location())
	must("host location", err)

	if status != "Bestätigt" {
		t.Errorf("status in the frame %q, want Bestätigt", status)
	}
	if target != "_blank" {
		t.Errorf("the registration link opens in %q, want a new tab", target)
	}
	if doneHeight >= formHeight {
		t.Errorf("iframe stayed %.0f px after the form (%.0f px) gave way to the shorter result", doneHeight, formHeight)
	}
	if hostURLNow != hostURL+"/" {
		t.Errorf("host page left: now at %s", hostURLNow)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'ayla@example.org' AND status = 'confirmed'`); got != 1 {
		t.Fatalf("confirmed registrations for ayla = %d, want 1", got)
	}
}
