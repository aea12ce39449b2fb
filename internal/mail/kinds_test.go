package mail_test

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/testapp"
)

// One event's life, from sign-up to cancellation, sends every kind of
// email, each to the right person in that person's language, with links
// that work on the running app and a calendar entry that parses.
func TestEveryKindReachesTheRightPersonInTheirLanguage(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	var shift atomic.Int64 // the registration service's clock, ahead of the wall clock
	a.Registrations.SetClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) })
	srv := a.StartMail(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(3) })

	anna := signUp(t, a, "fest", "Anna", "de", 1)
	ben := signUp(t, a, "fest", "Ben", "en", 1)
	emil := signUp(t, a, "fest", "Emil", "en", 1)
	carla := signUp(t, a, "fest", "Carla", "en", 1)
	dieter := signUp(t, a, "fest", "Dieter", "de", 1)
	if anna.Status != "confirmed" || ben.Status != "confirmed" || emil.Status != "confirmed" ||
		carla.Status != "waitlisted" || dieter.Status != "waitlisted" {
		t.Fatalf("statuses %s %s %s %s %s", anna.Status, ben.Status, emil.Status, carla.Status, dieter.Status)
	}
	srv.Wait(t, 5, 10*time.Second)
	cancel(t, a, anna.ManageURL) // Anna: cancelled; Carla moves up: promoted
	srv.Wait(t, 7, 10*time.Second)
	cancel(t, a, emil.ManageURL) // Emil: cancelled; Dieter moves up: promoted
	srv.Wait(t, 9, 10*time.Second)
	moved := e.StartsAt.Add(24 * time.Hour)
	movedEnd := moved.Add(3 * time.Hour)
	if _, err := a.Events.Update(context.Background(), o.ID, "fest", event.Input{StartsAt: &moved, EndsAt: &movedEnd}); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 12, 10*time.Second) // Ben, Carla and Dieter: changed
	// The day before: the three are reminded, once.
	shift.Store(int64(moved.Sub(time.Now()) - 12*time.Hour))
	srv.Wait(t, 15, 10*time.Second)
	if n, err := a.Registrations.Remind(context.Background(), 100); err != nil || n != 0 {
		t.Fatalf("reminding again: %d, %v; want 0", n, err)
	}
	shift.Store(0)
	if _, err := a.Events.Cancel(context.Background(), o.ID, "fest"); err != nil {
		t.Fatal(err)
	}
	got := parsed(t, srv.Wait(t, 18, 10*time.Second))
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Received()); n != 18 {
		t.Fatalf("%d messages, want 18", n)
	}

	want := map[string]struct {
		lang  string
		kinds []string
	}{
		addr("Anna"):   {"de", []string{"confirmed", "cancelled"}},
		addr("Ben"):    {"en", []string{"confirmed", "event_changed", "reminder", "event_cancelled"}},
		addr("Emil"):   {"en", []string{"confirmed", "cancelled"}},
		addr("Carla"):  {"en", []string{"waitlisted", "promoted", "event_changed", "reminder", "event_cancelled"}},
		addr("Dieter"): {"de", []string{"waitlisted", "promoted", "event_changed", "reminder", "event_cancelled"}},
	}
	byKind := map[string]*mailtest.Message{}
	langsOf := map[string]map[string]bool{}
	for to, w := range want {
		var kinds []string
		for _, m := range got {
			if m.To.Address != to {
				continue
			}
			k := kindOf(t, m)
			kinds = append(kinds, k)
			if langsOf[k] == nil {
				langsOf[k] = map[string]bool{}
			}
			langsOf[k][m.Header.Get("Content-Language")] = true
			if l := m.Header.Get("Content-Language"); l != w.lang {
				t.Errorf("%s %s: Content-Language %q, want %q", to, k, l, w.lang)
			}
			byKind[to+" "+k] = m
		}
		if !slices.Equal(kinds, w.kinds) {
			t.Errorf("%s got %v, want %v", to, kinds, w.kinds)
		}
	}
	for k, langs := range langsOf {
		if !langs["de"] || !langs["en"] {
			t.Errorf("%s was sent in %v, want both de and en", k, langs)
		}
	}
	if len(langsOf) != 7 {
		t.Errorf("%d kinds sent, want all 7", len(langsOf))
	}

	// Ben's confirmation: English, his links work, his QR code is his ticket.
	conf := byKind[addr("Ben")+" confirmed"]
	if !strings.Contains(conf.Text, "Hello Ben,") || !strings.Contains(conf.Subject, "Workshop fest") {
		t.Errorf("Ben's confirmation is not in English:\n%s", conf.Text)
	}
	ticketURL := ben.Tickets[0].URL
	for _, l := range []string{ben.ManageURL, ticketURL, a.URL + "/events/fest"} {
		if !slices.Contains(links(a, conf.Text), l) {
			t.Errorf("confirmation lacks link %s:\n%s", l, conf.Text)
		}
	}
	if code, body := get(t, a, ben.ManageURL); code != 200 || !strings.Contains(body, "Ben") || !strings.Contains(body, ben.Tickets[0].Code) {
		t.Errorf("manage link %s: %d, name or ticket missing", ben.ManageURL, code)
	}
	if code, body := get(t, a, ticketURL); code != 200 || !strings.Contains(body, ben.Tickets[0].Code) {
		t.Errorf("ticket link: %d", code)
	}
	if code, body := get(t, a, a.URL+"/events/fest"); code != 200 || !strings.Contains(body, "Werkstatt fest") {
		t.Errorf("event link: %d", code)
	}
	if !strings.Contains(conf.HTML, `src="cid:qr-1.png"`) || !strings.Contains(conf.HTML, ben.Tickets[0].Code) {
		t.Errorf("confirmation HTML lacks the inline QR code or the ticket code")
	}
	img := conf.Part("image/png")
	if img == nil || img.ContentID != "qr-1.png" {
		t.Fatalf("no inline QR image with Content-ID qr-1.png")
	}
	if got := decodeQR(t, img.Body); got != ticketURL {
		t.Errorf("QR code carries %q, want %q", got, ticketURL)
	}

	host := hostOf(t, a.URL)
	cal := calendarOf(t, conf)
	if uid := cal.Events()[0].Id(); uid != e.UID(host) {
		t.Errorf("calendar UID %q, want the event's %q", uid, e.UID(host))
	}
	seq := func(c *ics.Calendar) string {
		return c.Events()[0].GetProperty(ics.ComponentPropertySequence).Value
	}
	changed := calendarOf(t, byKind[addr("Ben")+" event_changed"])
	if seq(changed) <= seq(cal) {
		t.Errorf("SEQUENCE after the move %s, before %s: must rise", seq(changed), seq(cal))
	}
	if start := changed.Events()[0].GetProperty(ics.ComponentPropertyDtStart).Value; start != moved.UTC().Format("20060102T150405Z") {
		t.Errorf("moved DTSTART %s, want %s", start, moved.UTC().Format("20060102T150405Z"))
	}
	called := calendarOf(t, byKind[addr("Ben")+" event_cancelled"])
	if st := called.Events()[0].GetProperty(ics.ComponentPropertyStatus).Value; st != "CANCELLED" {
		t.Errorf("cancelled event's calendar STATUS %s", st)
	}
	if p := byKind[addr("Dieter")+" promoted"]; !strings.Contains(p.Text, "nachgerückt") || p.Part("text/calendar") == nil {
		t.Errorf("Dieter's promotion:\n%s", p.Text)
	}
	if w := byKind[addr("Dieter")+" waitlisted"]; !strings.Contains(w.Text, "Platz 2 der Warteliste") || !strings.Contains(w.Text, dieter.ManageURL) {
		t.Errorf("Dieter's waitlist mail lacks position 2 or his link:\n%s", w.Text)
	}
	if p := byKind[addr("Carla")+" promoted"]; !strings.Contains(p.Text, "moved up from the waitlist") || p.Part("image/png") == nil || p.Part("text/calendar") == nil {
		t.Errorf("Carla's promotion lacks its text, ticket QR or calendar:\n%s", p.Text)
	}
	if c := byKind[addr("Anna")+" cancelled"]; !strings.Contains(c.Text, "abgesagt") || c.Part("image/png") != nil {
		t.Errorf("Anna's cancellation:\n%s", c.Text)
	}
	if r := byKind[addr("Carla")+" reminder"]; !strings.Contains(r.Text, carla.ManageURL) || r.Part("image/png") == nil {
		t.Errorf("Carla's reminder lacks her link or ticket")
	}

	// The organiser sees every mail as sent.
	var list struct {
		Registrations []struct {
			Email     string `json:"email"`
			MailState string `json:"mail_state"`
			Mail      []struct {
				Kind   string     `json:"kind"`
				Status string     `json:"status"`
				SentAt *time.Time `json:"sent_at"`
			} `json:"mail"`
		} `json:"registrations"`
	}
	a.JSON(t, "GET", "/api/v1/orgs/miso/events/fest/registrations", a.Token(t, o, "organiser"), nil, &list)
	for _, r := range list.Registrations {
		var kinds []string
		for _, m := range r.Mail {
			kinds = append(kinds, m.Kind)
			if m.Status != "sent" || m.SentAt == nil {
				t.Errorf("%s %s: %s at %v", r.Email, m.Kind, m.Status, m.SentAt)
			}
		}
		if r.MailState != "sent" || !slices.Equal(kinds, want[r.Email].kinds) {
			t.Errorf("organiser sees %s: %s %v", r.Email, r.MailState, kinds)
		}
	}
}

