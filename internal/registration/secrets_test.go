package registration_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"treffpunkt/internal/config"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testdb"
	"treffpunkt/internal/testutil"
	"treffpunkt/migrations"
)

// A copy of the database alone yields no working link (DESIGN rule 9,
// docs/operations.md "Secret links and SECRET_KEY"): the tests below read every row of every
// table, as a thief of a backup would.

const (
	testKey  = "a test SECRET_KEY of more than 32 characters"
	otherKey = "another SECRET_KEY, as a thief would set it up"
)

func keyed(t *testing.T, db *sqlx.DB, key string) *testapp.App {
	t.Helper()
	// Staff mails go through the outbox, as in serve.
	return testapp.OnDBWith(t, db, func(c *config.Config) { c.SecretKey = key }, testapp.StaffOutbox)
}

var (
	feedRE      = regexp.MustCompile(`/feeds/([a-z2-7]{32})\.ics`)
	embedRE     = regexp.MustCompile(`name="embed_token" value="([^"]+)"`)
	staffLinkRE = regexp.MustCompile(`/login/[a-z]+/([A-Za-z0-9_-]{20,})`)
)

func get(t *testing.T, a *testapp.App, path string) int {
	t.Helper()
	resp, err := http.Get(a.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func body(t *testing.T, a *testapp.App, path string) string {
	t.Helper()
	resp, err := http.Get(a.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// staffLink returns the secret of the one staff mail of kind.
func staffLink(t *testing.T, a *testapp.App, kind string) string {
	t.Helper()
	ms := mails(t, a, kind)
	if len(ms) != 1 {
		t.Fatalf("%d %s mails, want 1", len(ms), kind)
	}
	m := staffLinkRE.FindStringSubmatch(ms[0].Body)
	if m == nil {
		t.Fatalf("no link in the %s mail:\n%s", kind, ms[0].Body)
	}
	return m[1]
}

// secretsOfEveryKind makes one secret of every kind that opens something
// — manage token, ticket codes, confirmation link, personal feed, embed
// form token, password reset and invitation links — and a door scan, and
// returns them by name.
func secretsOfEveryKind(t *testing.T, a *testapp.App) map[string]string {
	t.Helper()
	ctx := context.Background()
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", func(in *event.Input) { in.MaxPartySize = ptr(4) })
	a.Event(t, o, "quiz", func(in *event.Input) { in.ConfirmEmail = ptr(true) })

	s := map[string]string{}
	in := applicant("Ayşe", "ayse@example.org")
	in["party_size"] = 2
	code, ans := signUp(t, a, "fest", in)
	if code != http.StatusCreated || ans.Status != "confirmed" || len(ans.Tickets) != 2 {
		t.Fatalf("sign-up: %d %+v", code, ans)
	}
	s["manage token"] = token(ans.ManageURL)
	s["ticket code 1"], s["ticket code 2"] = ans.Tickets[0].Code, ans.Tickets[1].Code

	if code, _ := signUp(t, a, "quiz", applicant("Quiz", "quiz@example.org")); code != http.StatusCreated {
		t.Fatalf("sign-up needing confirmation: %d", code)
	}
	s["confirmation link"] = confirmLink(t, a, "quiz@example.org")

	b := a.Browser(t)
	if resp, _ := b.Post("/r/"+s["manage token"], "/r/"+s["manage token"]+"/calendar", url.Values{"action": {"create"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create personal feed: %d", resp.StatusCode)
	}
	_, page := b.Get("/r/" + s["manage token"])
	if m := feedRE.FindStringSubmatch(page); m != nil {
		s["feed token"] = m[1]
	} else {
		t.Fatal("no personal feed link on the registration page")
	}
	if m := embedRE.FindStringSubmatch(body(t, a, "/embed/events/fest")); m != nil {
		s["embed token"] = m[1]
	} else {
		t.Fatal("no embed token")
	}

	if err := a.Auth.AddUser(ctx, "owner@miso.example", "correct horse battery", o.ID, "owner", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.RequestReset(ctx, "owner@miso.example", "de"); err != nil {
		t.Fatal(err)
	}
	// The auth worker makes the link and its mail in the transaction that
	// takes the request off the queue.
	testutil.Eventually(t, 10*time.Second, func() bool {
		return a.Count(t, `SELECT count(*) FROM password_reset_requests`) == 0
	}, "the reset request to be worked")
	s["password reset link"] = staffLink(t, a, "password_reset")
	if err := a.Auth.Invite(ctx, o.ID, "neu@miso.example", "organiser", "de"); err != nil {
		t.Fatal(err)
	}
	s["invitation link"] = staffLink(t, a, "staff_invite")

	// The door scans the QR code (the ticket's URL): the scan is logged.
	door := a.Token(t, o, "door")
	if code := a.JSON(t, http.MethodPost, "/api/v1/checkin", door, map[string]any{"code": a.URL + "/t/" + s["ticket code 1"], "event": "fest"}, nil); code != http.StatusOK {
		t.Fatalf("door scan: %d", code)
	}
	return s
}

// works says whether each secret opens what it is for.
func works(t *testing.T, a *testapp.App, s map[string]string) map[string]bool {
	t.Helper()
	return map[string]bool{
		"manage token":        get(t, a, "/r/"+s["manage token"]) == http.StatusOK,
		"ticket code 1":       get(t, a, "/t/"+s["ticket code 1"]) == http.StatusOK,
		"ticket code 2":       get(t, a, "/t/"+s["ticket code 2"]) == http.StatusOK,
		"confirmation link":   get(t, a, "/confirm/"+s["confirmation link"]) == http.StatusOK,
		"feed token":          get(t, a, "/feeds/"+s["feed token"]+".ics") == http.StatusOK,
		"password reset link": get(t, a, "/login/reset/"+s["password reset link"]) == http.StatusOK,
	}
}

func TestADatabaseCopyHoldsNoSecretOfAnyLink(t *testing.T) {
	t.Parallel()
	a := keyed(t, testdb.New(t), testKey)
	s := secretsOfEveryKind(t, a)
	for name, ok := range works(t, a, s) {
		if !ok {
			t.Errorf("the %s does not work", name)
		}
	}
	for name, v := range s {
		if cols := testdb.Holding(t, a.DB, v); len(cols) > 0 {
			t.Errorf("the database holds the %s in %s", name, strings.Join(cols, ", "))
		}
	}
}

// The same database run with another SECRET_KEY, as whoever copied it
// would: the links it derives open nothing on the real installation, and
// the secrets sealed in the outbox stay shut.
func TestADatabaseCopyWithAnotherKeyYieldsNoWorkingLink(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := keyed(t, db, testKey)
	secretsOfEveryKind(t, a)
	thief := keyed(t, db, otherKey)
	ctx := context.Background()
	var eventID int64
	if err := db.Get(&eventID, `SELECT id FROM events WHERE slug = 'fest'`); err != nil {
		t.Fatal(err)
	}
	rs, err := thief.Registrations.ListForEvent(ctx, eventID)
	if err != nil || len(rs) != 1 || len(rs[0].Tickets) != 2 {
		t.Fatalf("registrations as the thief reads them: %v %v", rs, err)
	}
	if code := get(t, a, "/r/"+rs[0].ManageToken); code != http.StatusNotFound {
		t.Errorf("manage link derived with another key: %d, want 404", code)
	}
	for _, tk := range rs[0].Tickets {
		if code := get(t, a, "/t/"+tk.Code); code != http.StatusNotFound {
			t.Errorf("ticket code derived with another key: %d, want 404", code)
		}
	}
	for _, kind := range []string{"password_reset", "staff_invite", "confirm_email"} {
		var id int64
		if err := db.Get(&id, `SELECT id FROM mail_outbox WHERE kind = $1 LIMIT 1`, kind); err != nil {
			t.Fatal(err)
		}
		if m, err := thief.Outbox.Render(ctx, id); err == nil {
			t.Errorf("the %s mail opened with another key:\n%s", kind, m.Text)
		}
	}
}

// Links mailed before migration 00016, when the tables kept them in plain
// text, keep working after it; the registration's page then shows new ones,
// which work too, and the plain ones are nowhere in the database.
func TestLinksMailedBeforeHashingKeepWorking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 14); err != nil {
		t.Fatalf("migrate down to 00014: %v", err)
	}
	const (
		oldToken = "OLDMANAGETOKEN234567ABCDEF"
		oldCode  = "OLDTICKETCODE234567ABCDEFG"
	)
	for _, q := range []string{
		`INSERT INTO organisations (slug, name, email) VALUES ('miso', 'MiSO e. V.', 'info@miso.example')`,
		`INSERT INTO events (org_id, slug, kind, default_lang, title, starts_at, ends_at, status, seats_confirmed)
SELECT id, 'fest', 'festival', 'de', '{"de":"Fest"}', now() - interval '1 hour', now() + interval '3 hours', 'published', 1
FROM organisations`,
		`INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_token, consent_at, confirmed_at)
SELECT id, 'Ayşe', 'ayse@example.org', 'de', 1, 'confirmed', '` + oldToken + `', now(), now() FROM events`,
		`INSERT INTO tickets (registration_id, event_id, seat, code)
SELECT id, event_id, 1, '` + oldCode + `' FROM registrations`,
		`INSERT INTO checkin_scans (code, ticket_id, event_id, day, verdict, scanned_at)
SELECT 'https://treffpunkt.example/t/` + oldCode + `', t.id, t.event_id, current_date, 'not_today', now() FROM tickets t`,
		`INSERT INTO mail_outbox (message_id, kind, lang, recipient, recipient_name, registration_id, event_id, subject, body_text, body_html, status)
SELECT 'm1@x', 'confirmed', 'de', 'ayse@example.org', 'Ayşe', r.id, r.event_id, 'Bestätigt', '/r/` + oldToken + `', '', 'sent' FROM registrations r`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := database.Migrate(ctx, db.DB); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	src := secret.New(db, testKey)
	if n, err := registration.UpgradeSecrets(ctx, db, src); err != nil || n != 1 {
		t.Fatalf("upgrade: %d registrations, %v", n, err)
	}
	if n, err := registration.UpgradeSecrets(ctx, db, src); err != nil || n != 0 {
		t.Fatalf("second upgrade: %d registrations, %v; want none", n, err)
	}
	a := keyed(t, db, testKey)
	for _, v := range []string{oldToken, oldCode} {
		if cols := testdb.Holding(t, db, v); len(cols) > 0 {
			t.Errorf("the database still holds %s in %s", v, strings.Join(cols, ", "))
		}
	}
	if code := get(t, a, "/r/"+oldToken); code != http.StatusOK {
		t.Fatalf("old manage link: %d", code)
	}
	if code := get(t, a, "/t/"+oldCode); code != http.StatusOK {
		t.Fatalf("old ticket link: %d", code)
	}
	r, err := a.Registrations.ByToken(ctx, oldToken)
	if err != nil || r.ManageToken == "" || r.ManageToken == oldToken || len(r.Tickets) != 1 || r.Tickets[0].Code == oldCode {
		t.Fatalf("registration by its old token: %+v %v; want new token and code", r, err)
	}
	if page := body(t, a, "/r/"+oldToken); !strings.Contains(page, "/t/"+r.Tickets[0].Code+"/qr.svg") {
		t.Errorf("the page of the old link does not show the new ticket code")
	}
	if code := get(t, a, "/r/"+r.ManageToken); code != http.StatusOK {
		t.Errorf("new manage link: %d", code)
	}
	if code := get(t, a, "/t/"+r.Tickets[0].Code); code != http.StatusOK {
		t.Errorf("new ticket link: %d", code)
	}
	// The door takes the old QR code, printed before the upgrade.
	var orgID int64
	if err := db.Get(&orgID, `SELECT id FROM organisations WHERE slug = 'miso'`); err != nil {
		t.Fatal(err)
	}
	door, err := a.Auth.AddToken(ctx, orgID, "door", "door")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Result string `json:"result"`
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/checkin", door, map[string]any{"code": a.URL + "/t/" + oldCode, "event": "fest"}, &res); code != http.StatusOK || res.Result != "ok" {
		t.Errorf("door scan of the old code: %d %q, want ok", code, res.Result)
	}
}
