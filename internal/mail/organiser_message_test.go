package mail_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// messageTexts are a message in four of the seven languages; the event's
// default language (de) among them.
var messageTexts = map[string][2]string{
	"de": {"Raumänderung für Samstag", "Wir treffen uns im großen Saal.\n\nBitte bringt euren Ausweis mit."},
	"en": {"Room change for Saturday", "We meet in the large hall.\n\nPlease bring your ID."},
	"tr": {"Cumartesi için salon değişikliği", "Büyük salonda buluşuyoruz.\n\nLütfen kimliğinizi getirin."},
	"ar": {"تغيير القاعة يوم السبت", "نلتقي في القاعة الكبيرة.\n\nيرجى إحضار بطاقة الهوية."},
}

func messageBody(to ...string) map[string]any {
	subj, body := map[string]string{}, map[string]string{}
	for l, t := range messageTexts {
		subj[l], body[l] = t[0], t[1]
	}
	return map[string]any{"subject": subj, "body": body, "to": map[string]any{"status": to}}
}

// signUpMany signs up n people (p000@example.org …) for slug, their
// languages taken in turn from langs, and returns each address's language.
func signUpMany(t *testing.T, a *testapp.App, slug string, n int, langs []string) map[string]string {
	t.Helper()
	want := make(map[string]string, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		lang := langs[i%len(langs)]
		email := fmt.Sprintf("p%03d@example.org", i)
		want[email] = lang
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
				Name: fmt.Sprintf("P%03d", i), Email: email, PartySize: 1, Lang: lang, Consent: true,
			})
			if err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("sign up %s: %v", email, err)
			}
		}()
	}
	wg.Wait()
	return want
}

// Issue 19: a message to 500 registrants in four languages arrives once
// at each, in their language (a fifth language gets the default), with the
// event and the person's own manage link under the text and the
// organisation as Reply-To — although the SMTP server is down when it is
// sent and refuses connections for a while in the middle.
func TestMessageTo500RegistrantsArrivesOnceEachInTheirLanguage(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "konferenz", nil)
	tok := a.Token(t, o, auth.Organiser)
	want := signUpMany(t, a, "konferenz", 500, []string{"de", "en", "tr", "ar", "ru"})
	// The confirmations are not what this test is about: out of the way.
	a.DB.MustExec(`UPDATE mail_outbox SET status = 'sent' WHERE kind <> 'message'`)

	srv := mailtest.Reserve(t) // down
	testapp.RunSender(t, a.Sender(t, srv))

	var ans struct {
		ID         int64 `json:"id"`
		Recipients int   `json:"recipients"`
	}
	body := messageBody("confirmed")
	body["idempotency_key"] = "room-change"
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/miso/events/konferenz/messages", tok, body, &ans); code != http.StatusAccepted {
		t.Fatalf("send: %d", code)
	}
	if ans.Recipients != 500 || ans.ID == 0 {
		t.Fatalf("answer %+v, want 500 recipients", ans)
	}
	// After the 150th message the server refuses new connections (421)
	// for a while; the connection in use finishes its batch.
	back := make(chan int, 1)
	srv.AfterAccept(func(n int, _ *smtp.Conn) {
		if n != 150 {
			return
		}
		srv.Answer421(true)
		go func() {
			time.Sleep(400 * time.Millisecond)
			back <- len(srv.Received())
			srv.Answer421(false)
		}()
	})
	time.Sleep(200 * time.Millisecond)
	srv.Up(t)
	srv.Wait(t, 500, 60*time.Second)
	if n := <-back; n >= 500 {
		t.Errorf("the server was refusing only after all %d had arrived", n)
	}
	time.Sleep(300 * time.Millisecond) // anything twice would show now

	got := parsed(t, srv.Received())
	if len(got) != 500 {
		t.Errorf("%d messages arrived, want 500", len(got))
	}
	seen := map[string]int{}
	manage := map[string]bool{}
	for _, m := range got {
		to := m.To.Address
		seen[to]++
		lang := want[to]
		if lang == "ru" {
			lang = "de" // the message has no Russian: the event's default
		}
		tx := messageTexts[lang]
		if m.Subject != tx[0] {
			t.Errorf("%s (%s) got subject %q, want %q", to, want[to], m.Subject, tx[0])
			continue
		}
		text := strings.ReplaceAll(m.Text, "\r\n", "\n")
		if !strings.Contains(text, tx[1]) || !strings.Contains(text, "Werkstatt konferenz") && !strings.Contains(text, "Workshop konferenz") {
			t.Errorf("%s: text lacks the body or the event:\n%s", to, m.Text)
		}
		if cl := m.Header.Get("Content-Language"); cl != lang {
			t.Errorf("%s: Content-Language %q, want %q", to, cl, lang)
		}
		if rt := m.Header.Get("Reply-To"); !strings.Contains(rt, "info@miso.example") {
			t.Errorf("%s: Reply-To %q", to, rt)
		}
		var link string
		for _, l := range links(a, m.Text) {
			if strings.Contains(l, "/r/") {
				link = l
			}
		}
		if link == "" || manage[link] {
			t.Errorf("%s: manage link %q missing or someone else's", to, link)
		}
		manage[link] = true
	}
	for to := range want {
		if seen[to] != 1 {
			t.Errorf("%s got %d messages, want 1", to, seen[to])
		}
	}
	// A manage link works.
	for l := range manage {
		if code, _ := get(t, a, l); code != http.StatusOK {
			t.Errorf("manage link: %d", code)
		}
		break
	}

	var list struct {
		Messages []struct {
			ID                            int64
			Recipients, Delivered, Failed int
		} `json:"messages"`
	}
	waitFor(t, 5*time.Second, "the message to show 500 delivered", func() bool {
		a.JSON(t, http.MethodGet, "/api/v1/orgs/miso/events/konferenz/messages", tok, nil, &list)
		return len(list.Messages) == 1 && list.Messages[0].Delivered == 500
	})
	if m := list.Messages[0]; m.ID != ans.ID || m.Recipients != 500 || m.Failed != 0 {
		t.Errorf("listed %+v", m)
	}

	// The same key again: the first message's answer, nothing new sent.
	var again struct {
		ID         int64 `json:"id"`
		Recipients int   `json:"recipients"`
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/miso/events/konferenz/messages", tok, body, &again); code != http.StatusAccepted || again != ans {
		t.Errorf("repeat: %d %+v, want 202 %+v", code, again, ans)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(srv.Received()); n != 500 {
		t.Errorf("after the repeat %d messages arrived, want 500", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'message'`); n != 500 {
		t.Errorf("%d message rows in the outbox, want 500", n)
	}
}
