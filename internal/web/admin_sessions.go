package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// The sessions editor (issue 18) follows the questions editor: one
// fieldset per session with its texts in every language side by side, two
// spare ones below, a position to reorder, the whole list saved through
// event.Service.Update, which validates it (errors name sessions.N.field
// and come back on the slot they were typed in).

// sessionSlot is one session in the editor, as typed.
type sessionSlot struct {
	N           int
	Pos         string
	Key         string
	Starts      string // datetime-local in the event's zone
	Ends        string
	Room        string
	Capacity    string
	Waitlist    bool
	Cancelled   bool
	Remove      bool
	Title       map[string]string
	Description map[string]string
	// Taken and Waiting are the counts of a stored session, to see
	// before changing it.
	Taken, Waiting int
	Stored         bool
}

// Num is the slot's number as the page shows it.
func (s sessionSlot) Num() int { return s.N + 1 }

func (s sessionSlot) blank() bool {
	if s.Key != "" || s.Starts != "" || s.Ends != "" || s.Room != "" || s.Capacity != "" {
		return false
	}
	for _, m := range []map[string]string{s.Title, s.Description} {
		for _, v := range m {
			if strings.TrimSpace(v) != "" {
				return false
			}
		}
	}
	return true
}

type sessionsPage struct {
	adminFrame
	Event       *event.Event
	Title       string
	TitleLang   string // set when the title is not in the page's language
	Slots       []sessionSlot
	MaxSessions string
	Languages   []option
	Errors      map[string]string
	ErrorList   []fieldError
	Problem     string
}

func sessionSlotsFromEvent(e *event.Event) []sessionSlot {
	loc := e.Location()
	out := make([]sessionSlot, 0, len(e.Sessions)+spareSlots)
	for i, s := range e.Sessions {
		sl := sessionSlot{N: i, Pos: strconv.Itoa(i + 1), Key: s.Key, Room: s.Room, Waitlist: s.Waitlist,
			Cancelled: s.Status == event.SessionCancelled, Title: map[string]string{}, Description: map[string]string{},
			Starts: s.StartsAt.In(loc).Format(dateTimeLocal), Ends: s.EndsAt.In(loc).Format(dateTimeLocal),
			Taken: s.SeatsConfirmed, Waiting: s.WaitlistLength, Stored: true}
		if s.Capacity != nil {
			sl.Capacity = strconv.Itoa(*s.Capacity)
		}
		for _, lang := range config.Languages {
			sl.Title[lang], sl.Description[lang] = s.Title[lang], s.Description[lang]
		}
		out = append(out, sl)
	}
	for i := 0; i < spareSlots && len(out) < event.MaxSessions; i++ {
		n := len(out)
		out = append(out, sessionSlot{N: n, Pos: strconv.Itoa(n + 1), Waitlist: true, Title: map[string]string{}, Description: map[string]string{}})
	}
	return out
}

func readSessionSlots(c *gin.Context) []sessionSlot {
	clean := func(name string) string { return strings.TrimSpace(strings.ToValidUTF8(c.PostForm(name), "")) }
	count, _ := strconv.Atoi(c.PostForm("count"))
	count = min(max(count, 0), event.MaxSessions+spareSlots)
	out := make([]sessionSlot, 0, count)
	for n := range count {
		p := "s" + strconv.Itoa(n) + "_"
		s := sessionSlot{N: n, Pos: clean(p + "pos"), Key: clean(p + "key"), Starts: clean(p + "starts"), Ends: clean(p + "ends"),
			Room: clean(p + "room"), Capacity: clean(p + "capacity"), Waitlist: c.PostForm(p+"waitlist") != "",
			Cancelled: c.PostForm(p+"cancelled") != "", Remove: c.PostForm(p+"remove") != "",
			Title: map[string]string{}, Description: map[string]string{}}
		for _, lang := range config.Languages {
			s.Title[lang], s.Description[lang] = clean(p+"title_"+lang), clean(p+"description_"+lang)
		}
		out = append(out, s)
	}
	return out
}

