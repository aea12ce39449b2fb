// Package text checks user-supplied strings: valid UTF-8, no NUL or other
// control characters, no line breaks where a header could be injected, and
// a length limit counted in characters.
package text

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
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

// Email validates a single bare address (no display name, no line breaks,
// at most 254 characters) and returns it trimmed, or a message id.
func Email(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "err.required"
	}
	if p := Problem(s, 254); p != "" {
		return "", p
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", "err.email"
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.ContainsAny(s, " ,;<>\"") {
		return "", "err.email"
	}
	return s, ""
}
