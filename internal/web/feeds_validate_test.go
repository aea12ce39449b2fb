package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// Two parsers that share no code with golang-ical — Debian's python3-vobject
// and npm's ical.js — read every feed of a varied program the same way, and
// as the API states its times (scripts/validate-feeds.sh). Skipped when the
// tools are missing, unless CI is set; .ci/run installs them.
func TestFeedsPassIndependentValidators(t *testing.T) {
	t.Parallel()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "validate-feeds.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(script, "--check-tools").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("feed validators missing in CI: %s", out)
		}
		t.Skipf("feed validators missing: %s", out)
	}
	a := testapp.New(t)
	miso, _ := program(t, a)
	ctx := context.Background()
	now := time.Now().Truncate(time.Minute)
	a.Event(t, miso, "vorbei", when(now.Add(-10*24*time.Hour), now.Add(-10*24*time.Hour+2*time.Hour), false))
	a.Event(t, miso, "abgesagt", all(titled(event.Texts{"de": "Quiz; Abend, \\ mit Preisen", "fa": "مسابقه"}),
		func(in *event.Input) { in.Description = event.Texts{"de": "Zeile\r\nZeile\rZeile"} }))
	if _, err := a.Events.Cancel(ctx, miso.ID, "abgesagt"); err != nil {
		t.Fatal(err)
	}
	r := signUp(t, a, "loccum", "ayse@example.org")
	b := a.Browser(t)
	calendarButton(t, b, r.ManageToken, "create")
	token, _ := personalLink(t, b, r.ManageToken)
	if token == "" {
		t.Fatal("no personal feed")
	}

	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, a.URL,
		"/calendar.ics?lang=en", "/calendar.ics?lang=ar", "/calendar.ics?kind=seminar",
		"/orgs/miso/calendar.ics?lang=fa", "/feeds/"+token+".ics", "/feeds/"+token+".ics?lang=tr")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("validate-feeds: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
