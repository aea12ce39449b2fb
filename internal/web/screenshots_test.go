package web_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// The event page on a phone in German, Arabic and Persian, written to
// docs/screenshots/ for people to look at: the right-to-left pages must
// mirror (labels on the right, the language list flowing from the right)
// while the Latin venue, the time range and the email field stay readable.
func TestScreenshotsOfTheEventPage(t *testing.T) {
	t.Parallel()
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
		wantDir := map[string]string{"de": "ltr", "ar": "rtl", "fa": "rtl"}[lang]
		if htmlDir != wantDir {
			t.Errorf("%s: dir %q, want %q", lang, htmlDir, wantDir)
		}
		if !strings.Contains(bodyText, "Kulturzentrum Faust") {
			t.Errorf("%s: venue missing from the page", lang)
		}
		writeScreenshot(t, ctx, filepath.Join(dir, "event-"+lang+".png"), chromedp.FullScreenshot(100))
	}
}

// The door in Russian and Arabic, as door staff see it on a phone: the
// ticket page with its admit button (which once read "Skip" and "Log in"),
// and the scanner showing the same ticket already admitted. Written to
// docs/screenshots/door-{ticket,scan}-{ru,ar}.png.
func TestScreenshotsOfTheDoor(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "faust")
	now := time.Now().Truncate(time.Minute)
	a.Event(t, o, "maifest", func(in *event.Input) {
		in.Title = event.Texts{"de": "Internationales 1. Mai-Fest", "ru": "Международный праздник 1 Мая", "ar": "مهرجان الأول من أيار الدولي"}
		in.Capacity = event.Some(300)
		three := 3
		in.MaxPartySize = &three
		start, end := now.Add(-30*time.Minute), now.Add(90*time.Minute)
		in.StartsAt, in.EndsAt = &start, &end
	})
	door := a.Staff(t, o, "door@example.org", "door", false)
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang, name, admit, already string
	}{
		{"ru", "Olga Smirnova", "Впустить", "Вход уже отмечен"},
		{"ar", "Rami Haddad", "تسجيل الحضور", "دخل من قبل"},
	} {
		code := a.Signed(t, "maifest", c.name, 2).Tickets[0].Code
		ctx := newBrowser(t)
		shot := func(name string) {
			t.Helper()
			// The viewport, not FullScreenshot: capturing beyond it lays
			// the short right-to-left ticket page out wider and cuts it.
			writeScreenshot(t, ctx, filepath.Join(dir, name+"-"+c.lang+".png"), chromedp.CaptureScreenshot())
		}
		err := chromedp.Do(ctx,
			chromedp.Navigate(a.URL+"/login?lang="+c.lang),
			chromedp.WaitVisible(`#f-email`),
			chromedp.SendKeys(`#f-email`, door),
			chromedp.SendKeys(`#f-password`, testapp.StaffPassword),
			chromedp.Click(`#login-submit`),
			chromedp.WaitVisible(`#checkin-events`),
			chromedp.Navigate(a.URL+"/t/"+code+"?lang="+c.lang),
			chromedp.WaitVisible(`#ticket-checkin`),
		)
		if err != nil {
			t.Fatalf("%s: sign in and open the ticket: %v", c.lang, err)
		}
		button, err := chromedp.Run(ctx, chromedp.Text(`#ticket-checkin`))
		if err != nil {
			t.Fatalf("%s: button: %v", c.lang, err)
		}
		if strings.TrimSpace(button) != c.admit {
			t.Errorf("%s: the admit button says %q, want %q", c.lang, button, c.admit)
		}
		shot("door-ticket")
		err = chromedp.Do(ctx,
			chromedp.Click(`#ticket-checkin`),
			chromedp.WaitVisible(`#flash`),
			chromedp.Navigate(a.URL+"/checkin/events/maifest?lang="+c.lang),
			chromedp.WaitVisible(`#scan-form[data-ready] #f-code`),
			chromedp.SendKeys(`#f-code`, code),
			chromedp.Click(`#scan-submit`),
			chromedp.WaitVisible(`#result-verdict`),
		)
		if err != nil {
			t.Fatalf("%s: admit, then scan again: %v", c.lang, err)
		}
		verdict, err := chromedp.Run(ctx, chromedp.Text(`#result-verdict`))
		if err != nil {
			t.Fatalf("%s: verdict: %v", c.lang, err)
		}
		if strings.TrimSpace(verdict) != c.already {
			t.Errorf("%s: a second scan says %q, want %q", c.lang, verdict, c.already)
		}
		shot("door-scan")
	}
}

// The confirmation mail in Persian as a mail program shows it (the HTML
// part, its inline QR codes in place): right to left, the organisation as
// the subject of the footer, and every number the formatter fills in
// (party size, date, time) in Persian digits while the ticket codes keep
// theirs. Written to docs/screenshots/mail-confirmed-fa.png.
func TestScreenshotOfThePersianConfirmationMail(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	o := a.Org(t, "faust")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2027, 5, 1, 14, 0, 0, 0, berlin)
	end := start.Add(8 * time.Hour)
	a.Event(t, o, "maifest", func(in *event.Input) {
		in.Title = event.Texts{"de": "Internationales 1. Mai-Fest", "fa": "جشن بین‌المللی اول ماه مه"}
		in.StartsAt, in.EndsAt = &start, &end
		in.Capacity = event.Some(300)
		three := 3
		in.MaxPartySize = &three
	})
	res, err := a.Registrations.SignUp(context.Background(), "maifest", registration.SignupInput{
		Name: "Shirin Ahmadi", Email: "shirin@example.org", PartySize: 2, Lang: "fa", Consent: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 20*time.Second)
	m, err := mailtest.Parse(got[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	html := m.HTML
	for _, p := range m.Parts {
		if p.ContentID != "" {
			html = strings.ReplaceAll(html, "cid:"+p.ContentID, "data:"+p.MediaType+";base64,"+base64.StdEncoding.EncodeToString(p.Body))
		}
	}
	for _, want := range []string{`dir="rtl"`, "۱ مه ۲۰۲۷", "۱۴:۰۰–۲۲:۰۰", "۲ نفر", "</bdi> به پرسش‌های مربوط به رویداد پاسخ می‌دهد", res.Registration.Tickets[0].Code} {
		if !strings.Contains(html, want) {
			t.Errorf("the Persian confirmation lacks %q:\n%s", want, m.Text)
		}
	}
	page := filepath.Join(t.TempDir(), "mail.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady(`body`)); err != nil {
		t.Fatalf("open the mail: %v", err)
	}
	writeScreenshot(t, ctx, filepath.Join("..", "..", "docs", "screenshots", "mail-confirmed-fa.png"), chromedp.FullScreenshot(100))
}
