package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// The event page on a phone in German, Arabic and Persian, written to
// docs/screenshots/ for people to look at: the right-to-left pages must
// mirror (labels on the right, the language list flowing from the right)
// while the Latin venue, the time range and the email field stay readable.
func TestScreenshotsOfTheEventPage(t *testing.T) {
	a := testapp.New(t)
	o := a.Org(t, "faust")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2027, 5, 1, 14, 0, 0, 0, berlin)
	end := start.Add(8 * time.Hour)
	a.Event(t, o, "maifest", func(in *event.Input) {
		kind := "festival"
		in.Kind = &kind
		in.StartsAt, in.EndsAt = &start, &end
		in.Capacity = event.Some(300)
		three := 3
		in.MaxPartySize = &three
		in.Title = event.Texts{
			"de": "Internationales 1. Mai-Fest",
			"ar": "مهرجان الأول من أيار الدولي",
			"fa": "جشن بین‌المللی اول ماه مه",
		}
		in.Description = event.Texts{
			"de": "Musik, Essen und Gespräche aus vielen Ländern. Der Eintritt ist frei.",
			"ar": "موسيقى وطعام وأحاديث من بلدان كثيرة. الدخول مجاني.",
			"fa": "موسیقی، غذا و گفت‌وگو از کشورهای بسیار. ورود رایگان است.",
		}
	})
	ctx := newBrowser(t)
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"de", "ar", "fa"} {
		err := chromedp.Do(ctx,
			chromedp.Navigate(a.URL+"/events/maifest?lang="+lang),
			chromedp.WaitVisible(`#f-name`),
		)
		if err != nil {
			t.Fatalf("%s: open: %v", lang, err)
		}
		htmlDir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
		if err != nil {
			t.Fatalf("%s: dir: %v", lang, err)
		}
		bodyText, err := chromedp.Run(ctx, chromedp.Text(`main`))
		if err != nil {
			t.Fatalf("%s: text: %v", lang, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", lang, err)
		}
		wantDir := map[string]string{"de": "ltr", "ar": "rtl", "fa": "rtl"}[lang]
		if htmlDir != wantDir {
			t.Errorf("%s: dir %q, want %q", lang, htmlDir, wantDir)
		}
		if !strings.Contains(bodyText, "Kulturzentrum Faust") {
			t.Errorf("%s: venue missing from the page", lang)
		}
		p := filepath.Join(dir, "event-"+lang+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", p, len(png))
	}
}
