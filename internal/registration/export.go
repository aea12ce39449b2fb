package registration

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/xuri/excelize/v2"

	"treffpunkt/internal/event"
)

// Table is an attendee list for spreadsheets: the one set of columns that
// the CSV and XLSX exports of the organisers' area and the API share.
type Table struct {
	Header []string
	// Rows hold strings, ints, or nil for an empty cell.
	Rows [][]any
}

// ExportColumns are the columns every export has (docs/api.md); one column
// "answer:<key>" per question of the event follows them, in the event's
// order.
var ExportColumns = []string{"id", "name", "email", "lang", "party_size", "status", "waitlist_position", "created_at", "ticket_codes", "checked_in", "walk_in", "changed_at"}

// ExportTable builds the attendee list of event e for spreadsheets:
// created_at in the event's time zone, ticket codes separated by spaces,
// checked_in the number of the registration's tickets checked in,
// changed_at when the participant last changed it (empty when never). Answers
// are written in the event's default language; numbers stay numbers.
func (s *Service) ExportTable(ctx context.Context, e *event.Event, rs []*Registration) (*Table, error) {
	t := &Table{Header: append([]string(nil), ExportColumns...)}
	for _, q := range e.Questions {
		t.Header = append(t.Header, "answer:"+q.Key)
	}
	if len(e.Sessions) > 0 {
		t.Header = append(t.Header, "sessions")
	}
	loc := e.Location()
	for _, r := range rs {
		codes := make([]string, len(r.Tickets))
		checkedIn := 0
		for i, tk := range r.Tickets {
			codes[i] = tk.Code
			if tk.CheckedInAt != nil {
				checkedIn++
			}
		}
		var pos any
		if r.Status == Waitlisted && r.WaitlistPosition > 0 {
			pos = r.WaitlistPosition
		}
		row := []any{
			r.ID, r.Name, r.Email, r.Lang, r.PartySize, r.Status, pos,
			r.CreatedAt.In(loc).Format(time.RFC3339), strings.Join(codes, " "), checkedIn, yesNo(r.WalkIn), changedCell(r, loc),
		}
		for i := range e.Questions {
			row = append(row, answerCell(&e.Questions[i], r.Answers[e.Questions[i].Key], e.DefaultLang))
		}
		if len(e.Sessions) > 0 {
			row = append(row, sessionsCell(r))
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// changedCell is when the participant last changed the registration, in
// the event's time zone, or an empty cell.
func changedCell(r *Registration, loc *time.Location) any {
	if r.ChangedAt == nil {
		return nil
	}
	return r.ChangedAt.In(loc).Format(time.RFC3339)
}

// yesNo is a flag as a cell: "yes" or "no".
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// answerCell is an answer as one cell: a number as a number, yes/no as
// "yes"/"no", choices by their labels, nothing for no answer.
func answerCell(q *event.Question, v any, lang string) any {
	switch v := v.(type) {
	case nil:
		return nil
	case float64:
		if v == math.Trunc(v) {
			return int64(v)
		}
		return v
	}
	if s := q.AnswerText(v, lang, lang, "yes", "no"); s != "" {
		return s
	}
	return nil
}

// WriteCSV writes the table as CSV that Excel opens correctly: UTF-8 with a
// byte order mark (without it Excel reads umlauts and Arabic as Latin-1),
// RFC 4180 quoting, CRLF line ends. comma is ',' or ';' — German Excel
// splits columns at ';' only.
func WriteCSV(w io.Writer, t *Table, comma rune) error {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(&buf)
	cw.Comma = comma
	cw.UseCRLF = true
	_ = cw.Write(t.Header)
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			switch v := v.(type) {
			case nil:
			case string:
				cells[i] = defuseFormula(v)
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		_ = cw.Write(cells)
	}
	cw.Flush() // into a bytes.Buffer, which cannot fail
	_, err := w.Write(buf.Bytes())
	return err
}

// defuseFormula defends against CSV formula injection: a spreadsheet runs a
// cell that starts with = + - @ (or a tab or CR before one) as a formula, so
// such a text gets a leading apostrophe and stays text. Numbers are written
// as numbers and need no defence.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteXLSX writes the table as an Excel workbook with one sheet: a bold,
// frozen header row and typed cells (numbers as numbers). Texts are stored
// as texts, never as formulas, so they need no defence.
func WriteXLSX(w io.Writer, t *Table, sheet string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet = sheetName(sheet)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx style: %w", err)
	}
	if err := sw.SetColWidth(1, len(t.Header), 18); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	head := make([]any, len(t.Header))
	for i, h := range t.Header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i, row := range t.Rows {
		cells := make([]any, len(row))
		for k, v := range row {
			if s, ok := v.(string); ok {
				v = xlsxText(s)
			}
			cells[k] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, cells); err != nil {
			return fmt.Errorf("xlsx row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return f.Write(w)
}

// sheetName makes s a valid sheet name: at most 31 characters, none of
// : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '-'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	if s == "" {
		s = "Sheet1"
	}
	return s
}

// xlsxText drops what XML cannot hold and cuts at Excel's cell limit.
func xlsxText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > 32767 {
		s = string(r[:32767])
	}
	return s
}
