package i18n_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"treffpunkt/internal/i18n"
	"treffpunkt/web"
)

func keys(t *testing.T, lang string) map[string]bool {
	t.Helper()
	b, err := fs.ReadFile(web.FS, "i18n/"+lang+".toml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.toml: %v", lang, err)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func TestEveryCatalogueHasEveryGermanKey(t *testing.T) {
	de := keys(t, "de")
	files, _ := fs.Glob(web.FS, "i18n/*.toml")
	for _, f := range files {
		lang := strings.TrimSuffix(filepath.Base(f), ".toml")
		other := keys(t, lang)
		for k := range de {
			if !other[k] {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range other {
			if !de[k] {
				t.Errorf("%s has %q, which German lacks", lang, k)
			}
		}
	}
}

var idRE = regexp.MustCompile(`"((?:err|form|reg|event|state|home|title|nav|kind|ticket|org|site|fmt|weekday|month)\.[a-z0-9_.]*[a-z0-9_])"`)

// Every message id written literally in Go code or templates exists.
func TestEveryUsedMessageIDExists(t *testing.T) {
	de := keys(t, "de")
	root := "../.."
	used := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "var" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".html")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range idRE.FindAllSubmatch(b, -1) {
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
	if used < 50 {
		t.Fatalf("found only %d message ids: is the scan broken?", used)
	}
	// Ids built at run time.
	for _, prefix := range []string{"kind.", "reg.status.", "state."} {
		var names []string
		switch prefix {
		case "kind.":
			names = []string{"conference", "seminar", "festival", "workshop", "meeting", "other"}
		case "reg.status.":
			names = []string{"pending", "confirmed", "waitlisted", "cancelled", "expired"}
		case "state.":
			names = []string{"cancelled", "closed", "not_yet_open", "full", "waitlist", "unlimited", "members_only"}
		}
		for _, n := range names {
			if !de[prefix+n] {
				t.Errorf("missing %s%s", prefix, n)
			}
		}
	}
}

func TestDatesFollowTheLanguage(t *testing.T) {
	cat, err := i18n.Load(web.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 12, 4, 18, 0, 0, 0, berlin)
	for lang, want := range map[string]string{
		"de": "Freitag, 4. Dezember 2026, 18:00–21:00 Uhr",
		"en": "Friday, 4 December 2026, 18:00–21:00",
	} {
		if got := cat.For(lang).Span(start.UTC(), start.Add(3*time.Hour).UTC(), false, berlin); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := cat.Match(nil, "tr-TR,en;q=0.8"); got != "en" {
		t.Errorf("Accept-Language tr,en → %q, want en (no Turkish catalogue yet)", got)
	}
	if got := cat.Match([]string{"en"}, "de"); got != "en" {
		t.Errorf("explicit choice loses to Accept-Language: %q", got)
	}
}
