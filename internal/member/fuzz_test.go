package member

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"treffpunkt/internal/apperr"
)

// FuzzParseCSV feeds arbitrary files to the member-list import. Every file
// is either refused as invalid (a 422 naming lines, never an internal
// error) or read into rows that are complete (a name, and an email or a
// member number), trimmed, valid UTF-8, without duplicates, on increasing
// lines — and that survive being written out as CSV and read again
// unchanged. Seed corpus: testdata/fuzz/FuzzParseCSV; `make fuzz` runs it
// briefly.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("name,email,member_number,valid_until\nAyşe Yılmaz,ayse@example.org,M-1,2027-12-31\nBob,,M-2,\n"))
	f.Add([]byte("\xEF\xBB\xBFName;E-Mail;Member Number\nA;a@example.org;1\n"))
	f.Add([]byte("Name;Email;Valid Until\n\"Kaya, Deniz\";deniz@example.org;31.12.2027\n\n;;\n"))
	f.Add([]byte("name,email\n\"unterminated,a@b\n"))
	f.Add([]byte("name,member_number\nA,1\nB,1\nC,2,extra\n"))
	f.Add([]byte("name,email\r\n\"multi\r\nline\",x@example.org\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseCSV(bytes.NewReader(data))
		if err != nil {
			ae := apperr.From(err)
			if ae.Code != apperr.Invalid || len(ae.Fields) == 0 || len(ae.Fields) > maxErrors+1 {
				t.Fatalf("error %v (%d fields), want invalid with 1..%d fields", err, len(ae.Fields), maxErrors+1)
			}
			return
		}
		checkRows(t, rows)

		// Written back as CSV, the rows read the same.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(Columns)
		for _, r := range rows {
			until := ""
			if r.ValidUntil != nil {
				until = r.ValidUntil.Format(time.DateOnly)
			}
			_ = w.Write([]string{r.Name, r.Email, r.MemberNumber, until})
		}
		w.Flush()
		again, err := ParseCSV(&buf)
		if err != nil {
			t.Fatalf("rows written back do not read again: %v\n%q", err, buf.String())
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows read back as %d", len(rows), len(again))
		}
		for i := range rows {
			a, b := rows[i], again[i]
			if a.Name != b.Name || a.Email != b.Email || a.MemberNumber != b.MemberNumber ||
				(a.ValidUntil == nil) != (b.ValidUntil == nil) || (a.ValidUntil != nil && !a.ValidUntil.Equal(*b.ValidUntil)) {
				t.Fatalf("row %d read back as %+v, was %+v", i, b, a)
			}
		}
	})
}

func checkRows(t *testing.T, rows []Row) {
	t.Helper()
	seen := map[string]bool{}
	last := 1
	for _, r := range rows {
		if r.Line <= last {
			t.Fatalf("row on line %d after line %d", r.Line, last)
		}
		last = r.Line
		if r.Name == "" || (r.Email == "" && r.MemberNumber == "") {
			t.Fatalf("incomplete row %+v", r)
		}
		for _, s := range []string{r.Name, r.Email, r.MemberNumber} {
			if s != strings.TrimSpace(s) || !utf8.ValidString(s) {
				t.Fatalf("untrimmed or invalid text in %+v", r)
			}
		}
		if r.Email != "" && !strings.Contains(r.Email, "@") {
			t.Fatalf("email %q accepted", r.Email)
		}
		k := key(r.Email, r.MemberNumber)
		if seen[k] {
			t.Fatalf("duplicate member %q", k)
		}
		seen[k] = true
	}
}
