package web_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// chromium finds Debian's headless browser. Locally a missing browser skips
// the test; in CI (.ci/run installs it) it fails.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found; .ci/run installs it")
	}
	t.Skip("chromium not installed")
	return ""
}

func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	return newBrowserFor(t, 60*time.Second, extra...)
}

// newBrowserFor is newBrowser for a test that needs longer than a minute.
func newBrowserFor(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// A participant on a phone: opens the event page, fills in the form, submits
// and lands on the registration page with one ticket (QR code and code) per
// seat.
func TestBrowserSignupShowsTickets(t *testing.T) {
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "hirnschmalz-battle", func(in *event.Input) {
		in.Title = event.Texts{"de": "Hirnschmalz-Battle"}
		in.Capacity = event.Some(40)
		four := 4
		in.MaxPartySize = &four
	})
	ctx := newBrowser(t)

	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	must("open event page", chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/events/hirnschmalz-battle?lang=de"),
		chromedp.WaitVisible(`#f-name`),
	))
	heading, err := chromedp.Run(ctx, chromedp.Text(`h1`))
	must("read heading", err)
	must("fill in and submit", chromedp.Do(ctx,
		chromedp.SendKeys(`#f-name`, "Ayla Demir"),
		chromedp.SendKeys(`#f-email`, "ayla@example.org"),
		chromedp.SetValue(`#f-party_size`, "2"),
		chromedp.Click(`#f-consent`),
		chromedp.Click(`button.primary`),
		chromedp.WaitVisible(`#status`),
	))
	url, err := chromedp.Run(ctx, chromedp.Location())
	must("location", err)
	status, err := chromedp.Run(ctx, chromedp.Text(`#status`))
	must("status", err)
	tickets, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.ticket').length`))
	must("count tickets", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`Array.from(document.querySelectorAll('.ticket img')).every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
	must("QR images load", err)
	qrLoaded, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll('.ticket img')).filter(i => i.naturalWidth > 0).length`))
	must("count QR images", err)

	if heading != "Hirnschmalz-Battle" {
		t.Errorf("event page heading %q", heading)
	}
	if !strings.Contains(url, "/r/") {
		t.Fatalf("after submit the browser is at %s, want the registration page", url)
	}
	if status != "Bestätigt" {
		t.Errorf("status %q, want Bestätigt", status)
	}
	if tickets != 2 || qrLoaded != 2 {
		t.Errorf("tickets %d, QR images loaded %d; want 2 and 2", tickets, qrLoaded)
	}
	if got := a.Count(t, `SELECT count(*) FROM tickets`); got != 2 {
		t.Errorf("tickets stored = %d", got)
	}
}

// signIn signs a staff account in through the login form (every test
// account has testapp.StaffPassword) and waits until the form is gone.
func signIn(a *testapp.App, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(a.URL + "/login?lang=de"),
		chromedp.WaitVisible(`#f-email`),
		chromedp.SendKeys(`#f-email`, email),
		chromedp.SendKeys(`#f-password`, testapp.StaffPassword),
		chromedp.Click(`#login-submit`),
		chromedp.WaitNotPresent(`#f-password`),
	}
}
