package i18n_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/web"
)

// catalogue reads one language's file: flat messages and plural tables.
// Each file is parsed once per test process (many tests read all seven);
// callers must not change the map.
func catalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	c := parsedFor(lang)
	c.once.Do(func() {
		b, err := fs.ReadFile(web.FS, "i18n/"+lang+".toml")
		if err != nil {
			c.err = err
			return
		}
		if err := toml.Unmarshal(b, &c.raw); err != nil {
			c.err = fmt.Errorf("%s.toml: %w", lang, err)
			return
		}
		c.flat = map[string]string{}
		for id, v := range c.raw {
			switch v := v.(type) {
			case string:
				c.flat[id] = v
			case map[string]any:
				for form, s := range v {
					if s, ok := s.(string); ok && form != "description" {
						c.flat[id+"."+form] = s
					}
				}
			}
		}
		c.folded = make(map[string]string, len(c.flat))
		for id, s := range c.flat {
			c.folded[id] = fold(lang, s)
		}
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.raw
}

// parsed is one language's catalogue as the tests read it: raw, flattened
// (plural forms become "id.form") and folded for matching.
type parsed struct {
	once   sync.Once
	err    error
	raw    map[string]any
	flat   map[string]string
	folded map[string]string
}

var parsedCatalogues sync.Map // lang → *parsed

func parsedFor(lang string) *parsed {
	v, _ := parsedCatalogues.LoadOrStore(lang, &parsed{})
	return v.(*parsed)
}

func keys(t *testing.T, lang string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for k := range catalogue(t, lang) {
		out[k] = true
	}
	return out
}

func TestEveryLanguageHasACatalogue(t *testing.T) {
	t.Parallel()
	for _, lang := range config.Languages {
		if _, err := fs.Stat(web.FS, "i18n/"+lang+".toml"); err != nil {
			t.Errorf("%s: %v", lang, err)
		}
	}
}

func TestEveryCatalogueHasEveryGermanKey(t *testing.T) {
	t.Parallel()
	de := keys(t, "de")
	files, _ := fs.Glob(web.FS, "i18n/*.toml")
	for _, f := range files {
		lang := strings.TrimSuffix(filepath.Base(f), ".toml")
		if lang == "glossary" {
			continue // the terms' list (glossary_test.go), not a catalogue
		}
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

// pluralForms are the CLDR plural categories each language distinguishes for
// whole numbers; a plural message must give every one of them.
var pluralForms = map[string][]string{
	"de": {"one", "other"},
	"en": {"one", "other"},
	"tr": {"one", "other"},
	"fa": {"one", "other"},
	"ku": {"one", "other"},
	"ru": {"one", "few", "many", "other"},
	"ar": {"zero", "one", "two", "few", "many", "other"},
}

func TestPluralMessagesHaveTheLanguagesForms(t *testing.T) {
	t.Parallel()
	for _, lang := range config.Languages {
		want := pluralForms[lang]
		if want == nil {
			t.Errorf("%s: no plural forms listed", lang)
			continue
		}
		for id, v := range catalogue(t, lang) {
			table, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for _, form := range want {
				if s, _ := table[form].(string); s == "" {
					t.Errorf("%s %s lacks the %q form", lang, id, form)
				}
			}
			for form := range table {
				if !contains(want, form) && form != "description" {
					t.Errorf("%s %s has form %q, which %s does not use", lang, id, form, lang)
				}
			}
		}
	}
}

// Placeholders must survive translation: a message that drops {{.Org}}
// silently loses information; one that invents {{.Foo}} prints "<no value>".
var placeholderRE = regexp.MustCompile(`\{\{\s*\.([A-Za-z]+)\s*\}\}`)

func TestTranslationsKeepThePlaceholders(t *testing.T) {
	t.Parallel()
	de := catalogue(t, "de")
	for _, lang := range config.Languages {
		for id, v := range catalogue(t, lang) {
			s, ok := v.(string)
			if !ok {
				continue
			}
			ds, _ := de[id].(string)
			if got, want := placeholders(s), placeholders(ds); got != want {
				t.Errorf("%s %s: placeholders %s, German has %s", lang, id, got, want)
			}
		}
	}
}

func placeholders(s string) string {
	set := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		set[m[1]] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return "[" + strings.Join(out, " ") + "]"
}

// dynamicIDs lists, for every id prefix that code completes at run time,
// the names it is completed with. A new dynamic prefix in code fails the
// test until it is listed here, so its ids are checked too.
func dynamicIDs() map[string][]string {
	roles := []string{"owner", "organiser", "door"}
	var auditLabels []string
	for _, a := range audit.Actions {
		auditLabels = append(auditLabels, strings.TrimPrefix(audit.Label(a), "audit."))
	}
	return map[string][]string{
		"audit.":               auditLabels,
		"kind.":                event.Kinds,
		"reg.status.":          registration.Statuses,
		"state.":               {"cancelled", "closed", "not_yet_open", "full", "waitlist", "unlimited", "members_only"},
		"admin.status.":        {"draft", "published", "cancelled"},
		"admin.role.":          roles,
		"admin.mail.":          {"queued", "sending", "sent", "failed"},
		"admin.mail.kind.":     registration.MailKinds,
		"admin.qtype.":         event.QuestionTypes,
		"admin.partnership.":   {event.PartnerRequested, event.PartnerAccepted, event.PartnerDeclined},
		"checkin.result.":      {"ok", "already_checked_in", "unknown", "cancelled", "wrong_event", "not_today", "not_in_session"},
		"weekday.":             {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"},
		"month.":               {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"},
		"admin.stats.age.":     registration.AgeBands,
		"admin.stats.members.": {registration.MembersKey, registration.OthersKey},
		"access.":              {"step_free", "step_free_no", "accessible_toilet", "accessible_toilet_no", "hearing_loop", "hearing_loop_no", "sign_language", "sign_language_no", "childcare", "childcare_no"},
		"search.when.":         event.Presets,
	}
}

var (
	// A literal that looks like a message id: dotted lower-case segments.
	literalRE = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)
	// Ids passed to T or N whatever they look like, in Go and templates.
	callRE = regexp.MustCompile(`(?:\.T|\.N|\bT|\bN)(?:\(|\s+)"([^"%]+)"`)
	// A prefix completed at run time: "kind." + k, printf "reg.status.%s",
	// fmt.Sprintf("month.%d", …).
	dynamicRE = regexp.MustCompile(`"([a-z][a-z0-9_]*\.(?:[a-z0-9_]+\.)*)(?:"\s*\+|%[sdv]")`)
	// The same, handed straight to T or N: checked whatever its namespace.
	dynamicCallRE = regexp.MustCompile(`(?:\.T|\.N|\bT|\bN)(?:\(|\s+)\(?(?:printf |fmt\.Sprintf\()?"([a-z][a-z0-9_]*\.(?:[a-z0-9_]+\.)*)(?:"\s*\+|%[sdv]")`)
)

// Literals that look like ids but name files or hosts.
var notAnID = regexp.MustCompile(`\.(html|txt|toml|ics|css|js|json|csv|png|svg|go|sql|com|org|de|example|local|test|invalid)$`)

func sources(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := "../.."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == "var" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".txt")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// namespaces are the first segments of German ids ("err", "admin", …):
// any literal in one of them is taken for a message id.
func namespaces(de map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range de {
		if i := strings.IndexByte(k, '.'); i > 0 {
			out[k[:i]] = true
		}
	}
	return out
}

// Every message id written in Go code, page templates or mail templates
// exists in the catalogues, and every id built at run time does too.
func TestEveryUsedMessageIDExists(t *testing.T) {
	t.Parallel()
	de := keys(t, "de")
	ns := namespaces(de)
	dyn := dynamicIDs()
	used := 0
	for p, b := range sources(t) {
		for _, m := range literalRE.FindAllSubmatch(b, -1) {
			id := string(m[1])
			if !ns[id[:strings.IndexByte(id, '.')]] || notAnID.MatchString(id) {
				continue
			}
			used++
			if !de[id] {
				t.Errorf("%s uses %q, which no catalogue has", p, id)
			}
		}
		for _, m := range callRE.FindAllSubmatch(b, -1) {
			if id := string(m[1]); !de[id] && !strings.HasSuffix(id, ".") {
				t.Errorf("%s translates %q, which no catalogue has", p, id)
			}
		}
		direct := map[string]bool{}
		for _, m := range dynamicCallRE.FindAllSubmatch(b, -1) {
			direct[string(m[1])] = true
		}
		for _, m := range dynamicRE.FindAllSubmatch(b, -1) {
			prefix := string(m[1])
			if !ns[prefix[:strings.IndexByte(prefix, '.')]] && !direct[prefix] {
				continue
			}
			names, listed := dyn[prefix]
			if !listed || names == nil {
				t.Errorf("%s builds ids from %q at run time: list its names in dynamicIDs", p, prefix)
			}
		}
	}
	if used < 300 {
		t.Fatalf("found only %d message ids: is the scan broken?", used)
	}
	for prefix, names := range dyn {
		for _, n := range names {
			if !de[prefix+n] {
				t.Errorf("missing %s%s (built at run time)", prefix, n)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