// A change that is refused writes no mail: the outbox shares its fate.
func TestRefusedChangeWritesNoMail(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "small", func(in *event.Input) {
		in.Capacity = event.Some(1)
		no := false
		in.Waitlist = &no
	})
	signUp(t, a, "small", "Anna", "de", 1)
	code := a.JSON(t, "POST", "/api/v1/events/small/registrations", "", map[string]any{
		"name": "Ben", "email": addr("Ben"), "party_size": 1, "consent": true,
	}, nil)
	if code != 409 {
		t.Fatalf("second sign-up: %d, want 409", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox`); n != 1 {
		t.Fatalf("outbox has %d messages, want Anna's 1", n)
	}
	// Lowering capacity below the confirmed seats is refused: no mail.
	if _, err := a.Events.Update(context.Background(), o.ID, "small", event.Input{Capacity: event.Some(0), StartsAt: ptr(time.Now().Add(48 * time.Hour))}); err == nil {
		t.Fatal("capacity below confirmed seats accepted")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox`); n != 1 {
		t.Fatalf("outbox has %d messages after a refused change", n)
	}
}

func ptr[T any](v T) *T { return &v }

func calendarOf(t *testing.T, m *mailtest.Message) *ics.Calendar {
	t.Helper()
	p := m.Part("text/calendar")
	if p == nil {
		t.Fatalf("%q has no text/calendar part", m.Subject)
	}
	if p.Params["method"] != "PUBLISH" || p.Params["charset"] != "utf-8" {
		t.Errorf("calendar part parameters %v, want method=PUBLISH charset=utf-8", p.Params)
	}
	if !bytes.Contains(p.Body, []byte("\r\nMETHOD:PUBLISH\r\n")) || bytes.Contains(bytes.ReplaceAll(p.Body, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("calendar lines must end in CRLF and say METHOD:PUBLISH:\n%s", p.Body)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(p.Body))
	if err != nil {
		t.Fatalf("calendar does not parse: %v\n%s", err, p.Body)
	}
	if len(cal.Events()) != 1 || cal.Events()[0].GetProperty(ics.ComponentPropertyDtstamp) == nil {
		t.Fatalf("calendar needs one VEVENT with DTSTAMP:\n%s", p.Body)
	}
	return cal
}

func decodeQR(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("QR PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
