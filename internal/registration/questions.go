package registration

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/text"
)

// Answers are a registration's answers to its event's questions, keyed by
// question key: a string (text, single choice), a list of strings (multiple
// choice), a bool (yes/no) or a number. Stored as jsonb; personal data.
type Answers map[string]any

// Value implements driver.Valuer.
func (a Answers) Value() (driver.Value, error) {
	if a == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any(a))
}

// Scan implements sql.Scanner.
func (a *Answers) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		if s, isStr := src.(string); isStr {
			b = []byte(s)
		} else {
			return errors.New("answers: unsupported type")
		}
	}
	return json.Unmarshal(b, (*map[string]any)(a))
}

// maxNumber bounds number answers: far beyond any count or age, well inside
// what every spreadsheet shows exactly.
const maxNumber = 1e9

// checkAnswers validates the answers in against the event's questions and
// returns them cleaned (texts trimmed, empty answers dropped, multiple
// choices in the options' order). Each problem is named answers.<key>. A
// pure function of the event and the input: it runs before the event's
// lock is taken as well as under it.
func checkAnswers(qs event.Questions, in map[string]any, f apperr.Fields) Answers {
	out := Answers{}
	known := make(map[string]bool, len(qs))
	for i := range qs {
		q := &qs[i]
		known[q.Key] = true
		field := "answers." + q.Key
		v, ok := in[q.Key]
		if ok && v != nil {
			var msg string
			v, msg = checkAnswer(q, v)
			if msg != "" {
				f.Add(field, msg, "Max", event.MaxAnswerLen)
				continue
			}
		}
		if v == nil {
			if q.Required {
				f.Add(field, "err.answer_required")
			}
			continue
		}
		out[q.Key] = v
	}
	for k := range in {
		if !known[k] {
			f.Add("answers."+k, "err.answer_unknown")
		}
	}
	return out
}

// checkAnswer checks one given answer; nil with no message means "not
// answered" (an empty text, an empty list).
func checkAnswer(q *event.Question, v any) (any, string) {
	switch q.Type {
	case event.QText:
		s, ok := v.(string)
		if !ok {
			return nil, "err.answer_text"
		}
		s = strings.TrimSpace(s)
		if p := text.ProblemMultiline(s, event.MaxAnswerLen); p != "" {
			return nil, p
		}
		if s == "" {
			return nil, ""
		}
		return s, ""
	case event.QSingleChoice:
		s, ok := v.(string)
		if !ok {
			return nil, "err.answer_choice"
		}
		if s == "" {
			return nil, ""
		}
		if q.Option(s) == nil {
			return nil, "err.answer_option"
		}
		return s, ""
	case event.QMultipleChoice:
		list, ok := v.([]any)
		if !ok {
			return nil, "err.answer_choices"
		}
		chosen := map[string]bool{}
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return nil, "err.answer_choices"
			}
			if q.Option(s) == nil {
				return nil, "err.answer_option"
			}
			chosen[s] = true
		}
		var out []any
		for _, o := range q.Options {
			if chosen[o.Value] {
				out = append(out, o.Value)
			}
		}
		if len(out) == 0 {
			return nil, ""
		}
		return out, ""
	case event.QYesNo:
		b, ok := v.(bool)
		if !ok {
			return nil, "err.answer_yes_no"
		}
		return b, ""
	case event.QNumber:
		n, ok := v.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, "err.answer_number"
		}
		if math.Abs(n) > maxNumber {
			return nil, "err.answer_number_range"
		}
		return n, ""
	}
	// A type the event no longer validates cannot be answered.
	return nil, "err.answer_unknown"
}

// formAnswers reads the answers a sign-up form posts (SignupInput.FormAnswers) into
// the shape the API sends: texts and choices as strings, multiple choices as a list, yes/no
// as a bool, a number as a number. A value that does not fit (a number
// field holding words) is passed on as it is, so that the service names it.
// Answers to questions the event no longer asks are dropped: a form loaded
// before the organiser removed a question must still go through.
func formAnswers(qs event.Questions, raw url.Values) map[string]any {
	out := map[string]any{}
	for _, q := range qs {
		vals := raw[q.Key]
		if len(vals) == 0 {
			continue
		}
		first := strings.TrimSpace(vals[0])
		switch q.Type {
		case event.QMultipleChoice:
			list := make([]any, 0, len(vals))
			for _, v := range vals {
				list = append(list, v)
			}
			out[q.Key] = list
		case event.QYesNo:
			switch first {
			case "":
			case "yes":
				out[q.Key] = true
			case "no":
				out[q.Key] = false
			default:
				out[q.Key] = first
			}
		case event.QNumber:
			if first == "" {
				continue
			}
			if n, err := strconv.ParseFloat(strings.Replace(first, ",", ".", 1), 64); err == nil {
				out[q.Key] = n
			} else {
				out[q.Key] = first
			}
		default:
			out[q.Key] = vals[0]
		}
	}
	return out
}
