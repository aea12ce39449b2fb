package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var admRawID = regexp.MustCompile(`>\s*(admin|login|err|form|reg|event|state|home|nav|kind)\.[a-z_.]+\s*<|"(admin|login)\.[a-z_.]+"`)

// Every page of the organisers' area renders for its owner in both
// languages, with lang set and no raw message id.
func TestEveryAdminPageRendersInBothLanguages(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Owner)
	pages := map[string][]string{
		"/admin":                                    {"A e. V.", "/admin/orgs/a/staff"},
		"/admin/orgs/a":                             {"fest-a", `id="new-event"`},
		"/admin/orgs/a/new-event":                   {`name="title_fa"`, `dir="rtl"`, `name="csrf_token"`},
		"/admin/orgs/a/events/fest-a":               {`value="Werkstatt fest-a"`, `id="duplicate"`, `id="cancel-event"`},
		"/admin/orgs/a/events/fest-a/preview":       {"fest-a", "Kulturzentrum Faust"},
		"/admin/orgs/a/events/fest-a/registrations": {"Ayşe Yılmaz", "Иван Петров", `id="export-xlsx"`},
		"/admin/orgs/a/members":                     {`enctype="multipart/form-data"`},
		"/admin/orgs/a/staff":                       {w.A.Organiser, w.A.Door},
		"/admin/orgs/a/tokens":                      {`name="role"`},
	}
	for _, lang := range []string{"de", "en"} {
		for path, wants := range pages {
			code, body := c.Get(path + "?lang=" + lang)
			if code != http.StatusOK {
				t.Errorf("%s [%s]: %d", path, lang, code)
				continue
			}
			if !strings.Contains(body, `<html lang="`+lang+`"`) {
				t.Errorf("%s [%s]: wrong lang", path, lang)
			}
			for _, want := range wants {
				if !strings.Contains(body, want) {
					t.Errorf("%s [%s]: lacks %q", path, lang, want)
				}
			}
			if m := admRawID.FindString(body); m != "" {
				t.Errorf("%s [%s]: raw message id %q", path, lang, m)
			}
		}
	}
	if _, page := c.Get("/admin"); strings.Contains(page, "B e. V.") {
		t.Errorf("the owner of A sees B")
	}
	// Public pages link the organisers' area, by sign-in state.
	if _, page := w.Browser(t).Get("/"); !strings.Contains(page, `href="/login"`) {
		t.Errorf("the public header lacks the login link")
	}
	if _, page := c.Get("/"); !strings.Contains(page, `href="/admin"`) {
		t.Errorf("the public header lacks the admin link for staff")
	}
}

// Resending a confirmation writes it to the outbox again, and the list
// shows each registration's latest mail and its state.
func TestResendConfirmationQueuesTheMailAgainAndTheListShowsMailState(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	id := strconv.FormatInt(w.A.Confirmed.ID, 10)
	before := w.Count(t, `SELECT count(*) FROM mail_outbox WHERE registration_id = $1 AND kind = 'confirmed'`, w.A.Confirmed.ID)
	if before == 0 {
		t.Fatalf("the sign-up wrote no confirmation")
	}
	resp, _ := c.post("/admin/orgs/a/events/fest-a/registrations/"+id+"/resend", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	if n := w.Count(t, `SELECT count(*) FROM mail_outbox WHERE registration_id = $1 AND kind = 'confirmed'`, w.A.Confirmed.ID); n != before+1 {
		t.Fatalf("confirmations = %d, want %d", n, before+1)
	}
	_, page := c.Get("/admin/orgs/a/events/fest-a/registrations?lang=de")
	if !strings.Contains(page, "Bestätigung: wartet auf Versand") || !strings.Contains(page, `id="flash"`) {
		t.Errorf("the list does not show the mail state")
	}
	// A cancelled registration gets no confirmation.
	if _, err := w.Registrations.CancelByOrganiser(t.Context(), w.A.Event.ID, w.A.Waitlisted.ID); err != nil {
		t.Fatal(err)
	}
	resp, page = c.post("/admin/orgs/a/events/fest-a/registrations/"+strconv.FormatInt(w.A.Waitlisted.ID, 10)+"/resend", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="problem"`) {
		t.Fatalf("resend to a cancelled registration: %d", resp.StatusCode)
	}
}
