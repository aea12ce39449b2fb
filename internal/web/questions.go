package web

import (
	"net/url"
	"slices"
	"strings"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// answerPrefix starts the form names of the answers: answers.<key>, the
// same name the error fields carry.
const answerPrefix = "answers."

// questionView is one question of the sign-up form in the reader's
// language, with what the person entered before.
type questionView struct {
	Key       string
	Type      string
	Label     string
	LabelLang string // lang of the label when it is not in the reader's language
	Required  bool
	Options   []choiceView
	// Value is the text or number entered, or "yes"/"no".
	Value string
}

type choiceView struct {
	Value, Label string
	Checked      bool
}

// Field is the name of the form field and of its errors.
func (q questionView) Field() string { return answerPrefix + q.Key }

// questionViews renders the event's questions for the form; raw holds the
// values posted before, by question key.
func questionViews(l *i18n.Localizer, e *event.Event, raw url.Values) []questionView {
	out := make([]questionView, 0, len(e.Questions))
	for _, q := range e.Questions {
		v := questionView{Key: q.Key, Type: q.Type, Required: q.Required, Value: strings.ToValidUTF8(strings.Join(raw[q.Key], ""), "")}
		var lang string
		v.Label, lang = q.Label.In(l.Lang, e.DefaultLang)
		if lang != l.Lang {
			v.LabelLang = lang
		}
		if q.Type == event.QYesNo {
			v.Options = []choiceView{
				{Value: "yes", Label: l.T("form.answer_yes", nil)},
				{Value: "no", Label: l.T("form.answer_no", nil)},
			}
		}
		for _, o := range q.Options {
			label, _ := o.Label.In(l.Lang, e.DefaultLang)
			v.Options = append(v.Options, choiceView{Value: o.Value, Label: label})
		}
		for i := range v.Options {
			v.Options[i].Checked = slices.Contains(raw[q.Key], v.Options[i].Value)
		}
		out = append(out, v)
	}
	return out
}

// postedAnswers collects the form's answers.<key> values by key.
func postedAnswers(form url.Values) url.Values {
	out := url.Values{}
	for name, vals := range form {
		if key, ok := strings.CutPrefix(name, answerPrefix); ok && key != "" {
			out[key] = vals
		}
	}
	return out
}

// answerView is one answer as a page shows it.
type answerView struct {
	Label string
	Text  string
}

// answerViews lists the registration's answers in the order of the
// event's questions, in the reader's language; unanswered questions show
// as empty texts when all is set (tables need every column).
func answerViews(l *i18n.Localizer, e *event.Event, r *registration.Registration, all bool) []answerView {
	return answersWhere(l, e, r, all, false)
}

// doorAnswerViews lists the answers to the questions marked for door staff.
func doorAnswerViews(l *i18n.Localizer, e *event.Event, r *registration.Registration) []answerView {
	return answersWhere(l, e, r, false, true)
}

func answersWhere(l *i18n.Localizer, e *event.Event, r *registration.Registration, all, door bool) []answerView {
	var out []answerView
	yes, no := l.T("form.answer_yes", nil), l.T("form.answer_no", nil)
	for i := range e.Questions {
		q := &e.Questions[i]
		if door && !q.Door {
			continue
		}
		text := q.AnswerText(r.Answers[q.Key], l.Lang, e.DefaultLang, yes, no)
		if text == "" && !all {
			continue
		}
		label, _ := q.Label.In(l.Lang, e.DefaultLang)
		out = append(out, answerView{Label: label, Text: text})
	}
	return out
}