// sessionsInput turns the slots into the event's sessions in the order of
// their positions, says which slot each came from, and names what cannot
// be read (a time, a number) by the slot's own field.
func sessionsInput(slots []sessionSlot, loc *time.Location) ([]event.SessionInput, []int, apperr.Fields) {
	bad := apperr.Fields{}
	kept := make([]sessionSlot, 0, len(slots))
	for _, s := range slots {
		if !s.Remove && !s.blank() {
			kept = append(kept, s)
		}
	}
	pos := func(s sessionSlot) int {
		if n, err := strconv.Atoi(s.Pos); err == nil {
			return n
		}
		return s.N + 1
	}
	sort.SliceStable(kept, func(i, j int) bool { return pos(kept[i]) < pos(kept[j]) })
	out := make([]event.SessionInput, 0, len(kept))
	from := make([]int, 0, len(kept))
	for _, s := range kept {
		p := "s" + strconv.Itoa(s.N) + "_"
		in := event.SessionInput{Key: s.Key, Room: s.Room, Title: event.Texts{}, Description: event.Texts{}, Waitlist: new(s.Waitlist)}
		for lang, v := range s.Title {
			in.Title[lang] = v
		}
		for lang, v := range s.Description {
			in.Description[lang] = v
		}
		for field, v := range map[string]string{"starts": s.Starts, "ends": s.Ends} {
			if v == "" {
				continue
			}
			t, err := time.ParseInLocation(dateTimeLocal, v, loc)
			if err != nil {
				bad.Add(p+field, "err.datetime_local")
				continue
			}
			if field == "starts" {
				in.StartsAt = &t
			} else {
				in.EndsAt = &t
			}
		}
		if s.Capacity != "" {
			n, err := strconv.Atoi(s.Capacity)
			if err != nil {
				bad.Add(p+"capacity", "err.number")
			}
			in.Capacity = &n
		}
		in.Status = event.SessionActive
		if s.Cancelled {
			in.Status = event.SessionCancelled
		}
		out = append(out, in)
		from = append(from, s.N)
	}
	return out, from, bad
}

// sessionSlotField maps an error field of the service (sessions.2.title.en)
// to the editor's field (s5_title_en) and says what to call it.
func sessionSlotField(field string, from []int, def string) (string, string, int) {
	parts := strings.Split(field, ".")
	if field == "max_sessions" {
		return "max_sessions", "admin.sessions.max", -1
	}
	if len(parts) < 2 || parts[0] != "sessions" {
		return "sessions", "", -1
	}
	i, err := strconv.Atoi(parts[1])
	if err != nil || i < 0 {
		return "sessions", "", -1
	}
	if len(parts) == 2 {
		// A stored session that cannot be dropped: its own slot.
		return "s" + strconv.Itoa(i) + "_remove", "admin.sessions.remove", i
	}
	if i >= len(from) {
		return "sessions", "", -1
	}
	p := "s" + strconv.Itoa(from[i]) + "_"
	lang := def
	if len(parts) > 3 {
		lang = parts[3]
	}
	switch parts[2] {
	case "key":
		return p + "key", "admin.questions.key", from[i]
	case "starts_at":
		return p + "starts", "admin.sessions.starts", from[i]
	case "ends_at":
		return p + "ends", "admin.sessions.ends", from[i]
	case "room":
		return p + "room", "admin.sessions.room", from[i]
	case "capacity":
		return p + "capacity", "admin.sessions.capacity", from[i]
	case "status":
		return p + "cancelled", "admin.sessions.cancelled", from[i]
	case "title":
		return p + "title_" + lang, "admin.sessions.title", from[i]
	case "description":
		return p + "description_" + lang, "admin.sessions.description", from[i]
	}
	return "sessions", "", -1
}

