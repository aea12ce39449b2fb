package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/lib/pq"
	"golang.org/x/text/unicode/norm"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// paperNames are 400 distinct names, a quarter each in German, Turkish,
// Arabic and Cyrillic script, and the language each signed up in.
func paperNames() (names, langs []string) {
	first := [4][]string{
		{"Jürgen", "Anna", "Lukas", "Sophie", "Maximilian", "Greta", "Felix", "Marie", "Jonas", "Lena"},
		{"Ayşe", "Mehmet", "Zeynep", "Emre", "Gülşen", "Oğuz", "Şule", "Barış", "İpek", "Çağla"},
		{"ليلى", "أحمد", "فاطمة", "محمد", "سارة", "يوسف", "مريم", "علي", "نور", "حسن"},
		{"Анна", "Борис", "Ольга", "Дмитрий", "Наталья", "Сергей", "Елена", "Иван", "Мария", "Павел"},
	}
	last := [4][]string{
		{"Weiß", "Müller", "Schäfer", "Köhler", "Groß", "Bäcker", "Fuchs", "Krüger", "Hoffmann", "Wagner"},
		{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Doğan", "Kılıç", "Arslan"},
		{"الخطيب", "منصور", "حداد", "العلي", "سليمان", "ناصر", "خوري", "عيسى", "بكر", "حمدان"},
		{"Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков"},
	}
	lang := [4]string{"de", "tr", "ar", "ru"}
	for i := range 400 {
		s, j := i%4, i/4
		names = append(names, first[s][j%10]+" "+last[s][j/10])
		langs = append(langs, lang[s])
	}
	return names, langs
}

// insertConfirmed writes confirmed registrations of one seat each for the
// event in one statement: the print pages read them like any others (the
// codes derive from the nonces; the stored hashes only need to be unique).
func insertConfirmed(t *testing.T, a *testapp.App, eventID int64, names, langs []string) []int64 {
	t.Helper()
	nonces := make([][]byte, len(names))
	for i := range nonces {
		nonces[i] = make([]byte, 16)
		_, _ = rand.Read(nonces[i])
	}
	var ids []int64
	err := a.DB.Select(&ids, `
WITH r AS (
    INSERT INTO registrations (event_id, name, email, lang, party_size, status, consent_at, confirmed_at, manage_nonce, manage_hash)
    SELECT $1, u.name, 'p' || u.n || '@example.org', u.lang, 1, 'confirmed', now(), now(), u.nonce, sha256(u.nonce)
    FROM unnest($2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u(name, lang, nonce, n)
    RETURNING id
), t AS (
    INSERT INTO tickets (registration_id, event_id, seat, code_hash)
    SELECT id, $1, 1, sha256(int8send(id)) FROM r
)
SELECT id FROM r ORDER BY id`, eventID, pq.Array(names), pq.Array(langs), pq.Array(nonces))
	if err != nil {
		t.Fatalf("insert registrations: %v", err)
	}
	if _, err := a.DB.Exec(`UPDATE events SET seats_confirmed = seats_confirmed + $2 WHERE id = $1`, eventID, len(names)); err != nil {
		t.Fatal(err)
	}
	return ids
}

// printPDF prints the page at url to PDF as a browser's "Save as PDF" does
// (the page's own @page size and margins) and returns the text of each page
// as poppler's pdftotext extracts it, folded to NFKC (Arabic presentation
// forms back to letters).
//
// Without poppler-utils the test is skipped locally, as without a browser;
// in CI (.ci/run installs it) it fails.
func printPDF(t *testing.T, ctx context.Context, url, ready string) []string {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found; .ci/run installs poppler-utils", tool)
			}
			t.Skipf("%s not installed (poppler-utils)", tool)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(ready)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFStream()))
	if err != nil {
		t.Fatalf("print %s: %v", url, err)
	}
	file := filepath.Join(t.TempDir(), "page.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils): %v", err)
	}
	pages := strings.Split(strings.TrimSuffix(norm.NFKC.String(string(out)), "\f"), "\f")
	info, err := exec.Command("pdfinfo", file).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(info)
	if m == nil {
		t.Fatalf("pdfinfo without a page count: %s", info)
	}
	if n, _ := strconv.Atoi(string(m[1])); n != len(pages) {
		t.Fatalf("pdfinfo counts %d pages, pdftotext %d", n, len(pages))
	}
	return pages
}

