package mail_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/testapp"
)

// specialNames are names people type that mean something in an address
// header: quotes, separators, angle brackets, a backslash, a would-be
// encoded word, and scripts outside ASCII.
var specialNames = []string{
	`Ali "Bob Yilmaz`,
	`Ali "Bob" Yilmaz`,
	`Yılmaz, Ayşe`,
	`Müller; Hans`,
	`<Şahin> & Partner`,
	`back\slash \"x\"`,
	`(Kommentar) Jin`,
	`=?utf-8?q?Fake?=`,
	`Zeynep 😀🎉 ✨`,
	`محمد "علي" الأحمد، <أبو فادي>`,
	`Иван «Ваня» Петров, мл.; \ "ок"`,
	`Ali "Bob"` + strings.Repeat(" Yılmaz-Özdemir", 12),
}

// Rule 5 for every name: the To header is built as an address, not pasted
// together, so a name with " , ; < > \ or in any script reaches its owner
// intact, and the message is marked sent.
func TestRecipientNamesWithSpecialCharactersAreDelivered(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(100) })
	want := map[string]string{}
	for i, name := range specialNames {
		email := fmt.Sprintf("r%02d@example.org", i)
		want[email] = name
		code := a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", map[string]any{
			"name": name, "email": email, "party_size": 1, "lang": "de", "consent": true,
		}, nil)
		if code != http.StatusCreated {
			t.Fatalf("sign-up of %q: %d", name, code)
		}
	}
	waitFor(t, 10*time.Second, "every message sent or failed", func() bool {
		return a.Count(t, `SELECT count(*) FROM mail_outbox WHERE status IN ('sent', 'failed')`) == len(specialNames)
	})
	var failed []string
	if err := a.DB.Select(&failed, `SELECT recipient FROM mail_outbox WHERE status <> 'sent' ORDER BY recipient`); err != nil {
		t.Fatal(err)
	}
	for _, to := range failed {
		t.Errorf("the mail to %q was not sent", want[to])
	}
	for _, r := range srv.Received() {
		if i := bytes.IndexFunc(r.Data, func(c rune) bool { return c >= 0x80 }); i >= 0 {
			t.Errorf("8-bit byte in the message to %v at %d", r.To, i)
		}
		m, err := mailtest.Parse(r.Data)
		if err != nil {
			t.Errorf("message to %v does not parse: %v", r.To, err)
			continue
		}
		name, ok := want[m.To.Address]
		if !ok || len(r.To) != 1 || r.To[0] != m.To.Address {
			t.Errorf("envelope %v, header To %q", r.To, m.Header.Get("To"))
			continue
		}
		if m.To.Name != name {
			t.Errorf("To %q decodes to name %q, want %q", m.Header.Get("To"), m.To.Name, name)
		}
		if !strings.Contains(m.Text, name) {
			t.Errorf("the text of the mail to %q does not greet them by name", name)
		}
		delete(want, m.To.Address)
	}
	for to, name := range want {
		t.Errorf("%s (%q) received nothing", to, name)
	}
}

