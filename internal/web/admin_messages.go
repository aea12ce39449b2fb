package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/message"
	"treffpunkt/internal/registration"
)

// The compose page (issue 19) has three steps on one template: write
// (the languages side by side, whom to), confirm (the number of
// recipients as it is now, the message as it will go out, "send" or
// "change"), and the delivery page of a sent message. The form carries an
// idempotency key made when the page was first shown: a double click or a
// resubmitted form sends once.
//
// The delivery counts move while emails wait: web/static/messages.js
// polls messages.json and updates the counts of the list under the form
// and of the delivery page in place, so that nothing the organiser is
// typing is lost to a reload. Without script the delivery page (which has
// no input) reloads itself (<noscript> meta refresh) and the list shows
// the counts of when the page was loaded.

type messagesPage struct {
	adminFrame
	Event     *event.Event
	Title     string
	TitleLang string // set when the title is not in the page's language
	When      string
	Base      string
	Step      string // "write", "confirm" or "sent"
	Form      messageForm
	Statuses  []option
	// Sessions are the event's sessions to choose from (none: no picker).
	Sessions []option
	// Chosen names the sessions the message is restricted to (confirm).
	Chosen   []string
	Langs    []string // the event's default language first
	Errors   map[string]string
	Problem  string
	Count    int
	Messages []*message.Message
	Sent     *message.Message
	Loc      func(*message.Message) string
}

type messageForm struct {
	Subject, Body event.Texts
	Status        map[string]bool
	// Sessions are the keys of the sessions ticked: then only those who
	// chose one of them are reached (message.To.Sessions).
	Sessions map[string]bool
	Key      string
}

// messageStatuses are the statuses the form offers; applications only on
// an event that has them (messagesPage).
var messageStatuses = []string{registration.Confirmed, registration.Waitlisted, registration.Pending, registration.Applied}

// input is the message the form asks for; the ticked sessions are taken in
// the event's order, and keys it does not have are dropped here (a form
// from before a session was removed reaches the others).
func (f *messageForm) input(sessions event.Sessions) message.Input {
	in := message.Input{Subject: event.Texts{}, Body: event.Texts{}, IdempotencyKey: f.Key}
	for l, v := range f.Subject {
		if v != "" {
			in.Subject[l] = v
		}
	}
	for l, v := range f.Body {
		if v != "" {
			in.Body[l] = v
		}
	}
	for _, st := range messageStatuses {
		if f.Status[st] {
			in.To.Status = append(in.To.Status, st)
		}
	}
	for _, ss := range sessions {
		if f.Sessions[ss.Key] {
			in.To.Sessions = append(in.To.Sessions, ss.Key)
		}
	}
	return in
}

func readMessageForm(c *gin.Context) messageForm {
	f := messageForm{Subject: event.Texts{}, Body: event.Texts{}, Status: map[string]bool{}, Sessions: map[string]bool{}, Key: c.PostForm("key")}
	for _, l := range config.Languages {
		f.Subject[l] = strings.TrimSpace(c.PostForm("subject_" + l))
		f.Body[l] = strings.TrimSpace(strings.ReplaceAll(c.PostForm("body_"+l), "\r\n", "\n"))
	}
	for _, st := range c.PostFormArray("status") {
		f.Status[st] = true
	}
	for _, k := range c.PostFormArray("session") {
		f.Sessions[k] = true
	}
	return f
}

func newMessageKey() string {
	var b [18]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *server) messagesPage(c *gin.Context, e *event.Event, step string) messagesPage {
	l := localizer(c)
	title, tl := e.Title.In(l.Lang, e.DefaultLang)
	p := messagesPage{
		adminFrame: frame(c, "events"), Event: e, Title: title, TitleLang: otherLang(l, tl), Step: step,
		When:  l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
		Base:  s.orgPath(c) + "/events/" + e.Slug,
		Langs: []string{e.DefaultLang}, Errors: map[string]string{},
	}
	for _, lang := range config.Languages {
		if lang != e.DefaultLang {
			p.Langs = append(p.Langs, lang)
		}
	}
	for _, st := range messageStatuses {
		if st == registration.Applied && !e.Approval {
			continue
		}
		p.Statuses = append(p.Statuses, option{st, l.T("reg.status."+st, nil)})
	}
	for _, ss := range e.Sessions {
		t, _ := ss.Title.In(l.Lang, e.DefaultLang)
		if ss.Status == event.SessionCancelled {
			t += " (" + l.T("state.cancelled", nil) + ")"
		}
		p.Sessions = append(p.Sessions, option{ss.Key, t})
	}
	loc := e.Location()
	p.Loc = func(m *message.Message) string { return m.CreatedAt.In(loc).Format("2006-01-02 15:04") }
	return p
}

