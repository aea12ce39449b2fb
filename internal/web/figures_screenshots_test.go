package web_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// The figures page in German and Arabic, written to docs/screenshots/ for
// people to look at: in Arabic the bars grow from the right, their labels
// on the right.
func TestScreenshotsOfTheFigures(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	start := time.Now().AddDate(0, 0, 7).Truncate(time.Minute)
	for i, slug := range []string{"migrationskonferenz", "neujahrsempfang"} {
		a.Event(t, o, slug, func(in *event.Input) {
			s := start.Add(time.Duration(i) * 24 * time.Hour)
			e := s.Add(3 * time.Hour)
			in.StartsAt, in.EndsAt = &s, &e
			two := 2
			in.Capacity, in.MaxPartySize = event.Some(160), &two
			in.Title = event.Texts{"de": map[int]string{0: "Migrationskonferenz", 1: "Neujahrsempfang"}[i]}
		})
	}
	n := 0
	for lang, count := range map[string]int{"de": 23, "tr": 11, "ar": 9, "fa": 6, "ru": 3, "ku": 2} {
		for range count {
			n++
			slug := "migrationskonferenz"
			if n%3 == 0 {
				slug = "neujahrsempfang"
			}
			if _, err := a.Registrations.SignUp(t.Context(), slug, registration.SignupInput{
				Name: fmt.Sprintf("P %d", n), Email: fmt.Sprintf("p%d@example.org", n), PartySize: 1 + n%2, Lang: lang, Consent: true,
				MemberNumber: map[bool]string{true: fmt.Sprintf("M-%d", n)}[n%4 == 0]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	organiser := a.Staff(t, o, "organiser@example.org", "organiser", false)
	dir := filepath.Join("..", "..", "docs", "screenshots")
	for _, lang := range []string{"de", "ar"} {
		ctx := newBrowser(t)
		err := chromedp.Do(ctx, append(signIn(a, organiser),
			chromedp.EmulateViewport(900, 1800),
			chromedp.Navigate(fmt.Sprintf("%s/admin/orgs/miso/stats?year=%d&lang=%s", a.URL, start.Year(), lang)),
			chromedp.WaitVisible(`#chart-langs`))...)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		writeScreenshot(t, ctx, filepath.Join(dir, "figures-"+lang+".png"), chromedp.CaptureScreenshot())
	}
}
