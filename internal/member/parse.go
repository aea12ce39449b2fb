package member

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/text"
)

// Row is one member as uploaded, before it is stored. Line is where it came
// from: the line of a CSV file, or the place (from 1) in a JSON list.
type Row struct {
	Line         int
	Name         string
	Email        string
	MemberNumber string
	ValidUntil   *time.Time
}

// MaxRows bounds one upload; the largest member organisations of the
// network have a few thousand members.
const MaxRows = 50000

// maxErrors bounds the errors reported for one upload: a file in the wrong
// format would otherwise produce one per line.
const maxErrors = 100

// Columns of the CSV file, in the order DESIGN.md names them.
var Columns = []string{"name", "email", "member_number", "valid_until"}

// ParseCSV reads a member list: a header row naming the columns (any order,
// any case; valid_until may be left out), then one member per line. The
// separator is ',' or ';' (what German Excel writes), whichever the header
// uses; a UTF-8 byte order mark is skipped. Every bad line is reported with
// its line number, as fields "line.N" or "line.N.<column>".
func ParseCSV(r io.Reader) ([]Row, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	}
	// The header line decides the separator; it is far shorter than this.
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, apperr.Wrap(err, "read member list")
	}
	cr := csv.NewReader(br)
	cr.Comma = separator(head)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	f := apperr.Fields{}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, apperr.Field("file", "err.member_file_empty")
	}
	if err != nil {
		f.Add("line.1", "err.member_csv_syntax")
		return nil, f.Err()
	}
	cols, ok := columnIndex(f, header)
	if !ok {
		return nil, f.Err()
	}
	var rows []Row
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			addCapped(f, fmt.Sprintf("line.%d", pe.StartLine), "err.member_csv_syntax")
			if len(f) >= maxErrors {
				break
			}
			continue
		}
		if err != nil {
			return nil, apperr.Wrap(err, "read member list")
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(rows) >= MaxRows {
			f.Add(fmt.Sprintf("line.%d", line), "err.member_too_many", "Max", MaxRows)
			break
		}
		cell := func(col string) string {
			if i, ok := cols[col]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		row := Row{Line: line, Name: cell("name"), Email: cell("email"), MemberNumber: cell("member_number")}
		if len(rec) > len(header) {
			addCapped(f, fmt.Sprintf("line.%d", line), "err.member_columns", "Count", len(header))
			continue
		}
		prefix := fmt.Sprintf("line.%d.", line)
		checkRow(f, prefix, &row, cell("valid_until"), seen)
		if len(f) >= maxErrors {
			break
		}
		rows = append(rows, row)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// separator picks ';' when the header line has more of them than commas.
func separator(head []byte) rune {
	if i := bytes.IndexAny(head, "\r\n"); i >= 0 {
		head = head[:i]
	}
	if bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
		return ';'
	}
	return ','
}

func columnIndex(f apperr.Fields, header []string) (map[string]int, bool) {
	cols := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		name = strings.ReplaceAll(name, " ", "_")
		known := false
		for _, c := range Columns {
			if name == c {
				known = true
			}
		}
		if !known {
			f.Add("line.1", "err.member_unknown_column", "Column", strings.ToValidUTF8(h, "?"))
			return nil, false
		}
		if _, dup := cols[name]; dup {
			f.Add("line.1", "err.member_duplicate_column", "Column", name)
			return nil, false
		}
		cols[name] = i
	}
	_, hasName := cols["name"]
	_, hasEmail := cols["email"]
	_, hasNumber := cols["member_number"]
	if !hasName || (!hasEmail && !hasNumber) {
		f.Add("line.1", "err.member_header")
		return nil, false
	}
	return cols, true
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func addCapped(f apperr.Fields, field, msgID string, kv ...any) {
	if len(f) < maxErrors {
		f.Add(field, msgID, kv...)
	}
}

// checkRow trims and checks one member; prefix names its fields ("line.7."
// or "members.6."). seen maps the keys so far to where they were, so that a
// member twice in one list is reported.
func checkRow(f apperr.Fields, prefix string, row *Row, validUntil string, seen map[string]int) {
	row.Name = strings.TrimSpace(row.Name)
	row.MemberNumber = strings.TrimSpace(row.MemberNumber)
	row.Email = strings.TrimSpace(row.Email)
	if row.Name == "" {
		addCapped(f, prefix+"name", "err.required")
	} else if p := text.Problem(row.Name, 200); p != "" {
		addCapped(f, prefix+"name", p, "Max", 200)
	}
	if row.Email != "" {
		addr, p := text.Email(row.Email)
		if p != "" {
			addCapped(f, prefix+"email", p)
		}
		row.Email = addr
	}
	if p := text.Problem(row.MemberNumber, 64); p != "" {
		addCapped(f, prefix+"member_number", p, "Max", 64)
	}
	if row.Email == "" && row.MemberNumber == "" {
		addCapped(f, prefix+"email", "err.member_no_key")
	}
	if d, ok := parseDate(validUntil); !ok {
		addCapped(f, prefix+"valid_until", "err.member_date")
	} else {
		row.ValidUntil = d
	}
	if k := key(row.Email, row.MemberNumber); k != "" && utf8.ValidString(k) {
		if first, dup := seen[k]; dup {
			field := prefix + "member_number"
			if row.MemberNumber == "" {
				field = prefix + "email"
			}
			addCapped(f, field, "err.member_duplicate", "Line", first)
		} else {
			seen[k] = row.Line
		}
	}
}

// parseDate reads YYYY-MM-DD or DD.MM.YYYY (what German Excel writes); an
// empty value means no end date.
func parseDate(s string) (*time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	for _, layout := range []string{time.DateOnly, "02.01.2006", "2.1.2006"} {
		if d, err := time.Parse(layout, s); err == nil && d.Year() >= 1900 && d.Year() <= 2200 {
			return &d, true
		}
	}
	return nil, false
}

// key identifies a member across uploads: the member number when there is
// one, else the email address.
func key(email, number string) string {
	switch {
	case number != "":
		return "n:" + number
	case email != "":
		return "e:" + strings.ToLower(email)
	}
	return ""
}
