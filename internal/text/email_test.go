package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestEmailRefusesInvisibleLookAlikeAndIPLiteralAddresses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "err.required"},
		{"   ", "err.required"},
		{"abc@example.org\u200b", "err.email.invisible"}, // zero-width space
		{"ab\u200dc@example.org", "err.email.invisible"}, // zero-width joiner
		{"\u202eabc@example.org", "err.email.invisible"}, // right-to-left override
		{"abc@exa\u2066mple.org", "err.email.invisible"}, // left-to-right isolate
		{"abc\u00ad@example.org", "err.email.invisible"}, // soft hyphen
		{"abc@example.org\ufeff", "err.email.invisible"}, // byte order mark
		{"a b@example.org", "err.email.space"},
		{"ab\u00a0c@example.org", "err.email.space"},           // no-break space
		{"ab\u3000c@example.org", "err.email.space"},           // ideographic space
		{"\uff41\uff42\uff43@example.org", "err.email.compat"}, // ａｂｃ (full width)
		{"abc@ｅxample.org", "err.email.compat"},
		{"\ufb01nn@example.org", "err.email.compat"}, // ﬁ ligature
		{"abc@example.org\u2122", "err.email.compat"},
		{"a@[127.0.0.1]", "err.email.ip_literal"},
		{"a@[IPv6:::1]", "err.email.ip_literal"},
		{"a@127.0.0.1", "err.email.ip_literal"},
		{"a@example", "err.email.domain"},
		{"a@exa_mple.org", "err.email.domain"},
		{"a@-example.org", "err.email.domain"},
		{"a@example.123", "err.email.domain"},
		{"a@" + strings.Repeat("x", 64) + ".org", "err.email.domain"},
		{"not an address", "err.email.space"},
		{"no-at-sign.example.org", "err.email"},
		{"@example.org", "err.email"},
		{"a@@example.org", "err.email"},
		{"Anna <anna@example.org>", "err.email.space"},
		{"<anna@example.org>", "err.email"},
		{"a\"b@example.org", "err.email"},
		{"a,b@example.org", "err.email"},
		{"a\x00b@example.org", "err.text.control"},
		{"a\nb@example.org", "err.text.control"},
		{"a\xffb@example.org", "err.text.utf8"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".org", "err.email.too_long"},
		{strings.Repeat("a", 60_000) + "@example.org", "err.email.too_long"},
	} {
		got, p := Email(tc.in)
		if p != tc.want || got != "" {
			t.Errorf("Email(%+q) = %q, %q; want %q", tc.in, got, p, tc.want)
		}
	}
}

func TestEmailStoresDomainsLowerCaseAndPunycode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"anna@example.org", "anna@example.org"},
		{"  Anna@Example.ORG ", "Anna@example.org"},
		{"anna@bücher.example", "anna@xn--bcher-kva.example"},
		{"anna@BÜCHER.example", "anna@xn--bcher-kva.example"},
		{"anna@bu\u0308cher.example", "anna@xn--bcher-kva.example"}, // decomposed ü
		{"anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example"},
		{"anna@straße.de", "anna@xn--strae-oqa.de"}, // not "strasse": non-transitional
		{"مريم@مثال.example", "مريم@xn--mgbh0fb.example"},
		{"мария@пример.рф", "мария@xn--e1afmkfd.xn--p1ai"},
		{"ali.yilmaz+treffpunkt@sub.example.org", "ali.yilmaz+treffpunkt@sub.example.org"},
	} {
		got, p := Email(tc.in)
		if p != "" || got != tc.want {
			t.Errorf("Email(%+q) = %q, %q; want %q", tc.in, got, p, tc.want)
		}
		if again, p := Email(got); again != got || p != "" {
			t.Errorf("Email(%q) is not stable: %q, %q", got, again, p)
		}
	}
}

// FuzzEmail: whatever comes in, an accepted address is valid UTF-8, at most
// MaxEmail octets, NFKC-stable, free of spaces and format characters, has an
// ASCII lower-case domain, and is accepted unchanged when checked again.
func FuzzEmail(f *testing.F) {
	for _, s := range []string{
		"anna@example.org", "Anna@Example.ORG", "anna@bücher.example", "a@[127.0.0.1]",
		"abc@example.org\u200b", "\u202eabc@example.org", "ａｂｃ@example.org", "a b@example.org",
		"мария@пример.рф", "a@xn--bcher-kva.example", "\"a b\"@example.org", "a@b@example.org",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, p := Email(in)
		if p != "" {
			if out != "" {
				t.Fatalf("refused (%s) but returned %q", p, out)
			}
			return
		}
		if !utf8.ValidString(out) || len(out) > MaxEmail || norm.NFKC.String(out) != out {
			t.Fatalf("accepted %q", out)
		}
		for _, r := range out {
			if r == ' ' || r < 0x20 || strings.ContainsRune("\u200b\u200d\u202e\ufeff\u00a0", r) {
				t.Fatalf("accepted %q with %U", out, r)
			}
		}
		domain := out[strings.LastIndexByte(out, '@')+1:]
		for _, r := range domain {
			if r > 0x7f || r >= 'A' && r <= 'Z' {
				t.Fatalf("domain %q is not lower-case ASCII", domain)
			}
		}
		if again, p := Email(out); again != out || p != "" {
			t.Fatalf("Email(%q) = %q, %q: not stable", out, again, p)
		}
	})
}
