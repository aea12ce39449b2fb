package web_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// paperSignUp signs name up (any script) with answers and fails unless it
// is confirmed.
func paperSignUp(t *testing.T, a *testapp.App, slug, name, lang string, party int, answers map[string]any) *registration.Registration {
	t.Helper()
	h := sha256.Sum256([]byte(name))
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
		Name: name, Email: fmt.Sprintf("p%x@example.org", h[:8]),
		PartySize: party, Lang: lang, Consent: true, Answers: answers,
	})
	if err != nil || res.Registration == nil || res.Registration.Status != registration.Confirmed {
		t.Fatalf("sign up %s: %+v %v", name, res, err)
	}
	return res.Registration
}

func checkIn(t *testing.T, a *testapp.App, r *registration.Registration) {
	t.Helper()
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = $1 AND seat = 1`, r.ID); err != nil {
		t.Fatal(err)
	}
}

// paperEvent is an event of "miso" with a question for the door and one
// that is not, and door staff and an organiser.
func paperEvent(t *testing.T, a *testapp.App) *event.Event {
	t.Helper()
	o := a.Org(t, "miso")
	a.Staff(t, o, "door@miso.example", auth.Door, false)
	a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	return a.Event(t, o, "konferenz", func(in *event.Input) {
		in.Title = event.Texts{"de": "Migrationskonferenz", "ar": "مؤتمر الهجرة"}
		in.Capacity = event.Some(20)
		three := 3
		in.MaxPartySize = &three
		in.Questions = &event.Questions{
			{Key: "needs", Type: event.QText, Door: true, Label: event.Texts{"de": "Bedarf am Einlass"}},
			{Key: "secret", Type: event.QText, Label: event.Texts{"de": "Nur fürs Büro"}},
		}
	})
}

// The door list: confirmed parties by name (RTL names isolated), a box per
// seat, the door answers but not the others; ?sort=code by ticket code; the
// event and its date on top. Door staff may print it; the attendee list
// links to every print page.
func TestDoorListShowsConfirmedPartiesWithABoxPerSeatAndTheDoorAnswers(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	paperEvent(t, a)
	paperSignUp(t, a, "konferenz", "Zeynep Kaya", "tr", 3, map[string]any{"needs": "Rollstuhlplatz", "secret": "Büro-Notiz"})
	paperSignUp(t, a, "konferenz", "ليلى حسن", "ar", 1, nil)
	paperSignUp(t, a, "konferenz", "Anna Weiß", "de", 2, nil)
	cancelled := paperSignUp(t, a, "konferenz", "Abgesagt Person", "de", 1, nil)
	if _, err := a.Registrations.Cancel(context.Background(), cancelled.ManageToken); err != nil {
		t.Fatal(err)
	}

	door := a.LoggedIn(t, "door@miso.example")
	code, page := door.Get("/admin/orgs/miso/events/konferenz/door-list?lang=de")
	if code != http.StatusOK {
		t.Fatalf("door staff: %d\n%.500s", code, page)
	}
	rows := regexp.MustCompile(`<td class="name"><bdi>([^<]*)</bdi></td>`).FindAllStringSubmatch(page, -1)
	var names []string
	for _, m := range rows {
		names = append(names, m[1])
	}
	if got := strings.Join(names, " | "); got != "Anna Weiß | Zeynep Kaya | ليلى حسن" {
		t.Errorf("rows by name: %s", got)
	}
	if n := strings.Count(page, `class="box"`); n != 2+3+1 {
		t.Errorf("%d boxes, want one per confirmed seat (6)", n)
	}
	for _, want := range []string{"Migrationskonferenz", "Bedarf am Einlass: <bdi>Rollstuhlplatz</bdi>", "Bestätigte Anmeldungen: 3 · Personen: 6", `href="/static/print.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("door list lacks %q", want)
		}
	}
	for _, leak := range []string{"Büro-Notiz", "Nur fürs Büro", "Abgesagt Person", "@example.org"} {
		if strings.Contains(page, leak) {
			t.Errorf("door list shows %q", leak)
		}
	}

	_, byCode := door.Get("/admin/orgs/miso/events/konferenz/door-list?sort=code")
	codes := regexp.MustCompile(`<td class="code" dir="ltr">([A-Z2-7]{26})</td>`).FindAllStringSubmatch(byCode, -1)
	if len(codes) != 3 {
		t.Fatalf("%d codes on the list by code", len(codes))
	}
	for i := 1; i < len(codes); i++ {
		if codes[i-1][1] > codes[i][1] {
			t.Errorf("?sort=code: %s before %s", codes[i-1][1], codes[i][1])
		}
	}

	// Paper with names is logged like an export, by whoever printed it.
	if n := a.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'registrations.export' AND target = 'konferenz'
	    AND details->>'format' = 'door-list' AND (details->>'rows')::int = 3 AND actor = 'door@miso.example'`); n != 2 {
		t.Errorf("%d audit entries for the two door lists printed, want 2", n)
	}

	// Door staff may not open the badges or the attendee list.
	if code, _ := door.Get("/admin/orgs/miso/events/konferenz/badges"); code != http.StatusForbidden {
		t.Errorf("door staff on the badges: %d, want 403", code)
	}
	_, list := a.LoggedIn(t, "organiser@miso.example").Get("/admin/orgs/miso/events/konferenz/registrations")
	for _, link := range []string{"/door-list", "/badges", "/certificates"} {
		if !strings.Contains(list, `href="/admin/orgs/miso/events/konferenz`+link+`"`) {
			t.Errorf("the attendee list does not link %s", link)
		}
	}
	// The door page links the door list.
	_, scan := door.Get("/checkin/events/konferenz")
	if !strings.Contains(scan, `href="/admin/orgs/miso/events/konferenz/door-list"`) {
		t.Errorf("the door page does not link the door list")
	}
}

// Badges: eight to a sheet, name, event and presenting organisation on
// each; ?qr=1 adds the ticket's QR code.
func TestBadgesComeEightToASheetWithTheQRCodeOnRequest(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	paperEvent(t, a)
	for i := range 9 {
		paperSignUp(t, a, "konferenz", fmt.Sprintf("Person %02d", i), "de", 1, nil)
	}
	org := a.LoggedIn(t, "organiser@miso.example")
	code, page := org.Get("/admin/orgs/miso/events/konferenz/badges")
	if code != http.StatusOK {
		t.Fatalf("badges: %d", code)
	}
	if n := strings.Count(page, `<div class="sheet">`); n != 2 {
		t.Errorf("%d sheets for 9 badges, want 2", n)
	}
	if n := strings.Count(page, `<article class="badge">`); n != 9 {
		t.Errorf("%d badges, want 9", n)
	}
	if strings.Count(page, "MISO e. V.") < 9 || strings.Count(page, "Migrationskonferenz") < 9 || strings.Contains(page, "<svg") {
		t.Errorf("badges without organisation or event, or with a QR code unasked")
	}
	_, withQR := org.Get("/admin/orgs/miso/events/konferenz/badges?qr=1")
	if n := strings.Count(withQR, "<svg"); n != 9 {
		t.Errorf("%d QR codes with ?qr=1, want 9", n)
	}
}

// The certificate: none without a check-in (a 404 page that says why, and
// no link on the registration page); after it, the link, the page in the
// registration's language or ?lang=, and a verification code whose QR code
// and address lead to /verify.
func TestCertificateAfterCheckInInTheParticipantsLanguage(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	e := paperEvent(t, a)
	r := paperSignUp(t, a, "konferenz", "Zeynep Kaya", "tr", 1, nil)
	b := a.Browser(t)

	if _, page := b.Get("/r/" + r.ManageToken); strings.Contains(page, "/certificate") {
		t.Errorf("certificate link before any check-in")
	}
	code, page := b.Get("/r/" + r.ManageToken + "/certificate?lang=de")
	if code != http.StatusNotFound || !strings.Contains(page, "Eine Teilnahmebescheinigung gibt es erst, wenn ein Ticket") {
		t.Errorf("without check-in: %d, want 404 with the explanation\n%.600s", code, page)
	}

	checkIn(t, a, r)
	if _, page := b.Get("/r/" + r.ManageToken); !strings.Contains(page, `href="/r/`+r.ManageToken+`/certificate"`) {
		t.Errorf("no certificate link after the check-in")
	}
	code, page = b.Get("/r/" + r.ManageToken + "/certificate")
	if code != http.StatusOK {
		t.Fatalf("certificate: %d", code)
	}
	for _, want := range []string{`<article class="certificate" lang="tr" dir="ltr">`, "Katılım belgesi", "Zeynep Kaya", "Migrationskonferenz",
		"3 saat", "Kulturzentrum Faust", "MISO e. V.", "İmza, \u2068MISO e. V.\u2069 adına", "<svg"} {
		if !strings.Contains(page, want) {
			t.Errorf("certificate (tr) lacks %q", want)
		}
	}
	m := regexp.MustCompile(regexp.QuoteMeta(a.URL) + `/verify/([A-Z2-7]{26})`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no verification address on the certificate")
	}
	verifyCode := m[1]

	_, ar := b.Get("/r/" + r.ManageToken + "/certificate?lang=ar")
	for _, want := range []string{`<article class="certificate" lang="ar" dir="rtl">`, "شهادة حضور", "مؤتمر الهجرة", "<bdi>Zeynep Kaya</bdi>", verifyCode} {
		if !strings.Contains(ar, want) {
			t.Errorf("certificate (ar) lacks %q", want)
		}
	}

	code, v := b.Get("/verify/" + verifyCode + "?lang=de")
	if code != http.StatusOK || !strings.Contains(v, "Echt:") || !strings.Contains(v, "Z. K.") || !strings.Contains(v, "Migrationskonferenz") {
		t.Errorf("verify: %d\n%.800s", code, v)
	}
	if strings.Contains(v, "Zeynep") || strings.Contains(v, "Kaya") {
		t.Errorf("the verification page shows the name")
	}

	// The organisers print every certificate of the event, one per page.
	paperSignUp(t, a, "konferenz", "Nicht Gekommen", "de", 1, nil)
	org := a.LoggedIn(t, "organiser@miso.example")
	_, all := org.Get("/admin/orgs/miso/events/" + e.Slug + "/certificates")
	if n := strings.Count(all, `<article class="certificate"`); n != 1 || !strings.Contains(all, verifyCode) || strings.Contains(all, "Nicht Gekommen") {
		t.Errorf("organisers' print: %d certificates, want Zeynep's alone with the same code", n)
	}
}

// /verify after the retention erasure still says genuine for the event,
// without initials; an unknown code is a 404 that says "not genuine".
func TestVerifyPageBeforeAndAfterRetention(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	setNow := a.SettableClock()
	e := paperEvent(t, a)
	r := paperSignUp(t, a, "konferenz", "Борис Петров", "ru", 1, nil)
	checkIn(t, a, r)
	cert, err := a.Registrations.CertificateByToken(context.Background(), r.ManageToken)
	if err != nil {
		t.Fatal(err)
	}
	b := a.Browser(t)
	if _, page := b.Get("/verify/" + cert.Code + "?lang=de"); !strings.Contains(page, `<bdi>Б. П.</bdi>`) || strings.Contains(page, `id="erased"`) {
		t.Errorf("before the erasure: no initials\n%.800s", page)
	}
	retention := 90 * 24 * time.Hour
	setNow(e.EndsAt.Add(retention + time.Minute))
	if n, err := a.Registrations.EraseExpired(context.Background(), retention, 100); err != nil || n.Registrations != 1 {
		t.Fatalf("erase: %+v %v", n, err)
	}
	code, page := b.Get("/verify/" + cert.Code + "?lang=de")
	if code != http.StatusOK || !strings.Contains(page, "Echt:") || !strings.Contains(page, "Migrationskonferenz") || !strings.Contains(page, `id="erased"`) {
		t.Errorf("after the erasure: %d\n%.800s", code, page)
	}
	if strings.Contains(page, "Б. П.") || strings.Contains(page, "Борис") {
		t.Errorf("after the erasure the page still shows whose certificate it was")
	}
	code, page = b.Get("/verify/" + strings.Repeat("A", 26) + "?lang=de")
	if code != http.StatusNotFound || !strings.Contains(page, "Nicht echt") {
		t.Errorf("unknown code: %d", code)
	}
}

// Guessing codes is slow: /verify answers a client IP 30 times a minute,
// then 429.
func TestVerifyIsRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := a.Browser(t)
	// The limit is 30 a minute, refilled as time passes (one every 2 s): on
	// a slow machine the lookups themselves take seconds, so the test
	// counts how many were let through before the first 429 and allows
	// for what refilled meanwhile.
	began := time.Now()
	allowed := 0
	for ; allowed < 60; allowed++ {
		code, page := b.Get(fmt.Sprintf("/verify/%026d?lang=en", allowed))
		if code == http.StatusTooManyRequests {
			if !strings.Contains(page, "Too many lookups") {
				t.Errorf("the 429 does not say why: %s", page)
			}
			break
		}
		if code != http.StatusNotFound {
			t.Fatalf("lookup %d: %d, want 404", allowed, code)
		}
	}
	refilled := int(time.Since(began)/(2*time.Second)) + 1
	if allowed < 30 || allowed > 30+refilled {
		t.Fatalf("%d lookups let through before the first 429, want 30 (+%d refilled)", allowed, refilled)
	}
}

// The door list of an event with sessions: each party's sessions in a
// column (a waiting place marked with its position); ?session=key is one
// session's list, only the parties holding a place in it, under its title,
// time and room; an unknown key is a 404. A badge names the sessions its
// party holds a place in, not those it waits for.
func TestDoorListShowsTheSessionsChosenAndOneSessionsList(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	end := start.Add(4 * time.Hour)
	a.Event(t, o, "tage", func(in *event.Input) {
		in.StartsAt, in.EndsAt, in.Capacity = &start, &end, event.Some(20)
		in.Sessions = &[]event.SessionInput{
			{Key: "x", Title: event.Texts{"de": "Werkstatt X"}, StartsAt: ptrTo(start), EndsAt: ptrTo(start.Add(time.Hour)), Room: "Raum 1", Capacity: ptrTo(1)},
			{Key: "y", Title: event.Texts{"de": "Forum Y"}, StartsAt: ptrTo(start.Add(time.Hour)), EndsAt: ptrTo(start.Add(2 * time.Hour)), Room: "Saal 2"},
		}
	})
	sign := func(name string, sessions ...string) {
		t.Helper()
		h := sha256.Sum256([]byte(name))
		if _, err := a.Registrations.SignUp(context.Background(), "tage", registration.SignupInput{
			Name: name, Email: fmt.Sprintf("p%x@example.org", h[:8]), PartySize: 1, Lang: "de", Consent: true, Sessions: sessions,
		}); err != nil {
			t.Fatalf("sign up %s: %v", name, err)
		}
	}
	sign("Anna Weiß", "x", "y")
	sign("Zeynep Kaya", "x")
	sign("Иван Петров")

	b := a.LoggedIn(t, "organiser@miso.example")
	base := "/admin/orgs/miso/events/tage/door-list?lang=de"
	rowsOf := func(page string) map[string]string {
		out := map[string]string{}
		for _, tr := range strings.Split(page, "<tr>")[1:] {
			if m := regexp.MustCompile(`<td class="name"><bdi>([^<]*)</bdi></td>`).FindStringSubmatch(tr); m != nil {
				cell := regexp.MustCompile(`(?s)<td class="sessions">(.*?)</td>`).FindStringSubmatch(tr)
				if cell == nil {
					t.Fatalf("row of %s without a sessions column", m[1])
				}
				out[m[1]] = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(cell[1], "|")
			}
		}
		return out
	}
	code, page := b.Get(base)
	if code != http.StatusOK {
		t.Fatalf("door list: %d", code)
	}
	rows := rowsOf(page)
	if len(rows) != 3 || !strings.Contains(rows["Anna Weiß"], "Werkstatt X") || !strings.Contains(rows["Anna Weiß"], "Forum Y") ||
		!strings.Contains(rows["Zeynep Kaya"], "Werkstatt X| (Warteliste, Platz 1)") || strings.Contains(rows["Иван Петров"], "Werk") {
		t.Errorf("sessions column: %q", rows)
	}
	if !strings.Contains(page, `href="?session=x&amp;sort=name"`) {
		t.Error("the door list does not link the list of session x")
	}

	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, s := range []struct {
		key, room string
		at        time.Time
	}{{"x", "Raum 1", start}, {"y", "Saal 2", start.Add(time.Hour)}} {
		code, page := b.Get(base + "&session=" + s.key)
		if code != http.StatusOK {
			t.Fatalf("session %s: %d", s.key, code)
		}
		rows := rowsOf(page)
		if _, ok := rows["Anna Weiß"]; len(rows) != 1 || !ok {
			t.Errorf("list of session %s: %q, want Anna Weiß alone", s.key, rows)
		}
		head := regexp.MustCompile(`(?s)<th class="event"[^>]*>(.*?)</th>`).FindStringSubmatch(page)
		if head == nil || !strings.Contains(head[1], `id="door-session"`) || !strings.Contains(head[1], "Raum: "+s.room) ||
			!strings.Contains(head[1], s.at.In(berlin).Format("15:04")) {
			t.Errorf("head of session %s: %q", s.key, head)
		}
	}
	if code, _ := b.Get(base + "&session=nope"); code != http.StatusNotFound {
		t.Errorf("unknown session: %d, want 404", code)
	}

	_, badges := b.Get("/admin/orgs/miso/events/tage/badges?lang=de")
	cards := map[string]string{}
	for _, art := range strings.Split(badges, "<article")[1:] {
		if m := regexp.MustCompile(`<p class="name"><bdi>([^<]*)</bdi>`).FindStringSubmatch(art); m != nil {
			cards[m[1]] = art
		}
	}
	if !strings.Contains(cards["Anna Weiß"], `class="sessions"`) || !strings.Contains(cards["Anna Weiß"], "Werkstatt X") || !strings.Contains(cards["Anna Weiß"], "Forum Y") {
		t.Errorf("Anna's badge: %s", cards["Anna Weiß"])
	}
	if strings.Contains(cards["Zeynep Kaya"], "Werkstatt X") {
		t.Error("a badge names a session its party only waits for")
	}
}
