package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

type messageAnswer struct {
	ID         int64 `json:"id"`
	Recipients int   `json:"recipients"`
	Error      struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

func msgBody(subject, body map[string]string, status ...string) map[string]any {
	return map[string]any{"subject": subject, "body": body, "to": map[string]any{"status": status}}
}

// Issue 19: who may send, what is refused and why, who is reached (not
// the cancelled, not the erased), the list, the audit log.
func TestMessagesThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	e := a.event(o.ID, "treffen", func(in *event.Input) { in.Capacity, in.Waitlist = event.Some(3), ptr(true) })
	organiser, door := a.token(o.ID, auth.Organiser), a.token(o.ID, auth.Door)
	a.Signed(t, "treffen", "Ann", 1)
	bob := a.Signed(t, "treffen", "Bob", 1)
	cem := a.Signed(t, "treffen", "Cem", 1)
	for _, n := range []string{"Dan", "Eda"} {
		if code := a.JSON(t, http.MethodPost, "/api/v1/events/treffen/registrations", "", map[string]any{
			"name": n, "email": strings.ToLower(n) + "@example.org", "party_size": 1, "lang": "en", "consent": true,
		}, nil); code != http.StatusCreated {
			t.Fatalf("sign-up of %s: %d", n, code)
		}
	}
	ctx := context.Background()
	if _, err := a.Registrations.CancelByOrganiser(ctx, e.ID, cem.ID); err != nil { // Dan moves up
		t.Fatal(err)
	}
	if err := a.Registrations.EraseOne(ctx, e.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/orgs/miso/events/treffen/messages"
	de := map[string]string{"de": "Neuer Raum"}
	deBody := map[string]string{"de": "Wir sind im Saal 2."}

	var ans messageAnswer
	if code := a.JSON(t, http.MethodPost, path, door, msgBody(de, deBody, "confirmed"), &ans); code != http.StatusForbidden {
		t.Errorf("door staff: %d, want 403", code)
	}
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no German", msgBody(map[string]string{"en": "Room"}, map[string]string{"en": "Hall 2."}, "confirmed"), "subject.de"},
		{"subject of two lines", msgBody(map[string]string{"de": "Neuer\nRaum"}, deBody, "confirmed"), "subject.de"},
		{"subject too long", msgBody(map[string]string{"de": strings.Repeat("x", 201)}, deBody, "confirmed"), "subject.de"},
		{"body too long", msgBody(de, map[string]string{"de": strings.Repeat("x", 10001)}, "confirmed"), "body.de"},
		{"subject without body", msgBody(map[string]string{"de": "Raum", "en": "Room"}, deBody, "confirmed"), "body.en"},
		{"unknown language", msgBody(map[string]string{"de": "Raum", "xx": "Room"}, map[string]string{"de": "Saal", "xx": "Hall"}, "confirmed"), "subject.xx"},
		{"no status", msgBody(de, deBody), "to.status"},
		{"cancelled is no status to write to", msgBody(de, deBody, "cancelled"), "to.status"},
		{"unknown session", map[string]any{"subject": de, "body": deBody, "to": map[string]any{"status": []string{"confirmed"}, "sessions": []string{"forum-a"}}}, "to.sessions"},
	} {
		ans = messageAnswer{}
		code := a.JSON(t, http.MethodPost, path, organiser, c.body, &ans)
		if code != http.StatusUnprocessableEntity || ans.Error.Fields[c.field] == "" {
			t.Errorf("%s: %d %+v, want 422 naming %s", c.name, code, ans.Error, c.field)
		}
	}
	// Pending and applied are accepted, and reach nobody here.
	ans = messageAnswer{}
	if code := a.JSON(t, http.MethodPost, path, organiser, msgBody(de, deBody, "pending", "applied"), &ans); code != http.StatusUnprocessableEntity || ans.Error.Code != "invalid" || len(ans.Error.Fields) != 0 {
		t.Errorf("no recipients: %d %+v, want 422 without fields", code, ans.Error)
	}
	if n := a.count(`SELECT count(*) FROM messages`); n != 0 {
		t.Fatalf("refused messages left %d rows", n)
	}

	// Confirmed and waitlisted: Ann and Dan (who moved up) and Eda; not
	// Cem (cancelled), not Bob (erased).
	ans = messageAnswer{}
	if code := a.JSON(t, http.MethodPost, path, organiser, msgBody(de, deBody, "confirmed", "waitlisted"), &ans); code != http.StatusAccepted || ans.Recipients != 3 {
		t.Fatalf("send: %d %+v, want 202 with 3 recipients", code, ans)
	}
	var to []string
	if err := a.DB.Select(&to, `SELECT recipient FROM mail_outbox WHERE message_ref = $1 ORDER BY recipient`, ans.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(to, []string{"ann@example.org", "dan@example.org", "eda@example.org"}) {
		t.Errorf("mailed %v", to)
	}

	var list struct {
		Messages []struct {
			ID         int64             `json:"id"`
			Subject    map[string]string `json:"subject"`
			Sender     string            `json:"sender"`
			SentAt     string            `json:"sent_at"`
			Recipients int               `json:"recipients"`
			Delivered  int               `json:"delivered"`
			Failed     int               `json:"failed"`
		} `json:"messages"`
	}
	if code := a.JSON(t, http.MethodGet, path, organiser, nil, &list); code != http.StatusOK || len(list.Messages) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	m := list.Messages[0]
	if m.ID != ans.ID || m.Subject["de"] != "Neuer Raum" || !strings.HasPrefix(m.Sender, "API token #") || m.SentAt == "" || m.Recipients != 3 || m.Delivered != 0 {
		t.Errorf("listed %+v", m)
	}
	if code := a.JSON(t, http.MethodGet, path, door, nil, nil); code != http.StatusForbidden {
		t.Errorf("door staff list: %d, want 403", code)
	}
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'message.send' AND target = 'treffen'`); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
	// The entry names the message by its id, as others name their
	// registration (registration_id) or token (token_id).
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'message.send' AND (details->>'message_id')::bigint = $1
		AND (details->>'recipients')::int = 3`, ans.ID); n != 1 {
		t.Errorf("no audit entry with message_id %d and 3 recipients", ans.ID)
	}
	// Another organisation's token does not find the event.
	other := a.org("faust")
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/faust/events/treffen/messages", a.token(other.ID, auth.Organiser), msgBody(de, deBody, "confirmed"), nil); code != http.StatusNotFound {
		t.Errorf("another organisation's event: %d, want 404", code)
	}
}

