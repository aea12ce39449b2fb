package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/registration"
)

type signupForm struct {
	Name      string
	Email     string
	PartySize string
	BirthDate string
	// MemberNumber is asked on members-only events.
	MemberNumber string
	Consent      bool
	// Answers are the posted answers by question key.
	Answers url.Values
	// Sessions are the keys of the sessions chosen.
	Sessions []string
}

// formFields are the sign-up form's fields in page order, with the message
// id of the label the error summary names them by.
var formFields = []struct{ name, label string }{
	{"name", "form.name"},
	{"email", "form.email"},
	{"party_size", "form.party_size"},
	{"birth_date", "form.birth_date"},
	{"member_number", "form.member_number"},
	{"sessions", "form.sessions"},
	{"consent", "form.consent_short"},
	{"lang", "nav.language"},
}

type fieldError struct{ Field, Label, Message string }

// fieldErrorsOf lays fail's field errors out in the order of a form: its
// fields as listed, the questions' fields just before the field named
// questionsBefore. It returns them by field (shown at each input) and as
// the summary above the form; a field the form does not list is in
// neither.
func fieldErrorsOf(l *i18n.Localizer, fail *apperr.Error, fields []struct{ name, label string }, questions []questionView, questionsBefore string) (map[string]string, []fieldError) {
	byField := map[string]string{}
	var list []fieldError
	add := func(field, label string) {
		if m, ok := fail.Fields[field]; ok {
			msg := l.T(m.ID, m.Data)
			byField[field] = msg
			list = append(list, fieldError{Field: field, Label: label, Message: msg})
		}
	}
	for _, f := range fields {
		if f.name == questionsBefore {
			for _, q := range questions {
				add(q.Field(), q.Label)
			}
		}
		add(f.name, l.T(f.label, nil))
	}
	return byField, list
}

type eventPage struct {
	Event         eventView
	Form          signupForm
	Questions     []questionView
	Sessions      []sessionView
	Errors        map[string]string
	ErrorList     []fieldError
	Problem       string
	Notice        string
	RetentionDays int
	// FormAction and EmbedToken are set on the embedded form (embed.go).
	FormAction string
	EmbedToken string
	// Series links the other dates when the event is one of a series.
	Series *seriesLinks
}

// SessionChoices are the sign-up form's session checkboxes (the
// sessions_choices template, shared with the change form).
func (p eventPage) SessionChoices() []sessionView { return p.Sessions }

