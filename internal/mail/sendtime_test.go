package mail_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/testapp"
	webfs "treffpunkt/web"
)

// A change writes one small row per email and renders nothing; the sender
// renders each when it sends it: the event as it is then, the registration's
// status and waitlist position and the event's old time as they were when
// the change happened (the row's payload), with the Message-ID fixed at
// enqueue.
func TestMailIsRenderedWhenSentFromWhatTheChangeRecorded(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(1) })
	anna := signUp(t, a, "fest", "Anna", "de", 1)
	ben := signUp(t, a, "fest", "Ben", "de", 1)
	if anna.Status != "confirmed" || ben.Status != "waitlisted" {
		t.Fatalf("statuses %s, %s", anna.Status, ben.Status)
	}

	type row struct {
		Kind      string `db:"kind"`
		Recipient string `db:"recipient"`
		MessageID string `db:"message_id"`
		Rendered  int    `db:"rendered"`
		Payload   []byte `db:"payload"`
	}
	var rows []row
	if err := a.DB.Select(&rows, `SELECT kind, recipient, message_id, payload,
    length(subject) + length(body_text) + length(body_html) + length(calendar) + cardinality(qr) AS rendered
FROM mail_outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows after two sign-ups", len(rows))
	}
	for _, r := range rows {
		if r.Rendered != 0 {
			t.Errorf("%s to %s was rendered at enqueue (%d bytes)", r.Kind, r.Recipient, r.Rendered)
		}
	}
	var p struct {
		Status   string `json:"status"`
		Position int    `json:"position"`
	}
	if err := json.Unmarshal(rows[1].Payload, &p); err != nil || p.Status != "waitlisted" || p.Position != 1 {
		t.Fatalf("Ben's payload %s: %v", rows[1].Payload, err)
	}

	// After the sign-ups, and before anything is sent: the event is renamed,
	// then moved; Anna cancels and Ben moves up.
	newTitle := event.Texts{"de": "Sommerwerkstatt", "en": "Summer workshop"}
	if _, err := a.Events.Update(context.Background(), o.ID, "fest", event.Input{Title: newTitle}); err != nil {
		t.Fatal(err)
	}
	moved, movedEnd := e.StartsAt.Add(24*time.Hour), e.EndsAt.Add(24*time.Hour)
	if _, err := a.Events.Update(context.Background(), o.ID, "fest", event.Input{StartsAt: &moved, EndsAt: &movedEnd}); err != nil {
		t.Fatal(err)
	}
	cancel(t, a, anna.ManageURL)

	srv := mailtest.Start(t)
	testapp.RunSender(t, a.Sender(t, srv))
	got := parsed(t, srv.Wait(t, 6, 10*time.Second))
	byKind := map[string]*mailtest.Message{}
	for _, m := range got {
		byKind[m.To.Address+" "+kindOf(t, m)] = m
	}
	cat, err := i18n.Load(webfs.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	de := cat.For("de")
	oldWhen := de.Span(e.StartsAt, e.EndsAt, false, e.Location())
	newWhen := de.Span(moved, movedEnd, false, e.Location())

	conf := byKind[addr("Anna")+" confirmed"]
	if conf == nil || !strings.Contains(conf.Subject, "Sommerwerkstatt") || strings.Contains(conf.Text, "Werkstatt fest") {
		t.Fatalf("Anna's confirmation does not show the event as it is when sent:\n%v", conf)
	}
	if !strings.Contains(conf.Text, newWhen) {
		t.Errorf("Anna's confirmation lacks the event's time when sent (%s):\n%s", newWhen, conf.Text)
	}
	for _, who := range []string{"Anna", "Ben"} {
		m := byKind[addr(who)+" event_changed"]
		if m == nil {
			t.Fatalf("%s got no event_changed mail", who)
		}
		before := m.Text[strings.Index(m.Text, "Vorher"):]
		if !strings.Contains(before, oldWhen) || !strings.Contains(m.Text, newWhen) {
			t.Errorf("%s's change mail lacks the time before (%s) or after (%s):\n%s", who, oldWhen, newWhen, m.Text)
		}
	}
	// Ben was waitlisted when the waitlist mail and the change were
	// written; he has moved up since. Those mails say what was true then
	// (and the change brings him no calendar entry); the promotion has his
	// ticket.
	if w := byKind[addr("Ben")+" waitlisted"]; w == nil || !strings.Contains(w.Text, "Platz 1 der Warteliste") {
		t.Errorf("Ben's waitlist mail lacks position 1:\n%v", w)
	}
	if c := byKind[addr("Ben")+" event_changed"]; !strings.Contains(c.Text, "Platz 1 der Warteliste") || c.Part("text/calendar") != nil {
		t.Errorf("Ben's change mail is not the one to a waitlisted person:\n%s", c.Text)
	}
	if p := byKind[addr("Ben")+" promoted"]; p == nil || p.Part("image/png") == nil || p.Part("text/calendar") == nil {
		t.Errorf("Ben's promotion lacks its ticket or calendar entry")
	}
	if c := byKind[addr("Anna")+" event_changed"]; c.Part("text/calendar") == nil {
		t.Errorf("Anna, confirmed when the event moved, got no calendar entry")
	}
	// Each message carries the Message-ID fixed at enqueue.
	var ids []string
	if err := a.DB.Select(&ids, `SELECT '<' || message_id || '>' FROM mail_outbox`); err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if id := m.Header.Get("Message-ID"); !strings.Contains(strings.Join(ids, " "), id) {
			t.Errorf("Message-ID %s is not one stored at enqueue", id)
		}
	}
}

// Enqueue writes one INSERT for all the emails of a notice, whatever their
// number: an event's move tells 40 people with one statement.
func TestANoticeIsOneInsert(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", nil)
	for i := range 40 {
		signUp(t, a, "fest", "P"+string(rune('A'+i/26))+string(rune('a'+i%26)), "de", 1)
	}
	var xmin []string
	moved, movedEnd := e.StartsAt.Add(time.Hour), e.EndsAt.Add(time.Hour)
	if _, err := a.Events.Update(context.Background(), o.ID, "fest", event.Input{StartsAt: &moved, EndsAt: &movedEnd}); err != nil {
		t.Fatal(err)
	}
	// Rows of one statement share their insert's command id (cmin).
	if err := a.DB.Select(&xmin, `SELECT DISTINCT xmin::text || '/' || cmin::text FROM mail_outbox WHERE kind = 'event_changed'`); err != nil {
		t.Fatal(err)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'event_changed'`); n != 40 || len(xmin) != 1 {
		t.Fatalf("%d change mails written by %d statements, want 40 by 1", n, len(xmin))
	}
}
