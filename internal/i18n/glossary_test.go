package i18n_test

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/pelletier/go-toml/v2"

	"treffpunkt/internal/config"
	"treffpunkt/web"
)

// glossary is web/i18n/glossary.toml: the core terms with the one word per
// language, and words that must not appear.
type glossary struct {
	Term map[string]struct {
		Say    map[string]string   `toml:"say"`
		DE     []string            `toml:"de"`
		Keys   []string            `toml:"keys"`
		Match  map[string][]string `toml:"match"`
		Except map[string][]string `toml:"except"`
	} `toml:"term"`
	Forbidden []struct {
		Lang string   `toml:"lang"`
		Word string   `toml:"word"`
		Keys []string `toml:"keys"`
		Why  string   `toml:"why"`
	} `toml:"forbidden"`
}

func loadGlossary(t *testing.T) glossary {
	t.Helper()
	b, err := fs.ReadFile(web.FS, "i18n/glossary.toml")
	if err != nil {
		t.Fatal(err)
	}
	var g glossary
	if err := toml.Unmarshal(b, &g); err != nil {
		t.Fatalf("glossary.toml: %v", err)
	}
	return g
}

// messages flattens a catalogue: plural forms become "id.form". Callers
// must not change the map.
func messages(t *testing.T, lang string) map[string]string {
	t.Helper()
	catalogue(t, lang)
	return parsedFor(lang).flat
}

// folded is messages passed through fold, once per language.
func folded(t *testing.T, lang string) map[string]string {
	t.Helper()
	catalogue(t, lang)
	return parsedFor(lang).folded
}

// fold makes matching blind to case and Arabic vowel marks: Turkish lowers
// İ to i (not i plus a dot), and تنظّمها matches تنظمها.
func fold(lang, s string) string {
	if lang == "tr" || lang == "ku" {
		s = strings.ToLowerSpecial(unicode.TurkishCase, s)
	} else {
		s = strings.ToLower(s)
	}
	return strings.Map(func(r rune) rune {
		if (r >= 0x064B && r <= 0x0652) || r == 0x0670 {
			return -1
		}
		return r
	}, s)
}

func compile(t *testing.T, lang string, pats []string) []*regexp.Regexp {
	t.Helper()
	var out []*regexp.Regexp
	for _, p := range pats {
		re, err := regexp.Compile(fold(lang, p))
		if err != nil {
			t.Fatalf("glossary: %s pattern %q: %v", lang, p, err)
		}
		out = append(out, re)
	}
	return out
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func hasPrefix(id string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

func sortedIDs(m map[string]string) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// A word the glossary forbids appears in no message of its language (or of
// the keys it names): tr örgüt, ku bûyer, ar تسجيل الدخول at the door …
func TestCataloguesAvoidTheGlossarysForbiddenWords(t *testing.T) {
	t.Parallel()
	g := loadGlossary(t)
	if len(g.Forbidden) == 0 {
		t.Fatal("glossary lists no forbidden words")
	}
	for _, f := range g.Forbidden {
		res := compile(t, f.Lang, []string{f.Word})
		msgs, low := messages(t, f.Lang), folded(t, f.Lang)
		for _, id := range sortedIDs(msgs) {
			if len(f.Keys) > 0 && !hasPrefix(id, f.Keys) {
				continue
			}
			if anyMatch(res, low[id]) {
				t.Errorf("%s %s: %q (%s): %s", f.Lang, id, f.Word, f.Why, msgs[id])
			}
		}
	}
}

// Where the glossary names a language's word for a term, every message that
// speaks of the term (its German text names it, or it is one of the term's
// keys) uses that word, not a synonym that drifted in with a later key.
func TestCataloguesUseTheGlossarysTerms(t *testing.T) {
	t.Parallel()
	g := loadGlossary(t)
	de, deLow := messages(t, "de"), folded(t, "de")
	names := make([]string, 0, len(g.Term))
	for name := range g.Term {
		names = append(names, name)
	}
	sort.Strings(names)
	ids := sortedIDs(de)
	for _, name := range names {
		term := g.Term[name]
		if len(term.Match) == 0 || (len(term.DE) == 0 && len(term.Keys) == 0) {
			t.Errorf("glossary term %s: needs match and de or keys", name)
			continue
		}
		// The messages that speak of the term are the same in every language.
		source := compile(t, "de", term.DE)
		var speak []string
		for _, id := range ids {
			if anyMatch(source, deLow[id]) || contains(term.Keys, id) {
				speak = append(speak, id)
			}
		}
		for _, lang := range config.Languages {
			pats, ok := term.Match[lang]
			if !ok {
				continue
			}
			want := compile(t, lang, pats)
			msgs, low := messages(t, lang), folded(t, lang)
			for _, id := range speak {
				if contains(term.Except[lang], id) {
					continue
				}
				if !anyMatch(want, low[id]) {
					t.Errorf("%s %s: the glossary's word for %s is %q: %s", lang, id, name, term.Say[lang], msgs[id])
				}
			}
		}
	}
}

// German speaks to everyone as du. A capitalised Sie, Ihnen or Ihr… in the
// middle of a sentence, or a verb followed by Sie ("beantworten Sie"), is the
// formal address that slipped in. A sentence may still start with "Sie" (they).
var (
	formalMidRE  = regexp.MustCompile(`[^.!?:»“"\s]\s+(Sie|Ihnen|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihres)\b`)
	formalVerbRE = regexp.MustCompile(`\p{L}+(en|st) (Sie|Ihnen)\b`)
)

func TestGermanSaysDuNotSie(t *testing.T) {
	de := messages(t, "de")
	for _, id := range sortedIDs(de) {
		s := de[id]
		if m := formalVerbRE.FindString(s); m != "" {
			t.Errorf("de %s uses the formal address (%q): %s", id, m, s)
		} else if m := formalMidRE.FindStringSubmatch(s); m != nil {
			t.Errorf("de %s uses the formal address (%q): %s", id, m[1], s)
		}
	}
}
