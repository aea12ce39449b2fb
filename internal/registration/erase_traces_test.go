package registration_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// traces lists every row, in any table, whose text holds needle (case
// folded): what a pg_dump search would find.
func traces(t *testing.T, a *testapp.App, needle string) []string {
	t.Helper()
	var tables []string
	if err := a.DB.Select(&tables, `
SELECT table_name FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, table := range tables {
		var rows []string
		q := fmt.Sprintf(`SELECT t::text FROM %s t WHERE strpos(lower(t::text), lower($1)) > 0`, pq.QuoteIdentifier(table))
		if err := a.DB.Select(&rows, q, needle); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, table+": "+r)
		}
	}
	return out
}

// zofia signs up someone whose name and address are easy to find, and
// leaves her confirmation failed with both in last_error, as versions
// before the addresses were built properly kept it (and as a server's
// answer may still echo them).
func zofia(t *testing.T, a *testapp.App, slug string) {
	t.Helper()
	if code, _ := signUp(t, a, slug, map[string]any{
		"name": "Zofia Quarkbrot", "email": "zofia.quarkbrot@example.org", "party_size": 1, "consent": true,
	}); code != http.StatusCreated {
		t.Fatalf("sign-up: %d", code)
	}
	if code, _ := signUp(t, a, slug, person(2)); code != http.StatusCreated {
		t.Fatalf("sign-up: %d", code)
	}
	a.DB.MustExec(`UPDATE mail_outbox SET status = 'failed', attempts = 1,
    last_error = 'recipient address: failed to parse mail address "\"Zofia Quarkbrot\" <zofia.quarkbrot@example.org>": mail: no angle-addr'
WHERE recipient = 'zofia.quarkbrot@example.org'`)
	a.DB.MustExec(`UPDATE mail_outbox SET status = 'failed', attempts = 1,
    last_error = '550 5.1.1 <p2@example.org>: Recipient address rejected'
WHERE recipient = 'p2@example.org'`)
}

// assertNoTrace fails for every row that still holds Zofia's name or
// address, and makes sure the search finds Person 2, who stays.
func assertNoTrace(t *testing.T, a *testapp.App) {
	t.Helper()
	for _, needle := range []string{"zofia", "quarkbrot"} {
		for _, row := range traces(t, a, needle) {
			t.Errorf("%q is left in %s", needle, row)
		}
	}
	kept := strings.Join(traces(t, a, "p2@example.org"), "\n")
	if !strings.Contains(kept, "registrations:") || !strings.Contains(kept, "Recipient address rejected") {
		t.Errorf("another person's data went too, or the search finds nothing:\n%s", kept)
	}
}

// Erasing one person on request leaves their name and address nowhere:
// not in the registration, not in any column of their emails, the reason
// a failed one was kept included.
func TestEraseBlanksOutboxLastError(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", nil)
	zofia(t, a, "fest")
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations WHERE email = 'zofia.quarkbrot@example.org'`); err != nil {
		t.Fatal(err)
	}
	if err := a.Registrations.EraseOne(context.Background(), e.ID, id); err != nil {
		t.Fatal(err)
	}
	assertNoTrace(t, a)
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE registration_id = $1 AND status = 'failed'`, id); n != 1 {
		t.Errorf("the erased mail's status went too (%d failed rows)", n)
	}
}

// Retention likewise: after RETENTION_DAYS nothing in the database holds
// the name or address, the reason a failed email was kept included.
func TestRetentionBlanksOutboxLastError(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	setNow := a.SettableClock()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", nil)
	a.Event(t, o, "later", func(in *event.Input) {
		start := e.StartsAt.Add(30 * 24 * time.Hour)
		end := start.Add(time.Hour)
		in.StartsAt, in.EndsAt = &start, &end
	})
	zofia(t, a, "fest")
	// Person 2 of the later event stays; the one of fest goes.
	a.DB.MustExec(`UPDATE registrations SET event_id = (SELECT id FROM events WHERE slug = 'later') WHERE email = 'p2@example.org'`)
	a.DB.MustExec(`UPDATE mail_outbox SET event_id = (SELECT id FROM events WHERE slug = 'later') WHERE recipient = 'p2@example.org'`)
	retention := 90 * 24 * time.Hour
	setNow(e.EndsAt.Add(retention + time.Minute))
	n, err := a.Registrations.EraseExpired(context.Background(), retention, 100)
	if err != nil || n.Registrations != 1 || n.Mails != 1 {
		t.Fatalf("erase: %+v %v, want 1 registration and its mail", n, err)
	}
	assertNoTrace(t, a)
}

// A door scan that was not a ticket keeps what was typed, which may be the
// person's address or name (staff typing into the scan field): erasing the
// person blanks such scans of their event, the verdicts stay, and other
// typed scans keep their text until retention.
func TestEraseBlanksDoorScansThatNameThePerson(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", nil)
	zofia(t, a, "fest")
	door := a.Token(t, o, "door")
	for _, typed := range []string{"zofia.quarkbrot@example.org", "zofia QUARKBROT", "nonsense"} {
		if code := a.JSON(t, http.MethodPost, "/api/v1/checkin", door, map[string]any{"code": typed, "event": "fest"}, nil); code != http.StatusOK {
			t.Fatalf("scan %q: %d", typed, code)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM checkin_scans WHERE code ILIKE '%quarkbrot%'`); n != 2 {
		t.Fatalf("%d scans hold the typed text, want 2", n)
	}
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations WHERE email = 'zofia.quarkbrot@example.org'`); err != nil {
		t.Fatal(err)
	}
	if err := a.Registrations.EraseOne(context.Background(), e.ID, id); err != nil {
		t.Fatal(err)
	}
	assertNoTrace(t, a)
	if n := a.Count(t, `SELECT count(*) FROM checkin_scans WHERE event_id = $1`, e.ID); n != 3 {
		t.Errorf("%d scans left, want all 3 (their verdicts count)", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM checkin_scans WHERE code = 'nonsense'`); n != 1 {
		t.Error("a scan that names no one was blanked too")
	}
}