// The same idempotency key, sent twice at once, makes one message: both
// answers name it, and each registrant has one email.
func TestMessageIdempotencyKeySendsOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "treffen", nil)
	tok := a.token(o.ID, auth.Organiser)
	for _, n := range []string{"Ann", "Bob", "Cem"} {
		a.Signed(t, "treffen", n, 1)
	}
	body := msgBody(map[string]string{"de": "Bitte Ausweis mitbringen"}, map[string]string{"de": "Danke!"}, "confirmed")
	body["idempotency_key"] = "ausweis-1"
	answers := make([]messageAnswer, 4)
	codes := make([]int, 4)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = a.JSON(t, http.MethodPost, "/api/v1/orgs/miso/events/treffen/messages", tok, body, &answers[i])
		}()
	}
	wg.Wait()
	for i := range answers {
		if codes[i] != http.StatusAccepted || answers[i].ID != answers[0].ID || answers[i].Recipients != 3 {
			t.Errorf("answer %d: %d %+v, want 202 like %+v", i, codes[i], answers[i], answers[0])
		}
	}
	if n := a.count(`SELECT count(*) FROM messages`); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'message'`); n != 3 {
		t.Errorf("%d emails, want 3", n)
	}
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'message.send'`); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
	// Another key is another message.
	body["idempotency_key"] = "ausweis-2"
	var second messageAnswer
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/miso/events/treffen/messages", tok, body, &second); code != http.StatusAccepted || second.ID == answers[0].ID {
		t.Errorf("another key: %d %+v", code, second)
	}
}

// Issue 19: owners set the organisation's notifications with PATCH
// /orgs/{org}; organisers may not; bad values are 422 naming the field.
func TestOrgNotificationSettingsThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	owner, organiser := a.token(o.ID, auth.Owner), a.token(o.ID, auth.Organiser)
	type settings struct {
		Notify      string `json:"notify"`
		NotifyEmail string `json:"notify_email"`
		Lang        string `json:"lang"`
		Timezone    string `json:"timezone"`
	}
	var got settings
	if code := a.JSON(t, http.MethodGet, "/api/v1/orgs/miso", owner, nil, &got); code != http.StatusOK ||
		got != (settings{Notify: "off", NotifyEmail: "info@miso.example", Lang: "de", Timezone: "Europe/Berlin"}) {
		t.Errorf("defaults: %d %+v", code, got)
	}
	if code := a.JSON(t, http.MethodPatch, "/api/v1/orgs/miso", organiser, map[string]any{"notify": "each"}, nil); code != http.StatusForbidden {
		t.Errorf("organiser: %d, want 403", code)
	}
	for field, body := range map[string]map[string]any{
		"notify":       {"notify": "hourly"},
		"notify_email": {"notify_email": "not an address"},
		"lang":         {"lang": "xx"},
		"timezone":     {"timezone": "Mars/Olympus"},
	} {
		var ans messageAnswer
		if code := a.JSON(t, http.MethodPatch, "/api/v1/orgs/miso", owner, body, &ans); code != http.StatusUnprocessableEntity || ans.Error.Fields[field] == "" {
			t.Errorf("%v: %d %+v, want 422 naming %s", body, code, ans.Error, field)
		}
	}
	if code := a.JSON(t, http.MethodPatch, "/api/v1/orgs/miso", owner, map[string]any{
		"notify": "daily", "notify_email": "vorstand@miso.example", "lang": "tr", "timezone": "Europe/Istanbul",
	}, &got); code != http.StatusOK || got != (settings{Notify: "daily", NotifyEmail: "vorstand@miso.example", Lang: "tr", Timezone: "Europe/Istanbul"}) {
		t.Errorf("patch: %d %+v", code, got)
	}
	if code := a.JSON(t, http.MethodPatch, "/api/v1/orgs/miso", owner, map[string]any{"notify": "each"}, &got); code != http.StatusOK || got.Notify != "each" || got.Lang != "tr" {
		t.Errorf("a field alone: %d %+v", code, got)
	}
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'notify.settings'`); n != 2 {
		t.Errorf("%d audit entries, want 2", n)
	}
}
