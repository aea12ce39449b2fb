package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// axeSource reads axe-core from ./var/npm (make a11y-tools, or .ci/run,
// installs it there; AXE_CORE may name another axe.min.js). Locally a
// missing axe-core skips the check with a clear message; in CI it fails.
func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv("AXE_CORE")
	if p == "" {
		p = filepath.Join("..", "..", "var", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core not found at %s (%v); .ci/run installs it into var/npm", p, err)
		}
		t.Skipf("axe-core not installed (%s): run `make a11y-tools` to install it into var/npm, then run the test again", p)
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// runAxe injects axe-core into the page and returns its WCAG 2.1 A/AA
// violations.
func runAxe(ctx context.Context, src string) ([]axeViolation, error) {
	var res struct {
		Violations []axeViolation `json:"violations"`
		Passes     int            `json:"passes"`
	}
	// checkA11y's tabs get axe-core in every new document; a document it
	// did not reach gets it here.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		return nil, fmt.Errorf("look for axe: %w", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			return nil, fmt.Errorf("inject axe: %w", err)
		}
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  resultTypes: ["violations"]
}).then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, err
	}
	// A page on which no rule passed was not checked at all.
	if res.Passes == 0 {
		return nil, fmt.Errorf("axe checked nothing")
	}
	return res.Violations, nil
}

// a11yWorld is the data every public page and flow of the check shows: an
// organisation, an event with a German-only title (so Arabic pages carry a
// part in another script), a registration with two tickets and a door
// account.
type a11yWorld struct {
	a      *testapp.App
	manage string
	ticket string
	door   string
	// confirm is the secret of a pending registration's confirmation link.
	confirm string
}

func newA11yWorld(t *testing.T) a11yWorld {
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "maifest", func(in *event.Input) {
		in.Title = event.Texts{"de": "Internationales 1. Mai-Fest"}
		in.Description = event.Texts{"de": "Musik, Essen und Gespräche aus vielen Ländern.", "ar": "موسيقى وطعام وأحاديث من بلدان كثيرة."}
		in.Capacity = event.Some(100)
		three := 3
		in.MaxPartySize = &three
		// Under way since an hour, for five more: sign-up stays open
		// until the end, and the door's scan falls on an event day
		// whatever the hour (an event starting in two hours began
		// tomorrow from 22:00 in Hannover, the scan was not_today and
		// the certificate states timed out).
		in.StartsAt = ptrTime(time.Now().Add(-time.Hour).Truncate(time.Minute))
		in.EndsAt = ptrTime(time.Now().Add(5 * time.Hour).Truncate(time.Minute))
	})
	a.Event(t, o, "loccum", func(in *event.Input) {
		in.Title = event.Texts{"de": "Wochenende in Loccum", "ar": "عطلة نهاية الأسبوع في لوكوم"}
	})
	yes := true
	a.Event(t, o, "seminar", func(in *event.Input) {
		in.Title = event.Texts{"de": "Wochenendseminar", "ar": "ندوة نهاية الأسبوع"}
		in.ConfirmEmail = &yes
	})
	pending, err := a.Registrations.SignUp(context.Background(), "seminar", registration.SignupInput{
		Name: "Omid Karimi", Email: "omid@example.org", PartySize: 1, Consent: true})
	if err != nil || pending.Registration.ConfirmToken == "" {
		t.Fatalf("pending sign-up: %v", err)
	}
	r := a.Signed(t, "maifest", "Ayla Demir", 2)
	return a11yWorld{a: a, manage: r.ManageToken, ticket: r.Tickets[0].Code, door: a.Staff(t, o, "door@example.org", "door", false),
		confirm: pending.Registration.ConfirmToken}
}

// unmarkedTitleJS lists the elements that show the German title of the
// fixture without being marked as German.
const unmarkedTitleJS = `(() => {
  const bad = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = w.nextNode())) {
    if (!n.textContent.includes("Internationales 1. Mai-Fest")) continue;
    const l = n.parentElement.closest("[lang]");
    if (!l || l.lang !== "de") bad.push(n.parentElement.outerHTML.slice(0, 160));
  }
  return bad;
})()`

func ptrTime(t time.Time) *time.Time { return &t }

// Every public page and every state of the sign-up, registration, login and
// check-in flows, in German and in Arabic (right to left), has no serious
// or critical WCAG 2.1 A/AA violation that axe-core finds, and reflows
// without horizontal scrolling on a 360 px wide screen (the width a 720 px
// window has at 200 % zoom).
// Each language is a test of its own with a browser context of its own: no
// session or language cookie carries over, and both start with the
// package's first tests (a parallel subtest would wait behind all of them).
func TestAccessibilityAxeGerman(t *testing.T) { t.Parallel(); axePublicPages(t, "de") }
func TestAccessibilityAxeArabic(t *testing.T) { t.Parallel(); axePublicPages(t, "ar") }

