package api_test

import (
	"net/http"
	"slices"
	"testing"

	"treffpunkt/internal/auth"
)

// A message to sessions reaches the registrations of the statuses asked
// that chose one of them and did not leave it, whatever their standing in
// the session; an unknown key is a 422 naming to.sessions.
func TestMessageToSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.sessionEvent(t, o.ID, "konf", nil)
	organiser := a.token(o.ID, auth.Organiser)
	post := func(email string, keys ...string) regAnswer {
		r := a.postJSON(http.MethodPost, "/api/v1/events/konf/registrations", "", withSessions(email, keys...))
		r.wantStatus(t, http.StatusCreated)
		return r.registration(t)
	}
	post("r1@example.org", "a")
	post("r2@example.org", "a", "c")
	if got := post("r3@example.org", "a").choices(); got != "a:waitlisted:1" {
		t.Fatalf("r3: %s", got)
	}
	post("r4@example.org", "c")
	post("r5@example.org", "b")
	left := post("r6@example.org", "c")
	a.patch(left.token(), `{"sessions": []}`).wantStatus(t, http.StatusOK)

	path := "/api/v1/orgs/miso/events/konf/messages"
	send := func(sessions ...string) []string {
		t.Helper()
		body := msgBody(map[string]string{"de": "Raum"}, map[string]string{"de": "Saal 2."}, "confirmed")
		body["to"].(map[string]any)["sessions"] = sessions
		var ans messageAnswer
		if code := a.JSON(t, http.MethodPost, path, organiser, body, &ans); code != http.StatusAccepted {
			t.Fatalf("send to %v: %d %+v", sessions, code, ans.Error)
		}
		var to []string
		if err := a.DB.Select(&to, `SELECT recipient FROM mail_outbox WHERE message_ref = $1 ORDER BY recipient`, ans.ID); err != nil {
			t.Fatal(err)
		}
		if len(to) != ans.Recipients {
			t.Fatalf("answered %d recipients, mailed %d", ans.Recipients, len(to))
		}
		return to
	}
	if got := send("a"); !slices.Equal(got, []string{"r1@example.org", "r2@example.org", "r3@example.org"}) {
		t.Errorf("to a: %v", got)
	}
	if got := send("b", "c"); !slices.Equal(got, []string{"r2@example.org", "r4@example.org", "r5@example.org"}) {
		t.Errorf("to b and c: %v", got)
	}
	var ans messageAnswer
	body := msgBody(map[string]string{"de": "Raum"}, map[string]string{"de": "Saal 2."}, "confirmed")
	body["to"].(map[string]any)["sessions"] = []string{"a", "zz"}
	if code := a.JSON(t, http.MethodPost, path, organiser, body, &ans); code != http.StatusUnprocessableEntity || ans.Error.Fields["to.sessions"] == "" {
		t.Errorf("unknown session: %d %+v", code, ans.Error)
	}
	if n := a.count(`SELECT count(*) FROM messages`); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}