// adminMessages is GET …/events/:slug/messages: the messages sent, and an
// empty compose form addressed to the confirmed.
func (s *server) adminMessages(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := s.messagesPage(c, e, "write")
	p.Form = messageForm{Status: map[string]bool{registration.Confirmed: true}, Key: newMessageKey()}
	s.renderMessages(c, http.StatusOK, p)
}

func (s *server) renderMessages(c *gin.Context, status int, p messagesPage) {
	if p.Step == "write" {
		ms, err := s.Messages.List(c.Request.Context(), principal(c).OrgID, p.Event.Slug)
		if err != nil {
			_ = c.Error(err)
			return
		}
		p.Messages = ms
	}
	s.render(c, status, "admin_messages", localizer(c).T("admin.messages.heading", nil), p)
}

// messageErrors shows the service's answer at the fields of the form:
// subject.de → subject-de.
func messageErrors(c *gin.Context, p *messagesPage, err error) bool {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Invalid {
		return false
	}
	for f, m := range translateFields(localizer(c), ae) {
		p.Errors[strings.ReplaceAll(f, ".", "-")] = m
	}
	if len(ae.Fields) == 0 {
		p.Problem = localizer(c).T(ae.Msg.ID, ae.Msg.Data)
	}
	return true
}

// confirmMessage is POST …/messages/preview: the form checked, and the
// number of people it reaches now; or the form again with its errors
// ("change" comes back here too).
func (s *server) confirmMessage(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := s.messagesPage(c, e, "confirm")
	p.Form = readMessageForm(c)
	if p.Form.Key == "" {
		p.Form.Key = newMessageKey()
	}
	if c.PostForm("edit") != "" {
		p.Step = "write"
		s.renderMessages(c, http.StatusOK, p)
		return
	}
	in := p.Form.input(e.Sessions)
	for _, o := range p.Sessions {
		if p.Form.Sessions[o.Value] {
			p.Chosen = append(p.Chosen, o.Label)
		}
	}
	p.Count, err = s.Messages.Check(c.Request.Context(), principal(c).OrgID, e.Slug, &in)
	if err != nil {
		if !messageErrors(c, &p, err) {
			_ = c.Error(err)
			return
		}
		p.Step = "write"
		s.renderMessages(c, http.StatusUnprocessableEntity, p)
		return
	}
	s.renderMessages(c, http.StatusOK, p)
}

// sendMessage is POST …/messages: sent (audit-logged), then the delivery
// page; the same form again (its key) goes to the first message's page.
func (s *server) sendMessage(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := s.messagesPage(c, e, "write")
	p.Form = readMessageForm(c)
	in := p.Form.input(e.Sessions)
	pr := principal(c)
	ctx, pending := s.Audit.Begin(c.Request.Context(), audit.Entry{
		OrgID: pr.OrgID, UserID: pr.UserID, TokenID: pr.TokenID, Action: audit.MessageSend, Target: e.Slug,
		Details: map[string]any{"status": in.To.Status, "sessions": in.To.Sessions},
	})
	sent, err := s.Messages.Send(ctx, pr.OrgID, e.Slug, in, message.Sender{UserID: pr.UserID, TokenID: pr.TokenID})
	if err == nil && sent.Created {
		err = pending.Done(ctx, nil)
	}
	if err != nil {
		if !messageErrors(c, &p, err) {
			_ = c.Error(err)
			return
		}
		s.renderMessages(c, http.StatusUnprocessableEntity, p)
		return
	}
	c.Redirect(http.StatusSeeOther, p.Base+"/messages/"+strconv.FormatInt(sent.ID, 10))
}

// messageDelivery is GET …/messages/:id: how many of its emails went out,
// failed, or wait.
func (s *server) messageDelivery(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		_ = c.Error(apperr.New(apperr.NotFound, "err.message.not_found"))
		return
	}
	m, err := s.Messages.Get(c.Request.Context(), principal(c).OrgID, e.Slug, id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := s.messagesPage(c, e, "sent")
	p.Sent = m
	s.renderMessages(c, http.StatusOK, p)
}

// messageCount is one message's delivery in messages.json.
type messageCount struct {
	ID         int64 `json:"id"`
	Recipients int   `json:"recipients"`
	Delivered  int   `json:"delivered"`
	Failed     int   `json:"failed"`
	Queued     int   `json:"queued"`
}

// messageCounts is GET …/messages.json: the delivery counts of the event's
// messages, which the pages poll (messages.js) while emails wait.
func (s *server) messageCounts(c *gin.Context) {
	ms, err := s.Messages.List(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]messageCount, len(ms))
	for i, m := range ms {
		out[i] = messageCount{ID: m.ID, Recipients: m.Recipients, Delivered: m.Delivered, Failed: m.Failed, Queued: m.Queued}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"messages": out})
}