// eventPage shows an event with its sign-up form.
func (s *server) eventPage(c *gin.Context) {
	e, err := s.Events.GetPublic(c.Request.Context(), c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderEvent(c, http.StatusOK, e, signupForm{PartySize: "1"}, nil)
}

func (s *server) renderEvent(c *gin.Context, status int, e *event.Event, form signupForm, fail *apperr.Error) {
	l := localizer(c)
	p := eventPage{Event: newEventView(l, e, time.Now()), Form: form, RetentionDays: s.Config.RetentionDays}
	p.Questions = questionViews(l, e, form.Answers)
	p.Sessions = sessionViews(l, e, form.Sessions)
	p.Series = s.seriesLinksOf(c, e)
	if fail != nil && len(fail.Fields) > 0 {
		// The questions come before the consent, as on the page.
		p.Errors, p.ErrorList = fieldErrorsOf(l, fail, formFields, p.Questions, "consent")
	} else if fail != nil && fail.Code == apperr.Conflict {
		p.Notice = l.T(fail.Msg.ID, fail.Msg.Data)
	} else if fail != nil {
		p.Problem = l.T(fail.Msg.ID, fail.Msg.Data)
	}
	if isEmbed(c) {
		if err := s.embedFormFields(c, &p); err != nil {
			_ = c.Error(err)
			return
		}
	}
	title := p.Event.Title
	if len(p.ErrorList) > 0 || p.Problem != "" {
		// The title is the first thing a screen reader reads of the page
		// that comes back: it says at once that something is wrong.
		title = l.T("title.error", nil) + ": " + title
	}
	s.render(c, status, "event", title, p)
}

// register takes the sign-up form: on success it redirects to the
// registration page; on a rule or input problem it shows the form again with
// the fields marked.
func (s *server) register(c *gin.Context) {
	slug := c.Param("slug")
	if err := c.Request.ParseForm(); err != nil {
		_ = c.Error(bodyError(err))
		return
	}
	form := signupForm{
		Name:         c.PostForm("name"),
		Email:        c.PostForm("email"),
		PartySize:    strings.TrimSpace(c.PostForm("party_size")),
		BirthDate:    c.PostForm("birth_date"),
		Consent:      c.PostForm("consent") != "",
		MemberNumber: c.PostForm("member_number"),
		Answers:      postedAnswers(c.Request.PostForm),
		Sessions:     c.PostFormArray("session"),
	}
	in := registration.SignupInput{
		Name: form.Name, Email: form.Email, Lang: c.PostForm("lang"),
		BirthDate: form.BirthDate, Consent: form.Consent,
		MemberNumber: form.MemberNumber, Sessions: form.Sessions,
	}
	if len(form.Answers) > 0 {
		// The service types the answers against the event's questions,
		// so that the form post reads the event once, in the service.
		in.FormAnswers = form.Answers
	}
	partyOK := true
	if form.PartySize == "" {
		in.PartySize = 1
	} else if n, err := strconv.Atoi(form.PartySize); err == nil {
		in.PartySize = n
	} else {
		partyOK = false
	}
	if in.Lang == "" {
		in.Lang = localizer(c).Lang
	}
	if !s.Limits.AllowSignupEmail(c, in.Email) {
		s.Metrics.SignUp(metrics.SignupRefused, apperr.RateLimited)
		return
	}
	if !s.Limits.AllowMemberNumber(c, in.MemberNumber) {
		s.Metrics.SignUp(metrics.SignupRefused, apperr.RateLimited)
		return
	}
	res, err := s.Registrations.SignUp(c.Request.Context(), slug, in)
	if !partyOK {
		if err == nil {
			err = apperr.Field("party_size", "err.number")
		} else if ae := apperr.From(err); ae.Code == apperr.Invalid {
			ae.Fields["party_size"] = apperr.M("err.number")
		}
	}
	if res != nil && res.CheckMail && partyOK {
		// Members-only: one answer for members and others, registered
		// before or not; the email to the address concerned tells which.
		s.Metrics.SignUpOutcome(registration.Pending, false, nil)
		e, err := signupEvent(c, s, res, slug)
		if err != nil {
			_ = c.Error(err)
			return
		}
		s.pendingNotice(c, e)
		return
	}
	s.Metrics.SignUpOutcome(signupStatus(res), res != nil && res.Existing, err)
	if err != nil {
		ae := apperr.From(err)
		switch ae.Code {
		case apperr.Invalid, apperr.Full, apperr.SessionFull, apperr.Closed, apperr.MembersOnly, apperr.Age:
			e, gerr := signupEvent(c, s, res, slug)
			if gerr != nil {
				_ = c.Error(gerr)
				return
			}
			if !utf8.ValidString(form.Name) {
				form.Name = strings.ToValidUTF8(form.Name, "")
			}
			if !utf8.ValidString(form.Email) {
				form.Email = strings.ToValidUTF8(form.Email, "")
			}
			s.renderEvent(c, httpcode.Of(ae), e, form, ae)
		default:
			_ = c.Error(err)
		}
		return
	}
	e, err := signupEvent(c, s, res, slug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if res.Existing {
		// Knowing an address must not reveal its owner's manage link, so the
		// page only says that this address is already signed up.
		s.renderEvent(c, http.StatusOK, e, signupForm{PartySize: "1"}, apperr.New(apperr.Conflict, "reg.existing"))
		return
	}
	if res.Registration.Status == registration.Pending {
		// The manage link goes only to the confirmed address (in the mail
		// after confirming): whoever typed a member's number must not get
		// the tickets that the member confirms.
		s.pendingNotice(c, e)
		return
	}
	if isEmbed(c) {
		s.embedDone(c, e, res.Registration)
		return
	}
	c.Redirect(http.StatusSeeOther, "/r/"+res.Registration.ManageToken)
}

// signupEvent is the event a sign-up's answer is shown with: the one the
// service decided on (Result.Event). Only an answer without it (none
// today) costs a read of its own.
func signupEvent(c *gin.Context, s *server, res *registration.Result, slug string) (*event.Event, error) {
	if res != nil && res.Event != nil {
		return res.Event, nil
	}
	return s.Events.GetPublic(c.Request.Context(), slug)
}

func signupStatus(res *registration.Result) string {
	if res == nil || res.Registration == nil {
		return ""
	}
	return res.Registration.Status
}

// bodyError maps a failure to read a form body: too large, or malformed.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if ok := asMaxBytes(err, &mbe); ok {
		return apperr.New(apperr.TooLarge, "err.too_large")
	}
	return apperr.New(apperr.BadRequest, "err.invalid")
}
