package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
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

	resp, _ = c.post(base, form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/") {
		t.Fatalf("send: %d %q", resp.StatusCode, loc)
	}
	// While its emails wait, the delivery page polls the counts
	// (messages.js) and, without script, reloads itself; so does the
	// list under the compose form, which never reloads (the form).
	_, page = c.Get(loc)
	id := path.Base(loc)
	for _, want := range []string{`<script src="/static/messages.js" defer></script>`, `<noscript><meta http-equiv="refresh" content="5"></noscript>`,
		`data-poll="` + base + `.json" data-message="` + id + `"`, `<strong id="m-queued" data-count="queued">2</strong>`} {
		if !strings.Contains(page, want) {
			t.Errorf("delivery page while emails wait lacks %s", want)
		}
	}
	if _, page = c.Get(base); !strings.Contains(page, `<tr data-message="`+id+`">`) || !strings.Contains(page, `<td data-count="queued">2</td>`) ||
		strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `data-poll="`+base+`.json"`) {
		t.Errorf("the list under the form does not offer its counts to the script, or reloads:\n%.3000s", page)
	}
	var counts struct {
		Messages []struct {
			ID                                    int64
			Recipients, Delivered, Failed, Queued int
		}
	}
	code, body = c.Get(base + ".json")
	// Newest first: this one, then the fixture's.
	if err := json.Unmarshal([]byte(body), &counts); code != http.StatusOK || err != nil || len(counts.Messages) != 2 ||
		strconv.FormatInt(counts.Messages[0].ID, 10) != id || counts.Messages[0].Queued != 2 || counts.Messages[0].Recipients != 2 {
		t.Errorf("messages.json: %d %v %s", code, err, body)
	}
	testapp.RunSender(t, w.Sender(t, nil)) // dev mode: marks them sent
	testutil.Eventually(t, 10*time.Second, func() bool {
		_, page := c.Get(loc)
		return strings.Contains(page, `<strong id="m-delivered" data-count="delivered">2</strong>`) && strings.Contains(page, `<strong id="m-queued" data-count="queued">0</strong>`)
	}, "the delivery page to show 2 delivered")
	_, page = c.Get(loc)
	if !strings.Contains(page, `<strong id="m-recipients" data-count="recipients">2</strong>`) || !strings.Contains(page, w.A.Organiser) || strings.Contains(page, `http-equiv="refresh"`) {
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

// Issue 19: on an event with sessions the compose page offers them next to
// the statuses; the number of recipients shown before sending counts only
// those who chose a ticked session, and the message goes to them alone.
func TestComposeMessageToTheParticipantsOfSessions(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Event(t, o, "konf", func(in *event.Input) {
		start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
		h := func(n int) *time.Time { return new(start.Add(time.Duration(n) * time.Hour)) }
		in.Sessions = &[]event.SessionInput{
			{Key: "tanz", Title: event.Texts{"de": "Tanzworkshop", "en": "Dance workshop"}, StartsAt: h(0), EndsAt: h(1)},
			{Key: "forum", Title: event.Texts{"de": "Forum"}, StartsAt: h(1), EndsAt: h(2)},
		}
	})
	for i, chosen := range [][]string{{"tanz"}, {"forum"}, nil, {"tanz", "forum"}} {
		if _, err := a.Registrations.SignUp(t.Context(), "konf", registration.SignupInput{Name: fmt.Sprintf("P%d", i),
			Email: fmt.Sprintf("p%d@example.org", i), PartySize: 1, Consent: true, Sessions: chosen}); err != nil {
			t.Fatal(err)
		}
	}
	base := "/admin/orgs/a/events/konf/messages"
	code, page := c.Get(base)
	if code != http.StatusOK {
		t.Fatalf("compose page: %d", code)
	}
	for _, want := range []string{`id="f-session-tanz" type="checkbox" name="session" value="tanz"`, `id="f-session-forum"`, "Tanzworkshop"} {
		if !strings.Contains(page, want) {
			t.Errorf("compose page lacks %s", want)
		}
	}
	if strings.Contains(page, `id="f-status-applied"`) {
		t.Error("the page offers applications on an event without selection")
	}
	key := messageKeyRE.FindStringSubmatch(page)[1]
	form := func(sessions ...string) url.Values {
		return url.Values{"key": {key}, "status": {"confirmed"}, "session": sessions,
			"subject_de": {"Raum"}, "body_de": {"Der Tanzworkshop ist im Saal 2."}}
	}
	for _, tc := range []struct {
		sessions []string
		want     string
	}{{nil, "4"}, {[]string{"tanz"}, "2"}, {[]string{"forum"}, "2"}, {[]string{"tanz", "forum"}, "3"}} {
		resp, body := c.post(base+"/preview", form(tc.sessions...))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<strong id="recipient-count">`+tc.want+`</strong>`) {
			t.Errorf("sessions %v: %d, want %s recipients\n%.1500s", tc.sessions, resp.StatusCode, tc.want, body)
		}
		if tc.sessions != nil && (!strings.Contains(body, `id="confirm-sessions"`) || !strings.Contains(body, `<input type="hidden" name="session" value="`+tc.sessions[0]+`">`)) {
			t.Errorf("sessions %v: the confirmation does not name or carry them", tc.sessions)
		}
	}
	// "Change" keeps the ticks.
	edit := form("tanz")
	edit.Set("edit", "1")
	if _, body := c.post(base+"/preview", edit); !strings.Contains(body, `value="tanz" aria-describedby="h-sessions" checked`) {
		t.Error("change: the session is no longer ticked")
	}
	resp, _ := c.post(base, form("tanz"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	var to []string
	if err := a.DB.Select(&to, `SELECT recipient FROM mail_outbox WHERE kind = 'message' ORDER BY recipient`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(to, " ") != "p0@example.org p3@example.org" {
		t.Errorf("mailed %v, want those in the dance workshop", to)
	}
	if n := a.Count(t, `SELECT count(*) FROM messages WHERE to_sessions = '{tanz}'`); n != 1 {
		t.Error("the message does not record its session")
	}
}