// hasName reports whether text holds name: each of its words, as PDF text
// extraction may put right-to-left words in either order.
func hasName(text, name string) bool {
	for _, w := range strings.Fields(norm.NFKC.String(name)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// The print pages rendered to PDF by headless Chromium, the text taken out
// with pdftotext: 400 attendees in German, Turkish, Arabic and Cyrillic
// script are all on the door list, whose every page names the event and
// says "page i / n"; the badges fill exactly 50 A4 sheets (400 / 8); each
// certificate is one page in its holder's language.
func TestPrintPagesAsPDF(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	organiser := a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	e := a.Event(t, o, "konferenz", func(in *event.Input) {
		in.Title = event.Texts{"de": "Migrationskonferenz", "ar": "مؤتمر الهجرة"}
	})
	names, langs := paperNames()
	ids := insertConfirmed(t, a, e.ID, names, langs)
	// One of each script came (ids are in the order of names).
	came := map[int]string{0: "Teilnahmebescheinigung", 1: "Katılım belgesi", 2: "شهادة حضور", 3: "Справка об участии"}
	for i := range came {
		if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = $1`, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowserFor(t, 3*time.Minute)
	if err := chromedp.Do(ctx, signIn(a, organiser)...); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	base := a.URL + "/admin/orgs/miso/events/konferenz"

	pages := printPDF(t, ctx, base+"/door-list?lang=de", "#door-list")
	// Exactly 15 pages, measured once (2026-12, Chromium's print layout)
	// and explained: A4 is 297 mm high, the @page margins (12 mm, 16 mm)
	// leave 269 mm; the table's head, repeated on every page (event, date,
	// place, summary, column names), takes 34 mm, and a row of one line
	// 8 mm (the 5 mm box to tick and the cell padding), so 29 rows fit a
	// page (30 would need 273 mm). Sixteen of the names ("Maximilian
	// Hoffmann", "Дмитрий Кузнецов", …) wrap in the name column and take
	// 13 mm, so the pages they fall on in name order hold 26 to 28 rows:
	// 14 pages hold 394 rows, and the last 6 make the 15th. A change to
	// print.css, the head or the names changes the count, and this test
	// says so.
	if len(pages) != 15 {
		t.Errorf("door list of 400: %d pages, want 15", len(pages))
	}
	pageNo := regexp.MustCompile(`(?m)^\s*(\d+) / (\d+)\s*$`)
	for i, p := range pages {
		m := pageNo.FindStringSubmatch(p)
		if m == nil || m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(len(pages)) {
			t.Errorf("door list page %d: page number %q, want %d / %d", i+1, m, i+1, len(pages))
		}
		if !strings.Contains(p, "Migrationskonferenz") {
			t.Errorf("door list page %d does not name the event", i+1)
		}
	}
	all := strings.Join(pages, "\n")
	missing := 0
	for _, n := range names {
		if !hasName(all, n) {
			missing++
			if missing <= 5 {
				t.Errorf("door list PDF lacks %q", n)
			}
		}
	}
	for _, n := range []string{"Jürgen Weiß", "Gülşen Yılmaz", "ليلى الخطيب", "Дмитрий Петров"} {
		if !hasName(all, n) {
			t.Errorf("door list PDF lacks %q", n)
		}
	}

	badges := printPDF(t, ctx, base+"/badges?lang=de", ".sheet")
	if len(badges) != 50 {
		t.Errorf("badges for 400: %d pages, want 50 sheets", len(badges))
	}
	for i, p := range badges {
		n := 0
		for _, name := range names {
			if hasName(p, name) {
				n++
			}
		}
		// Words shared between names may make one count twice; never less.
		if n < 8 {
			t.Errorf("badge sheet %d holds %d names, want 8", i+1, n)
		}
	}

	certs := printPDF(t, ctx, base+"/certificates", ".certificate")
	if len(certs) != len(came) {
		t.Fatalf("certificates of %d who came: %d pages", len(came), len(certs))
	}
	for i, heading := range came {
		found := false
		for _, p := range certs {
			if strings.Contains(p, norm.NFKC.String(heading)) && hasName(p, names[i]) {
				found = true
			}
		}
		if !found {
			t.Errorf("no certificate page for %q headed %q", names[i], heading)
		}
	}
}

// Screenshots of the paper, as printed (print media, an A4 page's width),
// in German and Arabic: docs/screenshots/paper-{door-list,badges,certificate}-{de,ar}.png.
func TestScreenshotsOfThePaper(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	organiser := a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2027, 1, 19, 15, 0, 0, 0, berlin)
	end := start.Add(4 * time.Hour)
	e := a.Event(t, o, "neujahrsempfang", func(in *event.Input) {
		in.Title = event.Texts{"de": "Neujahrsempfang", "ar": "حفل استقبال رأس السنة"}
		in.StartsAt, in.EndsAt = &start, &end
		in.Venue = &event.Venue{Name: "Ezidische Akademie", Street: "Schulenburger Landstr. 150", Postcode: "30165", City: "Hannover"}
		in.Questions = &event.Questions{{Key: "access", Type: event.QText, Door: true, Label: event.Texts{"de": "Barrierefreiheit", "ar": "إمكانية الوصول"}}}
	})
	names := []string{"Jürgen Weiß", "Ayşe Yılmaz", "ليلى الخطيب", "Дмитрий Петров", "Gülşen Öztürk", "محمد منصور", "Наталья Соколова", "Greta Köhler"}
	langs := []string{"de", "tr", "ar", "ru", "tr", "ar", "ru", "de"}
	ids := insertConfirmed(t, a, e.ID, names, langs)
	if _, err := a.DB.Exec(`UPDATE registrations SET answers = '{"access": "Rollstuhl"}' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = ANY($1)`, pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, signIn(a, organiser)...); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	printMedia := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	}
	// An A4 page at 96 dpi.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(794, 1123), printMedia); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := a.URL + "/admin/orgs/miso/events/neujahrsempfang"
	for _, lang := range []string{"de", "ar"} {
		// The door list and the certificate as the first A4 page shows
		// them; the badges as their first sheet.
		for _, s := range []struct {
			name, path, sel string
			element         bool
		}{
			{"door-list", "/door-list", "#door-list", false},
			{"badges", "/badges?qr=1", ".sheet", true},
			{"certificate", "/certificates", ".certificate", false},
		} {
			u := base + s.path
			if strings.Contains(u, "?") {
				u += "&lang=" + lang
			} else {
				u += "?lang=" + lang
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(s.sel)); err != nil {
				t.Fatalf("%s %s: %v", s.name, lang, err)
			}
			// The screen has no @page margins; the paper's white border.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.style.padding = "12mm"`)); err != nil {
				t.Fatalf("%s %s: margin: %v", s.name, lang, err)
			}
			dirAttr, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
			if err != nil || dirAttr != map[string]string{"de": "ltr", "ar": "rtl"}[lang] {
				t.Errorf("%s %s: dir %q %v", s.name, lang, dirAttr, err)
			}
			shot := chromedp.CaptureScreenshot()
			if s.element {
				shot = chromedp.Screenshot(s.sel)
			}
			writeScreenshot(t, ctx, filepath.Join(dir, fmt.Sprintf("paper-%s-%s.png", s.name, lang)), shot)
		}
	}
}

