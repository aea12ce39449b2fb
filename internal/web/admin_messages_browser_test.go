package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/testapp"
)

// Issue 19: the delivery counts move while the organiser writes the next
// message. The list under the compose form polls messages.json
// (web/static/messages.js, allowed by the CSP) and updates its counts in
// place: what is typed into the form stays, and once nothing waits the
// polling stops and says no more that it is updating.
func TestBrowserDeliveryCountsMoveWithoutLosingTheForm(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t) // fest-a has a message to its confirmed, its email waiting
	ctx := newBrowser(t)
	row := `tr[data-message="` + strconv.FormatInt(w.A.MessageID, 10) + `"]`
	count := func(k string) string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Text(row+` [data-count="`+k+`"]`))
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		return strings.TrimSpace(got)
	}
	steps := append(signIn(w.App, w.A.Organiser),
		chromedp.Navigate(w.URL+"/admin/orgs/a/events/"+w.A.Event.Slug+"/messages"),
		chromedp.WaitVisible(`#m-updating`), // the script polls: an email waits
		chromedp.SendKeys(`#f-subject-de`, "Halb geschrieben"),
		chromedp.SendKeys(`#f-body-de`, "Noch nicht fertig"),
	)
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if q, d := count("queued"), count("delivered"); q != "1" || d != "0" {
		t.Fatalf("before sending: %s waiting, %s delivered", q, d)
	}
	testapp.RunSender(t, w.Sender(t, nil)) // dev mode: marks them sent
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(row+` [data-count="delivered"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+row+` [data-count="delivered"]').textContent === "1"`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.WaitNotVisible(`#m-updating`),
	); err != nil {
		t.Fatalf("the counts did not move: %v (waiting %s, delivered %s)", err, count("queued"), count("delivered"))
	}
	if q := count("queued"); q != "0" {
		t.Errorf("after sending: %s waiting", q)
	}
	subject, err := chromedp.Run(ctx, chromedp.Value(`#f-subject-de`))
	if err != nil || subject != "Halb geschrieben" {
		t.Errorf("the form lost what was typed: %q %v", subject, err)
	}
}