func axePublicPages(t *testing.T, lang string) {
	src := axeSource(t)
	w := newA11yWorld(t)
	a := w.a
	ticketCode := w.ticket

	type steps = []chromedp.Action[chromedp.Void]
	page := axePages(a.URL)
	states := []a11yState{
		{"event list", page("/", "main h1")},
		{"organisation page", page("/orgs/miso", "main h1")},
		{"event page", page("/events/maifest", "#f-name")},
		{"sign-up form with errors", func(lang string) steps {
			return append(page("/events/maifest", "#f-name")(lang),
				chromedp.SetValue(`#f-email`, "not-an-email"),
				chromedp.Click(`button.primary`), chromedp.WaitVisible(`#errors`))
		}},
		{"registration page", page("/r/"+w.manage, "#status")},
		{"confirmation link page", page("/confirm/"+w.confirm, "#confirm")},
		{"ticket page", page("/t/"+ticketCode, "main h1")},
		{"page not found", page("/events/no-such-event", "main h1")},
		{"embedded form", page("/embed/events/maifest", "#f-name")},
		{"embedded form with errors", func(lang string) steps {
			return append(page("/embed/events/maifest", "#f-name")(lang),
				chromedp.Click(`button.primary`), chromedp.WaitVisible(`#errors`))
		}},
		{"embedded organisation list", page("/embed/orgs/miso", "main h1")},
		{"login", page("/login", "#f-email")},
		{"login with a wrong password", func(lang string) steps {
			return append(page("/login", "#f-email")(lang),
				chromedp.SendKeys(`#f-email`, w.door), chromedp.SendKeys(`#f-password`, "wrong password"),
				chromedp.Click(`#login-submit`), chromedp.WaitVisible(`#problem`))
		}},
		{"check-in: events (signed in as door staff)", func(lang string) steps {
			return append(page("/login", "#f-email")(lang),
				chromedp.SendKeys(`#f-email`, w.door), chromedp.SendKeys(`#f-password`, testapp.StaffPassword),
				// Door-only staff land on the check-in page.
				chromedp.Click(`#login-submit`), chromedp.WaitVisible(`#checkin-events`),
				chromedp.Navigate(a.URL+"/checkin?lang="+lang), chromedp.WaitVisible(`#checkin-events`))
		}},
		{"check-in: scanner", page("/checkin/events/maifest", "#f-code")},
		{"check-in: scan result", func(lang string) steps {
			return append(page("/checkin/events/maifest", "#scan-form[data-ready] #f-code")(lang),
				chromedp.SendKeys(`#f-code`, ticketCode), chromedp.Click(`#scan-submit`), chromedp.WaitVisible(`#result-verdict`))
		}},
		{"check-in: walk-in form with errors", func(lang string) steps {
			return append(page("/checkin/events/maifest", "#f-code")(lang),
				chromedp.Click(`#walkin summary`), chromedp.WaitVisible(`#walkin-submit`),
				chromedp.Click(`#walkin-submit`), chromedp.WaitVisible(`#e-walkin-name`))
		}},
		// The ticket was checked in just now: the paper that follows.
		{"door list (door staff)", page("/admin/orgs/miso/events/maifest/door-list", "#door-list")},
		{"certificate of attendance", page("/r/"+w.manage+"/certificate", ".certificate")},
		{"certificate verification", func(lang string) steps {
			return append(page("/r/"+w.manage+"/certificate", ".certificate")(lang),
				chromedp.Click(`.certificate .url a`), chromedp.WaitVisible(`#verdict`))
		}},
	}
	checkA11y(t, src, lang, states)
}

// shownPage says which page the tab shows (address, title, first
// heading, the problem it names): what a state that never came shows
// instead, e.g. an error page.
func shownPage(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[location.pathname, document.title,
  (document.querySelector("main h1") || {}).textContent || "",
  (document.querySelector("#problem, .problem, main p") || {}).textContent || ""].map(s => s.trim()).join(" | ")`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// a11yState is a state of a flow: open brings the browser to it.
type a11yState struct {
	name string
	open func(lang string) []chromedp.Action[chromedp.Void]
}

func checkA11y(t *testing.T, src, lang string, states []a11yState) {
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	failed := 0
	{
		ctx := newBrowserFor(t, 3*time.Minute)
		// axe-core (500 kB) goes over the protocol once per tab, not once
		// per state; the tab runs it in each new document.
		must("axe-core", chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
			_, err := cdp.Call(ctx, tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
			return err
		})))
		must("viewport", chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)))
		for _, st := range states {
			name := lang + ": " + st.name
			stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := chromedp.Do(stepCtx, st.open(lang)...)
			cancel()
			if err != nil {
				t.Errorf("%s: open: %v (the page shows: %s)", name, err, shownPage(ctx))
				failed++
				continue
			}
			vs, err := runAxe(ctx, src)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, v := range vs {
				var b strings.Builder
				fmt.Fprintf(&b, "%s: [%s] %s: %s", name, v.Impact, v.ID, v.Help)
				for _, n := range v.Nodes {
					fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
				}
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Error(b.String())
					failed++
				} else {
					t.Log(b.String())
				}
			}
			// Language of parts: on Arabic pages the German-only title
			// is marked as German wherever it appears.
			if lang == "ar" {
				unmarked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unmarkedTitleJS))
				must(name+": language of parts", err)
				for _, h := range unmarked {
					t.Errorf("%s: German title without lang=\"de\": %s", name, h)
					failed++
				}
			}
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
			must(name+": width", err)
			if overflow > 0 {
				wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 || e.getBoundingClientRect().left < -1).slice(0, 8).map(e => e.outerHTML.slice(0, 120))`))
				t.Logf("%s: wider than the screen: %v", name, wide)
				t.Errorf("%s: scrolls sideways by %d px on a 360 px wide screen", name, overflow)
				failed++
			}
		}
	}
	if failed == 0 {
		t.Logf("%d states in %s: no serious or critical violations, no sideways scrolling at 360 px", len(states), lang)
	}
}

