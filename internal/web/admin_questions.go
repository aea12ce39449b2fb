package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
)

// questionSlot is one question in the questions editor, as typed. Options
// are edited as lines: the values in one box, and per language the labels
// in the same order, one per line.
type questionSlot struct {
	N        int
	Pos      string
	Key      string
	Type     string
	Required bool
	Door     bool
	Remove   bool
	Label    map[string]string
	Values   string
	Options  map[string]string
}

// Num is the slot's number as the page shows it.
func (q questionSlot) Num() int { return q.N + 1 }

// blank reports a slot the organiser left empty (a spare one).
func (q questionSlot) blank() bool {
	if q.Key != "" || strings.TrimSpace(q.Values) != "" {
		return false
	}
	for _, s := range q.Label {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

type questionsPage struct {
	adminFrame
	Event     *event.Event
	Title     string
	TitleLang string // set when the title is not in the page's language
	Slots     []questionSlot
	Types     []option
	Languages []option
	Errors    map[string]string
	ErrorList []fieldError
	Problem   string
}

// spareSlots are the empty questions the editor offers below the others.
const spareSlots = 2

func slotsFromEvent(e *event.Event) []questionSlot {
	var out []questionSlot
	for i, q := range e.Questions {
		s := questionSlot{N: i, Pos: strconv.Itoa(i + 1), Key: q.Key, Type: q.Type, Required: q.Required, Door: q.Door,
			Label: map[string]string{}, Options: map[string]string{}}
		var values []string
		for _, o := range q.Options {
			values = append(values, o.Value)
		}
		s.Values = strings.Join(values, "\n")
		for _, lang := range config.Languages {
			s.Label[lang] = q.Label[lang]
			var labels []string
			for _, o := range q.Options {
				labels = append(labels, o.Label[lang])
			}
			if strings.Join(labels, "") != "" {
				s.Options[lang] = strings.Join(labels, "\n")
			}
		}
		out = append(out, s)
	}
	return withSpares(out)
}

func withSpares(slots []questionSlot) []questionSlot {
	for i := 0; i < spareSlots && len(slots) < event.MaxQuestions; i++ {
		n := len(slots)
		slots = append(slots, questionSlot{N: n, Pos: strconv.Itoa(n + 1), Type: event.QText, Label: map[string]string{}, Options: map[string]string{}})
	}
	return slots
}

func readQuestionSlots(c *gin.Context) []questionSlot {
	clean := func(name string) string { return strings.ToValidUTF8(c.PostForm(name), "") }
	count, _ := strconv.Atoi(c.PostForm("count"))
	count = min(max(count, 0), event.MaxQuestions+spareSlots)
	out := make([]questionSlot, 0, count)
	for n := range count {
		p := "q" + strconv.Itoa(n) + "_"
		s := questionSlot{
			N: n, Pos: strings.TrimSpace(clean(p + "pos")), Key: strings.TrimSpace(clean(p + "key")), Type: clean(p + "type"),
			Required: c.PostForm(p+"required") != "", Door: c.PostForm(p+"door") != "", Remove: c.PostForm(p+"remove") != "",
			Values: clean(p + "values"), Label: map[string]string{}, Options: map[string]string{},
		}
		for _, lang := range config.Languages {
			s.Label[lang] = clean(p + "label_" + lang)
			s.Options[lang] = clean(p + "options_" + lang)
		}
		out = append(out, s)
	}
	return out
}

func lines(s string) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n ")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// questionsOf turns the slots into the event's questions in the order of
// their positions, and says which slot each question came from.
func questionsOf(slots []questionSlot) (event.Questions, []int) {
	kept := make([]questionSlot, 0, len(slots))
	for _, s := range slots {
		if !s.Remove && !s.blank() {
			kept = append(kept, s)
		}
	}
	pos := func(s questionSlot) int {
		n, err := strconv.Atoi(s.Pos)
		if err != nil {
			return s.N + 1
		}
		return n
	}
	sort.SliceStable(kept, func(i, j int) bool { return pos(kept[i]) < pos(kept[j]) })
	qs := make(event.Questions, 0, len(kept))
	from := make([]int, 0, len(kept))
	for _, s := range kept {
		q := event.Question{Key: s.Key, Type: s.Type, Required: s.Required, Door: s.Door, Label: event.Texts{}}
		for lang, v := range s.Label {
			q.Label[lang] = v
		}
		perLang := map[string][]string{}
		for lang, v := range s.Options {
			perLang[lang] = lines(v)
		}
		for i, v := range lines(s.Values) {
			o := event.Option{Value: strings.TrimSpace(v), Label: event.Texts{}}
			for lang, ls := range perLang {
				if i < len(ls) {
					o.Label[lang] = ls[i]
				}
			}
			q.Options = append(q.Options, o)
		}
		qs = append(qs, q)
		from = append(from, s.N)
	}
	return qs, from
}

// slotField maps an error field of the service (questions.2.options.1.label.en)
// to the editor's field (q5_options_en) and says what to call it.
func slotField(field string, from []int, def string) (string, string, int) {
	parts := strings.Split(field, ".")
	if len(parts) < 3 {
		return "questions", "", -1
	}
	i, err := strconv.Atoi(parts[1])
	if err != nil || i < 0 || i >= len(from) {
		return "questions", "", -1
	}
	p := "q" + strconv.Itoa(from[i]) + "_"
	lang := def
	switch parts[2] {
	case "key":
		return p + "key", "admin.questions.key", from[i]
	case "type":
		return p + "type", "admin.questions.type", from[i]
	case "label":
		if len(parts) > 3 {
			lang = parts[3]
		}
		return p + "label_" + lang, "admin.questions.label", from[i]
	case "options":
		if len(parts) > 4 && parts[4] == "label" {
			if len(parts) > 5 {
				lang = parts[5]
			}
			return p + "options_" + lang, "admin.questions.option_labels", from[i]
		}
		return p + "values", "admin.questions.values", from[i]
	}
	return "questions", "", -1
}

func (s *server) renderQuestions(c *gin.Context, status int, e *event.Event, slots []questionSlot, from []int, fail error) {
	l := localizer(c)
	title, tl := e.Title.In(l.Lang, e.DefaultLang)
	p := questionsPage{adminFrame: frame(c, "events"), Event: e, Title: title, TitleLang: otherLang(l, tl), Slots: slots}
	for _, t := range event.QuestionTypes {
		p.Types = append(p.Types, option{t, l.T("admin.qtype."+t, nil)})
	}
	for _, lang := range config.Languages {
		p.Languages = append(p.Languages, option{lang, languageNames[lang]})
	}
	if fail != nil {
		ae := apperr.From(fail)
		if len(ae.Fields) == 0 {
			p.Problem = l.T(ae.Msg.ID, ae.Msg.Data)
		} else {
			p.Errors = map[string]string{}
			names := make([]string, 0, len(ae.Fields))
			for f := range ae.Fields {
				names = append(names, f)
			}
			sort.Strings(names)
			type found struct {
				slot  int
				field string
				err   fieldError
			}
			var list []found
			for _, f := range names {
				field, label, slot := slotField(f, from, e.DefaultLang)
				if _, dup := p.Errors[field]; dup {
					continue
				}
				m := ae.Fields[f]
				msg := l.T(m.ID, m.Data)
				p.Errors[field] = msg
				name := l.T("admin.questions.heading", nil)
				if slot >= 0 {
					name = l.T("admin.questions.n", map[string]any{"N": slot + 1}) + " – " + l.T(label, nil)
				}
				list = append(list, found{slot, field, fieldError{Field: field, Label: name, Message: msg}})
			}
			sort.SliceStable(list, func(i, j int) bool { return list[i].slot < list[j].slot })
			for _, x := range list {
				p.ErrorList = append(p.ErrorList, x.err)
			}
		}
	}
	s.render(c, status, "admin_questions", title, p)
}

// questionsForm is GET /admin/orgs/:org/events/:slug/questions.
func (s *server) questionsForm(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderQuestions(c, http.StatusOK, e, slotsFromEvent(e), nil, nil)
}

// saveQuestions is POST …/questions: the whole list is replaced, through
// event.Service.Update, which validates it.
func (s *server) saveQuestions(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	slots := readQuestionSlots(c)
	qs, from := questionsOf(slots)
	saved, err := s.Events.Update(c.Request.Context(), principal(c).OrgID, e.Slug, event.Input{Questions: &qs})
	if err != nil {
		ae := apperr.From(err)
		switch ae.Code {
		case apperr.Invalid, apperr.Conflict:
			s.renderQuestions(c, httpcode.Of(ae), e, slots, from, err)
		default:
			_ = c.Error(err)
		}
		return
	}
	s.flash(c, "admin.questions.saved")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+saved.Slug+"/questions")
}
