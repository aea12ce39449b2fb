package web_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// The list counts every status, searches names and emails in any script
// and case, and filters by status.
func TestAttendeeListCountsSearchesAndFilters(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	admSignUp(t, w.App, "fest-a", "Jürgen Müller", "juergen@example.org", 1)
	if _, err := w.Registrations.CancelByOrganiser(t.Context(), w.A.Event.ID, w.A.Waitlisted.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE id = (SELECT min(id) FROM tickets WHERE registration_id = $1)`, w.A.Confirmed.ID); err != nil {
		t.Fatal(err)
	}
	c := w.client(w.A.Organiser)
	_, page := c.Get("/admin/orgs/a/events/fest-a/registrations")
	for id, want := range map[string]string{
		"count-seats": "2 / 2", "count-confirmed": "1", "count-waitlisted": "1",
		"count-pending": "0", "count-cancelled": "1", "count-checked-in": "1",
	} {
		if !strings.Contains(page, `id="`+id+`">`+want+`<`) {
			t.Errorf("%s is not %q", id, want)
		}
	}
	for _, name := range []string{"Ayşe Yılmaz", "Иван Петров", "Jürgen Müller"} {
		if !strings.Contains(page, name) {
			t.Errorf("list lacks %s", name)
		}
	}
	for q, want := range map[string][]string{
		"AYŞE":        {"Ayşe Yılmaz"},
		"иван":        {"Иван Петров"},
		"juergen@":    {"Jürgen Müller"},
		"example.org": {"Jürgen Müller"},
		"@a.example":  {"Ayşe Yılmaz", "Иван Петров"},
	} {
		_, page := c.Get("/admin/orgs/a/events/fest-a/registrations?q=" + urlQuery(q))
		if n := strings.Count(page, "<tr data-id="); n != len(want) {
			t.Errorf("search %q: %d rows, want %d", q, n, len(want))
		}
		for _, name := range want {
			if !strings.Contains(page, name) {
				t.Errorf("search %q lacks %s", q, name)
			}
		}
	}
	_, page = c.Get("/admin/orgs/a/events/fest-a/registrations?status=waitlisted")
	if strings.Count(page, "<tr data-id=") != 1 || !strings.Contains(page, "Jürgen Müller") {
		t.Errorf("filter waitlisted")
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer("@", "%40", " ", "+").Replace(s)
}

// Cancelling from the list frees the seats and moves the waitlist up in the
// same step; moving up by hand confirms a party that fits and refuses one
// that does not, saying how many seats are free.
func TestAttendeeCancelAndMoveUpKeepTheCapacityRule(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	base := "/admin/orgs/a/events/fest-a/registrations/"
	resp, page := c.post(base+strconv.FormatInt(w.A.Waitlisted.ID, 10)+"/move-up", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "0 frei") {
		t.Fatalf("move up without room: %d", resp.StatusCode)
	}
	resp, _ = c.post(base+strconv.FormatInt(w.A.Confirmed.ID, 10)+"/move-up", nil)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("move up of a confirmed party: %d", resp.StatusCode)
	}
	resp, _ = c.post(base+strconv.FormatInt(w.A.Confirmed.ID, 10)+"/cancel", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	r, err := w.Registrations.ByToken(t.Context(), w.A.Waitlisted.ManageToken)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != registration.Confirmed || len(r.Tickets) != 1 {
		t.Fatalf("the waitlisted party did not move up: %s", r.Status)
	}
	if n := w.Count(t, `SELECT seats_confirmed FROM events WHERE id = $1`, w.A.Event.ID); n != 1 {
		t.Fatalf("seats = %d, want 1", n)
	}

	// On an unpublished event the waitlist does not move by itself; an
	// organiser moves a party up by hand when it fits.
	o := w.A.Org
	e := w.Event(t, o, "klein", func(in *event.Input) { in.Capacity = event.Some(1) })
	first := admSignUp(t, w.App, "klein", "Omid", "omid@example.org", 1)
	second := admSignUp(t, w.App, "klein", "Lena", "lena@example.org", 1)
	draft := event.Draft
	if _, err := w.Events.Update(t.Context(), o.ID, "klein", event.Input{Status: &draft}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Registrations.CancelByOrganiser(t.Context(), e.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.post("/admin/orgs/a/events/klein/registrations/"+strconv.FormatInt(second.ID, 10)+"/move-up", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("move up: %d", resp.StatusCode)
	}
	r, _ = w.Registrations.ByToken(t.Context(), second.ManageToken)
	if r.Status != registration.Confirmed || len(r.Tickets) != 1 {
		t.Fatalf("moved up: %s, %d tickets", r.Status, len(r.Tickets))
	}
	if n := w.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'klein'`); n != 1 {
		t.Fatalf("seats = %d", n)
	}
}

