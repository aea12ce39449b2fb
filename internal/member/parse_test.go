package member

import (
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/apperr"
)

func fields(t *testing.T, err error) map[string]string {
	t.Helper()
	ae := apperr.From(err)
	if ae.Code != apperr.Invalid {
		t.Fatalf("error %v, want invalid", err)
	}
	out := map[string]string{}
	for f, m := range ae.Fields {
		out[f] = m.ID
	}
	return out
}

func TestParseCSVTakesExcelFilesWithEitherSeparator(t *testing.T) {
	t.Parallel()
	for name, file := range map[string]string{
		"comma":              "name,email,member_number,valid_until\nAyşe Yılmaz,ayse@example.org,M-1,2027-12-31\n",
		"semicolon with BOM": "\uFEFFname;email;member_number;valid_until\r\nAyşe Yılmaz;ayse@example.org;M-1;31.12.2027\r\n",
		"columns reordered":  "Valid Until,Member Number,EMAIL,Name\n31.12.2027,M-1, ayse@example.org ,Ayşe Yılmaz\n\n",
	} {
		rows, err := ParseCSV(strings.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)
		if len(rows) != 1 || rows[0].Name != "Ayşe Yılmaz" || rows[0].Email != "ayse@example.org" || rows[0].MemberNumber != "M-1" ||
			rows[0].ValidUntil == nil || !rows[0].ValidUntil.Equal(want) || rows[0].Line != 2 {
			t.Errorf("%s: %+v", name, rows)
		}
	}
}

func TestParseCSVNamesEveryBadLine(t *testing.T) {
	t.Parallel()
	_, err := ParseCSV(strings.NewReader("name;email;member_number\n" +
		"Gut;gut@example.org;\n" +
		"\"Zeilen\numbruch\";nope;\n" +
		"Ohne;;\n" +
		"Eins;eins@example.org;7\n" +
		"Zwei;;7\n" +
		"Drei;DREI@example.org;\n" +
		"Vier;drei@example.org;\n" +
		"Fünf;f@example.org;;;\n"))
	got := fields(t, err)
	want := map[string]string{
		"line.3.email":         "err.email",
		"line.3.name":          "err.text.control",
		"line.5.email":         "err.member_no_key",
		"line.7.member_number": "err.member_duplicate",
		"line.9.email":         "err.member_duplicate",
		"line.10":              "err.member_columns",
	}
	for f, id := range want {
		if got[f] != id {
			t.Errorf("%s: %q, want %q", f, got[f], id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v", got)
	}
}

func TestParseCSVRefusesWhatIsNotAMemberList(t *testing.T) {
	t.Parallel()
	for file, field := range map[string]string{
		"":                             "file",
		"\uFEFF":                       "file",
		"name,phone\nA,1\n":            "line.1",
		"email,valid_until\na@b.de,\n": "line.1",
		"name,name,email\n":            "line.1",
		"name,email\n\"A,a@b.de\n":     "line.2",
	} {
		_, err := ParseCSV(strings.NewReader(file))
		if got := fields(t, err); got[field] == "" {
			t.Errorf("%q: errors %v, want one on %s", file, got, field)
		}
	}
}
