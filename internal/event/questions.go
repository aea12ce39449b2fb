package event

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"treffpunkt/internal/apperr"
)

// Question types (docs/organisers.md, "Questions").
const (
	QText           = "text"
	QSingleChoice   = "single_choice"
	QMultipleChoice = "multiple_choice"
	QYesNo          = "yes_no"
	QNumber         = "number"
)

// QuestionTypes lists the question types in the order editors offer them.
var QuestionTypes = []string{QText, QSingleChoice, QMultipleChoice, QYesNo, QNumber}

// Limits of question definitions: enough for a sign-up form on a phone,
// small enough that every list and export stays readable.
const (
	MaxQuestions   = 20
	MaxOptions     = 30
	MaxLabelLen    = 300
	MaxOptionLen   = 200
	MaxAnswerLen   = 1000 // characters of a text answer
	minChoiceCount = 2
)

// Question is one extra question an event asks at sign-up. Label and the
// options' labels are per language and fall back to the event's default
// language like titles do. Door questions are shown to door staff at
// check-in.
type Question struct {
	Key      string   `json:"key"`
	Type     string   `json:"type"`
	Label    Texts    `json:"label"`
	Required bool     `json:"required"`
	Door     bool     `json:"door"`
	Options  []Option `json:"options,omitempty"`
}

// Option is one choice of a choice question; Value is what answers hold.
type Option struct {
	Value string `json:"value"`
	Label Texts  `json:"label"`
}

// Choice reports whether the question's answers are options.
func (q *Question) Choice() bool { return q.Type == QSingleChoice || q.Type == QMultipleChoice }

// Option returns the option with value v, or nil.
func (q *Question) Option(v string) *Option {
	for i := range q.Options {
		if q.Options[i].Value == v {
			return &q.Options[i]
		}
	}
	return nil
}

// AnswerText is an answer as a line of text in lang (else def): option
// labels for choices, the number as written, yes and no as given; "" for no
// answer or a value of another type (the question changed after the
// answer was given).
func (q *Question) AnswerText(v any, lang, def, yes, no string) string {
	label := func(s string) string {
		if o := q.Option(s); o != nil {
			t, _ := o.Label.In(lang, def)
			return t
		}
		return s
	}
	switch v := v.(type) {
	case string:
		if q.Choice() {
			return label(v)
		}
		return v
	case bool:
		if v {
			return yes
		}
		return no
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		out := ""
		for i, x := range v {
			s, _ := x.(string)
			if i > 0 {
				out += ", "
			}
			out += label(s)
		}
		return out
	}
	return ""
}

// Questions is an event's list of questions in the order the form asks
// them, stored as jsonb.
type Questions []Question

// Value implements driver.Valuer.
func (qs Questions) Value() (driver.Value, error) {
	if qs == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Question(qs))
}

// Scan implements sql.Scanner.
func (qs *Questions) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		if s, isStr := src.(string); isStr {
			b = []byte(s)
		} else {
			return errors.New("questions: unsupported type")
		}
	}
	return json.Unmarshal(b, (*[]Question)(qs))
}

var (
	questionKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	optionValueRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
)

// checkQuestions validates the question definitions of an event whose
// default language is def, naming each bad field as questions.N.field.
func checkQuestions(f apperr.Fields, qs Questions, def string) {
	if len(qs) > MaxQuestions {
		f.Add("questions", "err.questions_max", "Max", MaxQuestions)
		return
	}
	keys := map[string]bool{}
	for i, q := range qs {
		p := "questions." + strconv.Itoa(i) + "."
		switch {
		case q.Key == "":
			f.Add(p+"key", "err.required")
		case !questionKeyRE.MatchString(q.Key):
			f.Add(p+"key", "err.question_key")
		case keys[q.Key]:
			f.Add(p+"key", "err.question_key_taken")
		}
		keys[q.Key] = true
		if !validType(q.Type) {
			f.Add(p+"type", "err.choice")
		}
		checkTexts(f, p+"label", q.Label, MaxLabelLen, false)
		if q.Label[def] == "" {
			f.Add(p+"label", "err.label_default_lang")
		}
		if !q.Choice() {
			if len(q.Options) > 0 {
				f.Add(p+"options", "err.options_not_allowed")
			}
			continue
		}
		if len(q.Options) < minChoiceCount || len(q.Options) > MaxOptions {
			f.Add(p+"options", "err.options_count", "Min", minChoiceCount, "Max", MaxOptions)
		}
		values := map[string]bool{}
		for k, o := range q.Options {
			op := p + "options." + strconv.Itoa(k) + "."
			switch {
			case o.Value == "":
				f.Add(op+"value", "err.required")
			case !optionValueRE.MatchString(o.Value):
				f.Add(op+"value", "err.option_value")
			case values[o.Value]:
				f.Add(op+"value", "err.option_value_taken")
			}
			values[o.Value] = true
			checkTexts(f, op+"label", o.Label, MaxOptionLen, false)
			if o.Label[def] == "" {
				f.Add(op+"label", "err.label_default_lang")
			}
		}
	}
}

func validType(t string) bool { return slices.Contains(QuestionTypes, t) }

// trimQuestions trims keys, values and labels as other texts are trimmed.
func trimQuestions(qs Questions) Questions {
	out := make(Questions, len(qs))
	for i, q := range qs {
		q.Label = trimTexts(q.Label)
		opts := make([]Option, len(q.Options))
		for k, o := range q.Options {
			opts[k] = Option{Value: strings.TrimSpace(o.Value), Label: trimTexts(o.Label)}
		}
		if len(opts) == 0 {
			opts = nil
		}
		q.Key, q.Type, q.Options = strings.TrimSpace(q.Key), strings.TrimSpace(q.Type), opts
		out[i] = q
	}
	return out
}