func (s *server) renderSessions(c *gin.Context, status int, e *event.Event, slots []sessionSlot, maxSessions string, from []int, fail error) {
	l := localizer(c)
	title, tl := e.Title.In(l.Lang, e.DefaultLang)
	p := sessionsPage{adminFrame: frame(c, "events"), Event: e, Title: title, TitleLang: otherLang(l, tl), Slots: slots, MaxSessions: maxSessions}
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
			for _, f := range names {
				field, label, slot := f, "", -1
				if !strings.HasPrefix(f, "s") || strings.HasPrefix(f, "sessions") {
					field, label, slot = sessionSlotField(f, from, e.DefaultLang)
				} else if n, err := strconv.Atoi(strings.TrimPrefix(strings.SplitN(f, "_", 2)[0], "s")); err == nil {
					slot, label = n, "admin.sessions.heading"
				}
				if _, dup := p.Errors[field]; dup {
					continue
				}
				m := ae.Fields[f]
				msg := l.T(m.ID, m.Data)
				p.Errors[field] = msg
				name := l.T("admin.sessions.heading", nil)
				if slot >= 0 && label != "" {
					name = l.T("admin.sessions.n", map[string]any{"N": slot + 1}) + " – " + l.T(label, nil)
				} else if label != "" {
					name = l.T(label, nil)
				}
				p.ErrorList = append(p.ErrorList, fieldError{Field: field, Label: name, Message: msg})
			}
		}
	}
	s.render(c, status, "admin_sessions", title, p)
}

// sessionsForm is GET /admin/orgs/:org/events/:slug/sessions.
func (s *server) sessionsForm(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	max := ""
	if e.MaxSessions != nil {
		max = strconv.Itoa(*e.MaxSessions)
	}
	s.renderSessions(c, http.StatusOK, e, sessionSlotsFromEvent(e), max, nil, nil)
}

// saveSessions is POST …/sessions: the whole list is replaced, through
// event.Service.Update, which validates it and tells the people of a
// cancelled session.
func (s *server) saveSessions(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	slots := readSessionSlots(c)
	for i := range slots {
		// A stored session is offered cancel and remove again.
		if st := e.Sessions.ByKey(slots[i].Key); st != nil {
			slots[i].Stored, slots[i].Taken, slots[i].Waiting = true, st.SeatsConfirmed, st.WaitlistLength
		}
	}
	maxText := strings.TrimSpace(c.PostForm("max_sessions"))
	in, from, bad := sessionsInput(slots, e.Location())
	input := event.Input{Sessions: &in, MaxSessions: event.Null[int]{Set: true}}
	if maxText != "" {
		n, err := strconv.Atoi(maxText)
		if err != nil {
			bad.Add("max_sessions", "err.number")
		}
		input.MaxSessions = event.Some(n)
	}
	if len(bad) > 0 {
		s.renderSessions(c, http.StatusUnprocessableEntity, e, slots, maxText, from, bad.Err())
		return
	}
	saved, err := s.Events.Update(c.Request.Context(), principal(c).OrgID, e.Slug, input)
	if err != nil {
		ae := apperr.From(err)
		switch ae.Code {
		case apperr.Invalid, apperr.Conflict:
			s.renderSessions(c, httpcode.Of(ae), e, slots, maxText, from, err)
		default:
			_ = c.Error(err)
		}
		return
	}
	s.flash(c, "admin.sessions.saved")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+saved.Slug+"/sessions")
}

// sessionCount is a session's figures on the organisers' pages.
type sessionCount struct {
	Key, Title     string
	Taken, Waiting int
	Capacity       *int
	Cancelled      bool
}

func sessionCounts(l *i18n.Localizer, e *event.Event) []sessionCount {
	out := make([]sessionCount, len(e.Sessions))
	for i, s := range e.Sessions {
		title, _ := s.Title.In(l.Lang, e.DefaultLang)
		out[i] = sessionCount{Key: s.Key, Title: title, Taken: s.SeatsConfirmed, Waiting: s.WaitlistLength,
			Capacity: s.Capacity, Cancelled: s.Status == event.SessionCancelled}
	}
	return out
}

// choicesText is a registration's sessions as one line of the attendee
// list: the keys, each with its standing unless it holds a place.
func choicesText(l *i18n.Localizer, r *registration.Registration) string {
	parts := make([]string, len(r.Sessions))
	for i, c := range r.Sessions {
		parts[i] = c.Key
		switch c.Status {
		case registration.SessionWaitlisted:
			parts[i] += " (" + l.T("mail.session.waitlisted", map[string]any{"Position": c.WaitlistPosition}) + ")"
		case registration.SessionRequested:
			parts[i] += " (" + l.T("admin.sessions.requested", nil) + ")"
		}
	}
	return strings.Join(parts, ", ")
}