// Badges naming long sessions keep their card: printed with the QR code,
// nine parties that chose three workshops with long titles fill two A4
// sheets, every card is 90 × 55 mm, and the sessions take one line (cut
// with an ellipsis) rather than pushing the card's text out.
func TestBadgesWithSessionsKeepTheirCard(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	organiser := a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	end := start.Add(6 * time.Hour)
	var sessions []event.SessionInput
	var keys []string
	for i, title := range []string{"Förderanträge schreiben für Migrantenselbstorganisationen", "Öffentlichkeitsarbeit in sieben Sprachen", "Ehrenamt gewinnen und halten: Erfahrungen aus Hannover"} {
		s, e := start.Add(time.Duration(i)*time.Hour), start.Add(time.Duration(i+1)*time.Hour)
		key := fmt.Sprintf("ws%d", i)
		sessions = append(sessions, event.SessionInput{Key: key, Title: event.Texts{"de": title}, StartsAt: &s, EndsAt: &e})
		keys = append(keys, key)
	}
	a.Event(t, o, "tage", func(in *event.Input) {
		in.StartsAt, in.EndsAt, in.Sessions = &start, &end, &sessions
	})
	for i := range 9 {
		if _, err := a.Registrations.SignUp(context.Background(), "tage", registration.SignupInput{
			Name: fmt.Sprintf("Gülşen Öztürk-Yılmaz %d", i), Email: fmt.Sprintf("p%d@example.org", i), PartySize: 1, Lang: "de",
			Consent: true, Sessions: keys}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowserFor(t, 2*time.Minute)
	if err := chromedp.Do(ctx, signIn(a, organiser)...); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	url := a.URL + "/admin/orgs/miso/events/tage/badges?qr=1&lang=de"
	if sheets := printPDF(t, ctx, url, ".sheet"); len(sheets) != 2 {
		t.Errorf("nine badges: %d pages, want 2 sheets", len(sheets))
	}
	printMedia := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(794, 1123), printMedia, chromedp.Navigate(url), chromedp.WaitVisible(".badge .sessions")); err != nil {
		t.Fatal(err)
	}
	// Sizes in millimetres (96 px to 25.4 mm), rounded.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".badge")].map(b => {
  const mm = px => Math.round(px * 25.4 / 96);
  const s = b.querySelector(".sessions"), n = b.querySelector(".name");
  const line = parseFloat(getComputedStyle(s).lineHeight) || s.getBoundingClientRect().height;
  return [mm(b.getBoundingClientRect().width), mm(b.getBoundingClientRect().height),
    s.getBoundingClientRect().height <= line * 1.5 ? "one line" : "wraps",
    s.scrollWidth > s.clientWidth ? "cut" : "whole",
    b.scrollHeight <= b.clientHeight ? "fits" : "overflows",
    n.getBoundingClientRect().bottom <= b.getBoundingClientRect().bottom ? "name inside" : "name out"].join(" ");
})`))
	if err != nil || len(got) != 9 {
		t.Fatalf("badges %v %v", got, err)
	}
	for i, g := range got {
		if g != "90 55 one line cut fits name inside" {
			t.Errorf("badge %d: %s, want 90 55 one line cut fits name inside", i+1, g)
		}
	}
}
