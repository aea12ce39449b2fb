package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// changeForm is the form on /r/{token} that changes a registration
// (registration.Service.Change): what it shows, or what was posted.
type changeForm struct {
	Name      string
	PartySize string
	Lang      string
}

// changeFields are the change form's fields in page order (the answers
// come between party size and language), with the message id of the label
// the error summary names them by.
var changeFields = []struct{ name, label string }{
	{"name", "form.name"},
	{"party_size", "form.party_size"},
	{"sessions", "form.sessions"},
	{"lang", "reg.change_lang"},
}

// answersMarker is posted by a change form that shows the event's
// questions: without it an unticked choice would look like no answer
// given at all.
const answersMarker = "answers_shown"

// sessionsMarker is posted by a change form that offers the sessions, for
// the same reason: no box ticked is a choice of none.
const sessionsMarker = "sessions_shown"

// registrationPageData is what /r/{token} shows of r on e, with the change
// form filled from r.
func (s *server) registrationPageData(c *gin.Context, r *registration.Registration, e *event.Event) (registrationPage, error) {
	feed, err := s.personalFeedFor(c, r)
	if err != nil {
		return registrationPage{}, err
	}
	l := localizer(c)
	now := s.Registrations.Now()
	live := r.Status == registration.Confirmed || r.Status == registration.Waitlisted || r.Status == registration.Pending ||
		r.Status == registration.Applied
	return registrationPage{
		Registration: r, Event: newEventView(l, e, time.Now()), Calendar: feed,
		Answers: answerViews(l, e, r, false), RetentionDays: s.Config.RetentionDays,
		Attended:  attended(r),
		Sessions:  choiceViews(l, e, r),
		Offered:   offeredSessions(l, e, liveKeys(r)),
		CanChange: live && e.Status == event.Published && now.Before(e.StartsAt),
		Form:      changeForm{Name: r.Name, PartySize: strconv.Itoa(r.PartySize), Lang: r.Lang},
		Questions: questionViews(l, e, answerValues(e, r.Answers)),
		Changed:   c.Query("changed") != "",
	}, nil
}

// answerValues are stored answers as the form shows them (formAnswers in
// reverse): texts and choices as given, yes/no as "yes"/"no", numbers as
// typed.
func answerValues(e *event.Event, a registration.Answers) url.Values {
	out := url.Values{}
	for _, q := range e.Questions {
		switch v := a[q.Key].(type) {
		case string:
			out.Set(q.Key, v)
		case bool:
			out.Set(q.Key, map[bool]string{true: "yes", false: "no"}[v])
		case float64:
			out.Set(q.Key, strconv.FormatFloat(v, 'f', -1, 64))
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					out.Add(q.Key, s)
				}
			}
		}
	}
	return out
}

// changeRegistration takes the change form of /r/{token}: on success back to
// the page, which says so; on a problem the page again with the form as
// posted and the fields marked, in the page's language. A field the form
// did not post stays as it is.
func (s *server) changeRegistration(c *gin.Context) {
	token := c.Param("token")
	if err := c.Request.ParseForm(); err != nil {
		_ = c.Error(bodyError(err))
		return
	}
	posted := c.Request.PostForm
	var in registration.ChangeInput
	if _, ok := posted["name"]; ok {
		v := posted.Get("name")
		in.Name = &v
	}
	if _, ok := posted["lang"]; ok {
		v := posted.Get("lang")
		in.Lang = &v
	}
	partyOK := true
	if _, ok := posted["party_size"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(posted.Get("party_size")))
		if err != nil {
			// Checked by the service as an impossible size, so that the
			// other fields are checked too and nothing is written; the
			// message is the form's own.
			n, partyOK = 0, false
		}
		in.PartySize = &n
	}
	if posted.Get(answersMarker) != "" {
		in.FormAnswers = postedAnswers(posted)
	}
	if posted.Get(sessionsMarker) != "" {
		keys := append([]string{}, posted["session"]...)
		in.Sessions = &keys
	}
	_, err := s.Registrations.Change(c.Request.Context(), token, in)
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/r/"+token+"?changed=1#change")
		return
	}
	ae := apperr.From(err)
	if !partyOK && ae.Code == apperr.Invalid {
		ae.Fields["party_size"] = apperr.M("err.number")
	}
	switch ae.Code {
	case apperr.Invalid, apperr.Full, apperr.SessionFull, apperr.Closed, apperr.Conflict:
	default:
		_ = c.Error(err)
		return
	}
	p, e, err := s.registrationPageByToken(c, token)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	p.Form = changeForm{
		Name:      strings.ToValidUTF8(posted.Get("name"), ""),
		PartySize: strings.ToValidUTF8(posted.Get("party_size"), ""),
		Lang:      strings.ToValidUTF8(posted.Get("lang"), ""),
	}
	if in.FormAnswers != nil {
		p.Questions = questionViews(l, e, in.FormAnswers)
	}
	if in.Sessions != nil {
		p.Offered = offeredSessions(l, e, *in.Sessions)
	}
	p.markErrors(l, ae)
	c.Header("Referrer-Policy", "no-referrer")
	s.render(c, httpcode.Of(ae), "registration", l.T("title.error", nil)+": "+l.T("title.registration", nil), p)
}

// markErrors puts fail on the change form: each field's message beside it
// and in the summary, in page order, or the problem above the form.
func (p *registrationPage) markErrors(l *i18n.Localizer, fail *apperr.Error) {
	if len(fail.Fields) == 0 {
		p.Problem = l.T(fail.Msg.ID, fail.Msg.Data)
		return
	}
	p.Errors, p.ErrorList = fieldErrorsOf(l, fail, changeFields, p.Questions, "lang")
	for field, m := range fail.Fields {
		if _, shown := p.Errors[field]; !shown {
			// A field the form has no place for (sessions): above the form.
			p.Problem = l.T(m.ID, m.Data)
		}
	}
}
