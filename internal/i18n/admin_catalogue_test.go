package i18n_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The organisers' area uses ids the general scan does not look for (admin.
// and login.); each one written in code or templates must exist too.
var adminIDRE = regexp.MustCompile(`"((?:admin|login)\.[a-z0-9_.]*[a-z0-9_])"`)

func TestEveryAdminMessageIDExists(t *testing.T) {
	de := keys(t, "de")
	used := 0
	for _, dir := range []string{"../web", "../auth", "../member", "../../web/templates"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".html")) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range adminIDRE.FindAllSubmatch(b, -1) {
				used++
				if id := string(m[1]); !de[id] {
					t.Errorf("%s uses %q, which no catalogue has", p, id)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if used < 100 {
		t.Fatalf("found only %d admin message ids: is the scan broken?", used)
	}
	// Ids built at run time.
	for _, id := range []string{
		"admin.status.draft", "admin.status.published", "admin.status.cancelled",
		"admin.role.owner", "admin.role.organiser", "admin.role.door",
		"admin.mail.queued", "admin.mail.sending", "admin.mail.sent", "admin.mail.failed",
		"admin.mail.kind.confirmed", "admin.mail.kind.waitlisted", "admin.mail.kind.promoted", "admin.mail.kind.cancelled",
		"admin.mail.kind.event_changed", "admin.mail.kind.event_cancelled", "admin.mail.kind.reminder",
	} {
		if !de[id] {
			t.Errorf("missing %s", id)
		}
	}
}
