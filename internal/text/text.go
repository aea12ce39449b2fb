// Package text checks user-supplied strings: valid UTF-8, no NUL or other
// control characters, no line breaks where a header could be injected, and
// a length limit counted in characters.
package text

import (
	"net/mail"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Problem returns a message id describing what is wrong with s as a
// single-line field of at most maxLen characters, or "" when it is fine.
func Problem(s string, maxLen int) string {
	return check(s, maxLen, false)
}

// ProblemMultiline is Problem for fields that may hold line breaks and tabs.
func ProblemMultiline(s string, maxLen int) string {
	return check(s, maxLen, true)
}

func check(s string, maxLen int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "err.text.utf8"
	}
	if utf8.RuneCountInString(s) > maxLen {
		return "err.text.too_long"
	}
	for _, r := range s {
		if r == 0 {
			return "err.text.control"
		}
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "err.text.control"
		}
	}
	return ""
}

// MaxEmail is the longest address accepted, in octets (RFC 5321's path
// limit less the angle brackets). Callers that only look an address up
// refuse longer input before doing anything else with it.
const MaxEmail = 254

// Email validates a single bare address (no display name, no line breaks,
// at most MaxEmail octets) and returns it in the form to store, or a message
// id. An address must look like what its owner types: invisible characters
// (zero-width, bidi controls), spaces and compatibility forms (full-width
// letters, ligatures: whatever NFKC would change) are refused, so that two
// addresses that look alike are one address. The domain is stored
// lower-case, an internationalised one in its ASCII (punycode) form, and an
// IP literal ([1.2.3.4]) or bare IP address is refused: people have names,
// not addresses, for their mail. The local part is kept as typed (NFC).
func Email(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "err.required"
	}
	if len(s) > MaxEmail {
		return "", "err.email.too_long"
	}
	if p := Problem(s, MaxEmail); p != "" {
		return "", p
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			return "", "err.email.invisible"
		case unicode.IsSpace(r):
			return "", "err.email.space"
		}
	}
	s = norm.NFC.String(s)
	if norm.NFKC.String(s) != s {
		return "", "err.email.compat"
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "", "err.email"
	}
	local, domain := s[:at], s[at+1:]
	if strings.HasPrefix(domain, "[") {
		return "", "err.email.ip_literal"
	}
	if _, err := netip.ParseAddr(domain); err == nil {
		return "", "err.email.ip_literal"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || strings.ContainsAny(s, ",;<>\"") {
		return "", "err.email"
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || !validDomain(ascii) {
		return "", "err.email.domain"
	}
	s = local + "@" + ascii
	if len(s) > MaxEmail {
		return "", "err.email.too_long"
	}
	return s, ""
}

// validDomain reports whether d (ASCII, lower-case, as idna returns it) is a
// host name with at least two labels of at most 63 octets each, none
// empty, and a top-level label that is not a number.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}
