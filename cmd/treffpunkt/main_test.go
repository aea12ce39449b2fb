package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/app"
	"treffpunkt/internal/config"
	"treffpunkt/internal/demo"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testdb"
)

func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	return out.String(), err
}

func TestCommandsOfTheContract(t *testing.T) {
	db, url := testdb.NewWithURL(t)
	t.Setenv("DATABASE_URL", url)

	if _, err := cli(t, "", "migrate"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := cli(t, "", "org", "add", "--slug", "kargah", "--name", "kargah e. V.", "--email", "info@kargah.example"); err != nil {
		t.Fatalf("org add: %v", err)
	}
	_, err := cli(t, "", "org", "add", "--slug", "kargah", "--name", "again")
	if err == nil || !strings.Contains(err.Error(), "--slug: Already taken.") {
		t.Fatalf("duplicate org add: %v", err)
	}
	if _, err := cli(t, "correct horse battery\n", "user", "add", "--email", "anna@kargah.example", "--org", "kargah", "--role", "organiser"); err != nil {
		t.Fatalf("user add: %v", err)
	}
	if _, err := cli(t, "short\n", "user", "add", "--email", "bob@kargah.example", "--org", "kargah", "--role", "organiser"); err == nil || !strings.Contains(err.Error(), "--password") {
		t.Fatalf("short password accepted: %v", err)
	}
	if _, err := cli(t, "correct horse battery\n", "user", "add", "--email", "c@kargah.example", "--org", "nope", "--role", "door"); err == nil {
		t.Fatal("user add for unknown organisation succeeded")
	}
	out, err := cli(t, "", "token", "add", "--org", "kargah", "--role", "door", "--name", "scanner")
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := lines[len(lines)-1]
	if !strings.HasPrefix(tok, "tp_") || len(tok) < 40 {
		t.Fatalf("last line is not a token: %q", tok)
	}
	var stored int
	if err := db.Get(&stored, `SELECT count(*) FROM api_tokens WHERE token_hash = sha256($1::bytea)`, tok); err != nil || stored != 1 {
		t.Fatalf("token not stored hashed: %d %v", stored, err)
	}
	if err := db.Get(&stored, `SELECT count(*) FROM api_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'`, tok[3:]); err != nil || stored != 0 {
		t.Fatalf("token stored in clear: %d %v", stored, err)
	}

	out, err = cli(t, "", "demo")
	if err != nil {
		t.Fatalf("demo on a non-empty database: %v", err)
	}
	if !strings.Contains(out, "not loaded again") {
		t.Fatalf("demo loaded into a database with data: %s", out)
	}
	if _, err := cli(t, "", "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestDemoLoadsTheReferenceNetworkOnce(t *testing.T) {
	db, url := testdb.NewWithURL(t)
	t.Setenv("DATABASE_URL", url)
	out, err := cli(t, "", "demo")
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if !strings.Contains(out, "organiser@miso.example") {
		t.Fatalf("demo does not print the organiser login: %s", out)
	}
	var events, upcoming int
	_ = db.Get(&events, `SELECT count(*) FROM events WHERE status = 'published'`)
	_ = db.Get(&upcoming, `SELECT count(*) FROM events WHERE starts_at > now() AND starts_at < now() + interval '8 weeks'`)
	if events != 6 || upcoming != 6 {
		t.Fatalf("published %d, upcoming within 8 weeks %d; want 6 and 6", events, upcoming)
	}
	// The conference ends in three workshops, one small enough to fill.
	var workshops, small int
	_ = db.Get(&workshops, `SELECT count(*) FROM event_sessions s JOIN events e ON e.id = s.event_id WHERE e.slug = 'migrationskonferenz'`)
	_ = db.Get(&small, `SELECT count(*) FROM event_sessions WHERE capacity <= 5`)
	if workshops != 3 || small != 1 {
		t.Fatalf("conference workshops %d (small %d), want 3 (1)", workshops, small)
	}
	// The members-only demo event can be used: the member printed with the
	// logins is on MiSO's list (by number, the link goes to the listed
	// address), and kargah, its partner, has a list too.
	if !strings.Contains(out, demo.MemberEmail) || !strings.Contains(out, demo.MemberNumber) {
		t.Fatalf("demo does not print a demo member: %s", out)
	}
	res, err := services(t, db).Registrations.SignUp(context.Background(), "ag-partizipation", registration.SignupInput{
		Name: "Demo", Email: "typed@elsewhere.example", MemberNumber: demo.MemberNumber, PartySize: 1, Consent: true,
	})
	if err != nil || res.Registration.Status != registration.Pending || res.Registration.Email != demo.MemberEmail {
		t.Fatalf("demo member signs up: %+v %v", res, err)
	}
	var partners int
	_ = db.Get(&partners, `SELECT count(*) FROM event_partners p JOIN members m ON m.org_id = p.org_id`)
	if partners == 0 {
		t.Fatal("the members-only demo event names no partner with a member list")
	}
	if _, err := cli(t, "", "demo"); err != nil {
		t.Fatalf("second demo: %v", err)
	}
	_ = db.Get(&events, `SELECT count(*) FROM events`)
	if events != 6 {
		t.Fatalf("second demo run changed the events: %d", events)
	}
}

func TestConfigErrorsStopTheCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	if _, err := cli(t, "", "migrate"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("migrate without DATABASE_URL: %v", err)
	}
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1:1/x")
	t.Setenv("BASE_URL", "ftp://nope")
	t.Setenv("SIGNUP_RATE_PER_IP", "many")
	_, err := cli(t, "", "serve")
	if err == nil || !strings.Contains(err.Error(), "BASE_URL") || !strings.Contains(err.Error(), "SIGNUP_RATE_PER_IP") {
		t.Fatalf("serve with bad config: %v", err)
	}
}

// A public installation without SECRET_KEY would keep the stand-in secret
// in the database, and a copy of the database would open every link: serve
// refuses to start, and says what to set. Over http (development) it may.
func TestServeRefusesHTTPSWithoutSecretKey(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1:1/x")
	t.Setenv("BASE_URL", "https://treffpunkt.example.org")
	t.Setenv("SECRET_KEY", "")
	_, err := cli(t, "", "serve")
	if err == nil || !strings.Contains(err.Error(), "SECRET_KEY is empty but BASE_URL is https") {
		t.Fatalf("serve over https without SECRET_KEY: %v", err)
	}
	// Over http the refusal does not apply: serve goes on (and fails here
	// only because the database does not answer).
	t.Setenv("BASE_URL", "http://localhost:8080")
	if _, err := cli(t, "", "serve"); err == nil || strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf("serve over http without SECRET_KEY: %v, want only the database to fail", err)
	}
}

// services is the app the commands build, on db (no mail, no caches).
func services(t *testing.T, db *sqlx.DB) *app.App {
	t.Helper()
	a, err := app.New(&config.Config{DefaultLang: "de", BaseURL: "http://localhost:8080"}, db, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
