package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testutil"
)

// focusedJS describes the focused element and whether its focus can be
// seen (an outline, or a box shadow, drawn while it has focus).
const focusedJS = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "body|no";
  const s = getComputedStyle(e);
  const seen = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none";
  return (e.closest("header.site") ? "header:" : "") + (e.id ? "#" + e.id : e.tagName.toLowerCase() + (e.className ? "." + e.className.split(" ")[0] : "")) + "|" + (seen ? "yes" : "no");
})()`

// A participant who uses only the keyboard: skips the navigation, sends
// the empty form, lands on the error summary, follows its first link to the
// name field, fills in the form with Tab, typing and Space, sends it with
// Enter and gets the registration page. Every element that gets focus on
// the way shows it.
func TestBrowserKeyboardOnlySignup(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "quiz", func(in *event.Input) {
		in.Title = event.Texts{"de": "Hirnschmalz-Battle"}
		in.Capacity = event.Some(40)
	})
	ctx := newBrowser(t)
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("keyboard, %s: %v", step, err)
		}
	}
	focused := func() (string, bool) {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusedJS))
		must("read focus", err)
		sel, seen, _ := strings.Cut(s, "|")
		return sel, seen == "yes"
	}
	var path []string
	press := func(keys string) {
		t.Helper()
		must(fmt.Sprintf("press %q", keys), chromedp.Do(ctx, chromedp.KeyEvent(keys)))
	}
	// enter presses Enter as a person does: keydown (with its keypress) and
	// keyup. chromedp's KeyEvent sends a second keypress ("char") after the
	// keydown, which would reach the field that the link just focused and
	// submit its form.
	enter := func() {
		t.Helper()
		for _, p := range []input.DispatchKeyEventParams{
			{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
			{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
		} {
			_, err := chromedp.Call(ctx, input.DispatchKeyEvent, p)
			must("press Enter", err)
		}
	}
	// tabTo presses Tab until want has focus, checking that every stop
	// on the way shows its focus.
	tabTo := func(want string) {
		t.Helper()
		for range 40 {
			press(kb.Tab)
			sel, seen := focused()
			path = append(path, sel)
			if !seen {
				t.Errorf("focus on %s is not visible (path %v)", sel, path)
			}
			if sel == want {
				return
			}
		}
		t.Fatalf("Tab never reached %s; path %v", want, path)
	}
	must("open event page", chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/events/quiz?lang=de"), chromedp.WaitVisible(`#f-name`)))

	press(kb.Tab)
	if sel, _ := focused(); sel != "a.skip" {
		t.Fatalf("first Tab lands on %s, want the skip link", sel)
	}
	enter()
	tabTo("#f-name")
	for _, sel := range path {
		if strings.HasPrefix(sel, "header:") {
			t.Errorf("the skip link did not skip the header: Tab stops %v", path)
			break
		}
	}
	tabTo("button.primary")
	enter()
	must("error summary", chromedp.Do(ctx, chromedp.WaitVisible(`#errors`)))
	testutil.EventuallyNoError(t, 2*time.Second, func() error {
		if sel, _ := focused(); sel != "#errors" {
			return fmt.Errorf("focus is on %s", sel)
		}
		return nil
	}, "focus on the error summary after sending the empty form")
	tabTo("a")
	enter()
	if sel, _ := focused(); sel != "#f-name" {
		t.Fatalf("the first error link moves focus to %s, want #f-name", sel)
	}
	press("Ayla Demir")
	tabTo("#f-email")
	press("ayla@example.org")
	tabTo("#f-consent")
	press(" ")
	tabTo("button.primary")
	enter()
	must("registration page", chromedp.Do(ctx, chromedp.WaitVisible(`#status`)))
	status, err := chromedp.Run(ctx, chromedp.Text(`#status`))
	must("status", err)
	if status != "Bestätigt" {
		t.Errorf("status %q, want Bestätigt", status)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations WHERE name = 'Ayla Demir' AND email = 'ayla@example.org' AND status = 'confirmed'`); got != 1 {
		t.Fatalf("registrations = %d, want 1", got)
	}
}
