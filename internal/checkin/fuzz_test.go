package checkin

import (
	"strings"
	"testing"
)

// FuzzTicketCode feeds arbitrary scanner input to the code parser: it never
// panics, never returns more than 100 bytes, and never a slash from a URL;
// and a real ticket code (base32, as registration makes them) comes back
// unchanged bare, inside its ticket URL with or without a trailing slash,
// query or fragment, and with whitespace around. Seed corpus:
// testdata/fuzz/FuzzTicketCode; `make fuzz` runs it briefly.
func FuzzTicketCode(f *testing.F) {
	f.Add("https://treffpunkt.example/t/ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	f.Add("  /t//t/%2F?x#/t/y ", "Q2RSTUV")
	f.Add("http://[::1/t/x", "234567")
	f.Add(strings.Repeat("/t/", 50), strings.Repeat("A", 40))
	f.Add("\x00\xff/t/\u202e", "")
	f.Fuzz(func(t *testing.T, raw, code string) {
		got := ticketCode(raw)
		if len(got) > 100 {
			t.Fatalf("ticketCode(%q) is %d bytes", raw, len(got))
		}
		if strings.Contains(raw, "/t/") && strings.Contains(got, "/") {
			t.Fatalf("ticketCode(%q) = %q keeps a slash", raw, got)
		}

		code = strings.Map(func(r rune) rune {
			if (r >= 'A' && r <= 'Z') || (r >= '2' && r <= '7') {
				return r
			}
			return -1
		}, strings.ToUpper(code))
		if code == "" || len(code) > 100 {
			return
		}
		for _, in := range []string{
			code, " " + code + "\n",
			"https://treffpunkt.example/t/" + code,
			"https://treffpunkt.example/t/" + code + "/",
			"https://treffpunkt.example/t/" + code + "?src=qr",
			"https://treffpunkt.example/t/" + code + "#top",
			"\thttp://localhost:8080/sub/t/" + code + "/qr.svg ",
		} {
			if got := ticketCode(in); got != code {
				t.Fatalf("ticketCode(%q) = %q, want %q", in, got, code)
			}
		}
	})
}
