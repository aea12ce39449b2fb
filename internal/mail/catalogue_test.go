package mail

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"treffpunkt/internal/config"
	"treffpunkt/mailtemplates"
	webfs "treffpunkt/web"
)

// messageCallRE finds the message ids the mail templates translate.
var messageCallRE = regexp.MustCompile(`(?:^|[\s({])(?:T|N|Plain)\s+"([^"]+)"`)

// mailKeys returns the ids each mail template uses, by file.
func mailKeys(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := fs.WalkDir(mailtemplates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(mailtemplates.FS, p)
		if err != nil {
			return err
		}
		for _, m := range messageCallRE.FindAllSubmatch(b, -1) {
			out[p] = append(out[p], string(m[1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func catalogueOf(t *testing.T, lang string) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(webfs.FS, "i18n/"+lang+".toml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.toml: %v", lang, err)
	}
	return m
}

// Every word of a mail comes from the catalogues: every id a mail template
// uses is in the catalogue of every language (a template with an id that
// one lacks fails here, not as a raw id in somebody's inbox), and the
// templates use the catalogue for their wording (a kind without ids would
// be hard-coded text).
func TestMailTemplatesUseOnlyCatalogueKeys(t *testing.T) {
	t.Parallel()
	used := mailKeys(t)
	for _, f := range []string{"common.txt", "common.html", "confirmed.txt", "confirmed.html", "password_reset.html"} {
		if len(used[f]) < 2 {
			t.Errorf("%s uses %d message ids: is its wording written into the template?", f, len(used[f]))
		}
	}
	n := 0
	for _, lang := range config.Languages {
		cat := catalogueOf(t, lang)
		for f, ids := range used {
			for _, id := range ids {
				n++
				if _, ok := cat[id]; !ok {
					t.Errorf("%s uses %q, which the %s catalogue lacks", f, id, lang)
				}
			}
		}
	}
	if n < 100*len(config.Languages) {
		t.Fatalf("found only %d uses of message ids: is the scan broken?", n)
	}
}

// The mail messages are put into HTML mails as they are (their data is
// escaped): they must hold no markup of their own.
func TestMailMessagesHaveNoMarkup(t *testing.T) {
	t.Parallel()
	for _, lang := range config.Languages {
		for id, v := range catalogueOf(t, lang) {
			if !strings.HasPrefix(id, "mail") {
				continue
			}
			texts := []string{}
			switch x := v.(type) {
			case string:
				texts = append(texts, x)
			case map[string]any:
				for _, s := range x {
					texts = append(texts, s.(string))
				}
			}
			for _, s := range texts {
				if strings.ContainsAny(s, "<>&") {
					t.Errorf("%s %s holds markup: %q", lang, id, s)
				}
			}
		}
	}
}