// admNames are the names the exports must keep intact: German, Turkish,
// Cyrillic and Arabic, and one that a spreadsheet would run as a formula.
var admNames = []string{"Jürgen Müller-Groß", "Ayşe Yılmaz", "Иван Петров", "فاطمة الزهراء", `=HYPERLINK("http://evil.example")`}

func admExportWorld(t *testing.T) (*admWorld, *admClient) {
	w := admNewWorld(t)
	e := w.Event(t, w.A.Org, "export", func(in *event.Input) { in.Capacity = event.Some(3) })
	for i, name := range admNames {
		admSignUp(t, w.App, e.Slug, name, "p"+strconv.Itoa(i)+"@example.org", 1)
	}
	return w, w.client(w.A.Organiser)
}

func admDownload(t *testing.T, c *admClient, path string) ([]byte, http.Header) {
	t.Helper()
	resp, err := c.Client.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d\n%.300s", path, resp.StatusCode, b)
	}
	return b, resp.Header
}

// Both CSV flavours read back with encoding/csv: BOM, header, every name
// intact, the formula defused; the ';' flavour splits as German Excel does.
func TestCSVExportsReadBackWithEveryScriptIntact(t *testing.T) {
	t.Parallel()
	_, c := admExportWorld(t)
	for sep, comma := range map[string]rune{"": ',', "semicolon": ';'} {
		body, h := admDownload(t, c, "/admin/orgs/a/events/export/registrations.csv?sep="+sep)
		if h.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(h.Get("Content-Disposition"), `filename="export-registrations.csv"`) {
			t.Errorf("headers %v", h)
		}
		if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
			t.Fatalf("sep %q: no byte order mark", sep)
		}
		r := csv.NewReader(bytes.NewReader(body[3:]))
		r.Comma = comma
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("sep %q: %v", sep, err)
		}
		if got := strings.Join(rows[0], ","); got != strings.Join(registration.ExportColumns, ",") {
			t.Fatalf("header %q", got)
		}
		if len(rows) != 1+len(admNames) {
			t.Fatalf("rows %d", len(rows))
		}
		for i, name := range admNames {
			want := name
			if strings.HasPrefix(name, "=") {
				want = "'" + name
			}
			row := rows[1+i]
			if row[1] != want || row[2] != "p"+strconv.Itoa(i)+"@example.org" {
				t.Errorf("sep %q row %d: %q %q, want %q", sep, i, row[1], row[2], want)
			}
			wantStatus := "confirmed"
			if i >= 3 {
				wantStatus = "waitlisted"
			}
			if row[5] != wantStatus || (wantStatus == "waitlisted") != (row[6] != "") {
				t.Errorf("sep %q row %d: status %q position %q", sep, i, row[5], row[6])
			}
		}
		if !bytes.Contains(body, []byte("\r\n")) {
			t.Errorf("no CRLF line ends")
		}
	}
	// The list as filtered on the page is what is exported.
	body, _ := admDownload(t, c, "/admin/orgs/a/events/export/registrations.csv?status=waitlisted")
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("filtered export: %d rows, %v", len(rows), err)
	}
}

// The workbook opens with excelize: the same columns, every name intact
// and stored as text (no formula), numbers as numbers.
func TestXLSXExportReadsBackWithEveryScriptIntact(t *testing.T) {
	t.Parallel()
	_, c := admExportWorld(t)
	body, h := admDownload(t, c, "/admin/orgs/a/events/export/registrations.xlsx")
	if h.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", h.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != strings.Join(registration.ExportColumns, ",") {
		t.Fatalf("header %q", got)
	}
	if len(rows) != 1+len(admNames) {
		t.Fatalf("rows %d", len(rows))
	}
	for i, name := range admNames {
		if rows[1+i][1] != name {
			t.Errorf("row %d: %q, want %q", i, rows[1+i][1], name)
		}
		cell, _ := excelize.CoordinatesToCellName(2, 2+i)
		if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
			t.Errorf("%s holds a formula %q", cell, formula)
		}
	}
	if typ, _ := f.GetCellType(sheet, "E2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("party_size is stored as %v", typ)
	}
}
