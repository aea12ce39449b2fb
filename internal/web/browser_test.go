package web_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// chromium finds Debian's headless browser: chromium-headless-shell (the
// same Blink, V8 and print layout without the desktop browser around them,
// what Playwright and Puppeteer run headless tests in) when it is there,
// else the full chromium in its headless mode, which cost the package's
// browser tests twice the CPU (docs/development.md). Locally a missing
// browser skips the test; in CI (.ci/run installs both) it fails.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium-headless-shell", "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
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

// browserOptions are the flags every test browser starts with: Debian's
// headless Chromium the size of a phone.
func browserOptions(path, dataDir string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(phoneWidth, phoneHeight),
	)
	return append(opts, extra...)
}

const phoneWidth, phoneHeight = 390, 844

// The package's browser tests share one Chromium, started by the first of
// them and stopped by TestMain: starting a browser cost each test more CPU
// than its own steps. Each test gets a tab in a browser context of its own
// (cookies and storage apart, like an incognito window), so they run in
// parallel without seeing each other.
var shared struct {
	once    sync.Once
	browser context.Context
	err     error
	stop    func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// newBrowserFor is newBrowser for a test that needs longer than a minute.
// A test that needs flags of its own (a fake camera, a cookie policy) gets
// a browser of its own.
func newBrowserFor(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	path := chromium(t)
	if len(extra) > 0 {
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browserOptions(path, t.TempDir(), extra...)...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
		t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
		return ctx
	}
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "treffpunkt-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		// The shared browser's tabs all serve from 127.0.0.1: isolating
		// sites from each other buys nothing there and costs renderer
		// processes (the tests that cross origins start their own).
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browserOptions(path, dir,
			chromedp.Flag("disable-site-isolation-trials", true),
			chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,site-per-process,IsolateOrigins,OptimizationHints,MediaRouter,PaintHolding"),
			chromedp.Flag("disable-dev-shm-usage", false),
		)...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		shared.stop = func() { cancelCtx(); cancelAlloc(); os.RemoveAll(dir) }
		// The first Do starts the browser; the tabs are its children.
		shared.err = chromedp.Do(ctx)
		shared.browser = ctx
	})
	if shared.err != nil {
		t.Fatalf("start the shared browser: %v", shared.err)
	}
	ctx, cancelCtx := chromedp.NewContext(shared.browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// writeScreenshot captures the page with shot and writes it to path (in
// docs/screenshots) when SCREENSHOTS is set: `make screenshots` renews the
// pictures people look at. A plain test run makes the same checks on the
// same pages but captures nothing: the pictures cost more than the checks
// and rewrote tracked files on every run.
func writeScreenshot(t *testing.T, ctx context.Context, path string, shot chromedp.Action[[]byte]) {
	t.Helper()
	if os.Getenv("SCREENSHOTS") == "" {
		return
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}

// A participant on a phone: opens the event page, fills in the form, submits
// and lands on the registration page with one ticket (QR code and code) per
// seat.
func TestBrowserSignupShowsTickets(t *testing.T) {
	t.Parallel()
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