// Reply-To and From are built as addresses too: an organisation address
// whose local part needs quoting stays one working address.
func TestReplyToWithQuotedLocalPartIsDelivered(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	o := a.Org(t, "miso")
	a.DB.MustExec(`UPDATE organisations SET email = '"info desk"@miso.example' WHERE id = $1`, o.ID)
	a.Event(t, o, "fest", nil)
	signUp(t, a, "fest", "Anna", "de", 1)
	m := parsed(t, srv.Wait(t, 1, 10*time.Second))[0]
	rt, err := mail.ParseAddress(m.Header.Get("Reply-To"))
	if err != nil || rt.Address != "info desk@miso.example" {
		t.Fatalf("Reply-To %q: %v %+v", m.Header.Get("Reply-To"), err, rt)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Name != "Treffpunkt" || from.Address != "noreply@example.org" {
		t.Fatalf("From %q: %v", m.Header.Get("From"), err)
	}
}

// lockedBuffer is a log sink that the sender's goroutine and the test may
// use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every way a send can fail is logged with the message's id, kind and the
// recipient's domain, never with the address or the name: a refusal and a
// deferral whose server text echoes the address, a connection lost after
// the data (the library lists the "affected recipients"), an address that
// does not parse. The reasons kept for the organisers name no one either.
func TestSendFailureLogsNoAddress(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(100) })
	people := map[string]string{ // local part → name
		"refused.zofia":   `Zofia "Zosia" Quarkbrot`,
		"deferred.yusuf":  "Yusuf Kartoffelsalat",
		"dropped.olena":   "Олена Шевченко",
		"unparsed.hamid":  "حامد الزعفراني",
		"unquoted.brigid": `Brigid "Biddy O'Brannagh`,
	}
	for local, name := range people {
		code := a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", map[string]any{
			"name": name, "email": local + "@example.org", "party_size": 1, "lang": "de", "consent": true,
		}, nil)
		if code != http.StatusCreated {
			t.Fatalf("sign-up of %s: %d", local, code)
		}
	}
	// As rows written before addresses were checked, or a member list's
	// address: one that no parser takes.
	a.DB.MustExec(`UPDATE mail_outbox SET recipient = 'unparsed.hamid@exa mple.org' WHERE recipient = 'unparsed.hamid@example.org'`)
	srv := mailtest.Start(t)
	srv.RefuseRcpt(func(to string) error {
		switch {
		case strings.HasPrefix(to, "refused."):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected: User unknown"}
		case strings.HasPrefix(to, "deferred."):
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "<" + to + ">: Recipient address rejected: Greylisted"}
		}
		return nil
	})
	dropped := false
	srv.AfterAccept(func(_ int, c *smtp.Conn) {
		// The first message the server takes: the sender never hears the
		// OK. Which one that is depends on the order of the batch, so the
		// dropped one is found below.
		if !dropped {
			dropped = true
			c.Close()
		}
	})
	var log lockedBuffer
	s := a.Sender(t, srv)
	s.Log = slog.New(slog.NewJSONHandler(&log, nil))
	s.MaxAttempts = 2
	stop := testapp.RunSender(t, s)
	waitFor(t, 10*time.Second, "every mail sent or failed", func() bool {
		return a.Count(t, `SELECT count(*) FROM mail_outbox WHERE status IN ('sent', 'failed')`) == len(people)
	})
	stop()

	out := log.String()
	for _, event := range []string{"mail refused", "mail given up", "mail server unavailable", "mail cannot be built"} {
		if !strings.Contains(out, event) {
			t.Errorf("no %q in the log: the test did not cause it\n%s", event, out)
		}
	}
	if !strings.Contains(out, `"to_domain":"example.org"`) {
		t.Errorf("the log does not say where the mail went:\n%s", out)
	}
	var reasons []string
	if err := a.DB.Select(&reasons, `SELECT last_error FROM mail_outbox WHERE last_error <> ''`); err != nil {
		t.Fatal(err)
	}
	if len(reasons) < 2 {
		t.Errorf("%d reasons kept for the organisers, want one per failed mail at least: %q", len(reasons), reasons)
	}
	leaked := false
	for local, name := range people {
		for _, secret := range append(strings.Fields(strings.ReplaceAll(name, `"`, " ")), local, strings.ReplaceAll(local, ".", " ")) {
			if strings.Contains(strings.ToLower(out), strings.ToLower(secret)) {
				t.Errorf("the log names %q (%s)", secret, local)
				leaked = true
			}
			for _, r := range reasons {
				if strings.Contains(strings.ToLower(r), strings.ToLower(secret)) {
					t.Errorf("the reason kept for the organisers names %q: %q", secret, r)
				}
			}
		}
	}
	if leaked {
		t.Logf("the log:\n%s", out)
	}
}