// The figures pages (bar charts as SVG, tables for screen readers) of an
// organisation and of the network, and the confirmation of a release of
// no-shows, in German and Arabic: no serious or critical axe violation, no
// sideways scrolling at 360 px, the German title marked as German on the
// Arabic page. A network admin sees all three.
func TestAccessibilityAxeFigures(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	w := newA11yWorld(t)
	a := w.a
	o, err := a.Orgs.BySlug(context.Background(), "miso")
	if err != nil {
		t.Fatal(err)
	}
	// An event under way with one party not checked in: the release's
	// confirmation has someone to release.
	a.Event(t, o, "abend", func(in *event.Input) {
		in.Title = event.Texts{"de": "Abend der Begegnung", "ar": "أمسية لقاء"}
		in.Sessions = &[]event.SessionInput{{Key: "kochen", Title: event.Texts{"de": "Kochwerkstatt", "ar": "ورشة طبخ"},
			StartsAt: ptrTime(time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)), EndsAt: ptrTime(time.Now().Add(7*24*time.Hour + time.Hour).Truncate(time.Minute))}}
	})
	if _, err := a.Registrations.SignUp(context.Background(), "abend", registration.SignupInput{
		Name: "Leyla Aziz", Email: "leyla@example.org", PartySize: 1, Consent: true, Sessions: []string{"kochen"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`UPDATE events SET starts_at = now() - interval '1 hour', ends_at = now() + interval '2 hours' WHERE slug = 'abend'`); err != nil {
		t.Fatal(err)
	}
	admin := a.Staff(t, o, "admin@example.org", "owner", true)
	year := time.Now().Year()
	for _, lang := range []string{"de", "ar"} {
		// One language after the other in the test's own place: a
		// parallel subtest would wait behind all of the package's tests.
		t.Run(lang, func(t *testing.T) {
			checkA11y(t, src, lang, []a11yState{
				{"figures", func(lang string) []chromedp.Action[chromedp.Void] {
					return append(signIn(a, admin),
						chromedp.Navigate(fmt.Sprintf("%s/admin/orgs/miso/stats?year=%d&lang=%s", a.URL, year, lang)),
						chromedp.WaitVisible(`#chart-months`))
				}},
				{"network figures", func(lang string) []chromedp.Action[chromedp.Void] {
					return []chromedp.Action[chromedp.Void]{
						chromedp.Navigate(fmt.Sprintf("%s/admin/stats?year=%d&lang=%s", a.URL, year, lang)),
						chromedp.WaitVisible(`#stats-sessions`)}
				}},
				{"release no-shows: confirmation", func(lang string) []chromedp.Action[chromedp.Void] {
					return []chromedp.Action[chromedp.Void]{
						chromedp.Navigate(fmt.Sprintf("%s/admin/orgs/miso/events/abend?lang=%s", a.URL, lang)),
						chromedp.WaitVisible(`#release-check`), chromedp.Click(`#release-check`),
						chromedp.WaitVisible(`#release-submit`)}
				}},
				{"door list of one session", func(lang string) []chromedp.Action[chromedp.Void] {
					return []chromedp.Action[chromedp.Void]{
						chromedp.Navigate(fmt.Sprintf("%s/admin/orgs/miso/events/abend/door-list?session=kochen&lang=%s", a.URL, lang)),
						chromedp.WaitVisible(`#door-session`)}
				}},
			})
		})
	}
}

// axePages gives page(path, wait): the steps that open path on base in a
// language (?lang= or &lang=) and wait until the selector wait is visible,
// for the states of an axe check.
func axePages(base string) func(path, wait string) func(string) []chromedp.Action[chromedp.Void] {
	return func(path, wait string) func(string) []chromedp.Action[chromedp.Void] {
		return func(lang string) []chromedp.Action[chromedp.Void] {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + path + sep + "lang=" + lang), chromedp.WaitVisible(wait)}
		}
	}
}
