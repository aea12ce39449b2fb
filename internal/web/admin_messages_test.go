package web_test

import (
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testutil"
)

var messageKeyRE = regexp.MustCompile(`name="key" value="([^"]+)"`)

// Issue 19: the compose page — the languages side by side, the number of
// recipients before sending, a confirmation step, then the delivery
// counts; a form sent twice sends once; the message is audit-logged.
func TestComposeConfirmSendAndWatchAMessage(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	base := "/admin/orgs/a/events/" + w.A.Event.Slug + "/messages"

	code, page := c.Get(base)
	if code != http.StatusOK {
		t.Fatalf("compose page: %d", code)
	}
	for _, want := range []string{`id="f-subject-de"`, `id="f-body-en"`, `id="f-body-ar"`, `dir="rtl"`, `id="f-status-waitlisted"`, `id="messages"`} {
		if !strings.Contains(page, want) {
			t.Errorf("compose page lacks %s", want)
		}
	}
	m := messageKeyRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no idempotency key in the form")
	}
	form := url.Values{
		"key": {m[1]}, "status": {"confirmed", "waitlisted"},
		"subject_de": {"Raumänderung"}, "body_de": {"Wir sind im Saal 2.\r\n\r\nBis bald!"},
		"subject_en": {"Room change"}, "body_en": {"We are in hall 2."},
	}

	// Without the event's language: the form again, the field marked.
	bad := url.Values{"key": {m[1]}, "status": {"confirmed"}, "subject_en": {"Room change"}, "body_en": {"Hall 2."}}
	resp, body := c.post(base+"/preview", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-subject-de"`) || !strings.Contains(body, `value="Room change"`) {
		t.Errorf("no German: %d, want 422 with subject.de marked and the text kept", resp.StatusCode)
	}

	// The confirmation: two recipients (the confirmed party and the
	// waitlisted person), the text as it will go out, nothing sent yet.
	resp, body = c.post(base+"/preview", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<strong id="recipient-count">2</strong>`) || !strings.Contains(body, "Raumänderung") || !strings.Contains(body, `id="send"`) {
		t.Fatalf("confirmation: %d\n%.2000s", resp.StatusCode, body)
	}
	if n := w.Count(t, `SELECT count(*) FROM messages WHERE idempotency_key = $1`, m[1]); n != 0 {
		t.Fatalf("the confirmation step sent the message")
	}
	// "Change" goes back to the form with the texts.
	edit := url.Values{"edit": {"1"}}
	for k, v := range form {
		edit[k] = v
	}
	if resp, body = c.post(base+"/preview", edit); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="f-subject-de"`) || !strings.Contains(body, `value="Raumänderung"`) {
		t.Errorf("change: %d, want the form with the texts", resp.StatusCode)
	}

	testapp.RunSender(t, w.Sender(t, nil)) // dev mode: marks them sent
	resp, _ = c.post(base, form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/") {
		t.Fatalf("send: %d %q", resp.StatusCode, loc)
	}
	testutil.Eventually(t, 10*time.Second, func() bool {
		_, page := c.Get(loc)
		return strings.Contains(page, `<strong id="m-delivered">2</strong>`) && strings.Contains(page, `<strong id="m-queued">0</strong>`)
	}, "the delivery page to show 2 delivered")
	_, page = c.Get(loc)
	if !strings.Contains(page, `<strong id="m-recipients">2</strong>`) || !strings.Contains(page, w.A.Organiser) || strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("delivery page:\n%.3000s", page)
	}

	// The same form again (a double click, the back button): the first
	// message, nothing new.
	resp, _ = c.post(base, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != loc {
		t.Errorf("again: %d %q, want %q", resp.StatusCode, resp.Header.Get("Location"), loc)
	}
	if n := w.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'message' AND event_id = $1`, w.A.Event.ID); n != 1+2 {
		t.Errorf("%d message emails, want the fixture's 1 and 2", n)
	}
	if n := w.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'message.send' AND actor = $1`, w.A.Organiser); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
	if n := w.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'message.send' AND details->>'message_id' = $1`, path.Base(loc)); n != 1 {
		t.Errorf("the audit entry does not name message %s", path.Base(loc))
	}
	if _, page = c.Get(base); !strings.Contains(page, "Raumänderung") {
		t.Error("the list lacks the message")
	}
}

// Issue 19: the owners' settings page turns notifications on, with the
// field marked when a value is wrong.
func TestOwnerSetsNotificationsOnTheSettingsPage(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Owner)
	path := "/admin/orgs/a/settings"
	code, page := c.Get(path)
	if code != http.StatusOK || !strings.Contains(page, `id="f-notify-off" type="radio" name="notify" value="off" checked`) || !strings.Contains(page, `value="info@a.example"`) {
		t.Fatalf("settings page: %d\n%.2000s", code, page)
	}
	resp, body := c.post(path, url.Values{"notify": {"daily"}, "notify_email": {"info@a.example"}, "lang": {"en"}, "timezone": {"Nowhere/City"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-timezone"`) {
		t.Errorf("bad zone: %d", resp.StatusCode)
	}
	resp, _ = c.post(path, url.Values{"notify": {"daily"}, "notify_email": {"info@a.example"}, "lang": {"en"}, "timezone": {"Europe/Berlin"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	st, err := w.Orgs.Settings(t.Context(), w.A.Org.ID)
	if err != nil || st.Notify != "daily" || st.NotifyEmail != "" || st.To() != "info@a.example" || st.Lang != "en" {
		t.Errorf("saved %+v %v", st, err)
	}
	if code, _ := w.client(w.A.Organiser).Get(path); code != http.StatusForbidden {
		t.Errorf("organiser: %d, want 403", code)
	}
}
