// Package mail sends Treffpunkt's emails through a transactional outbox:
// every change that concerns a participant writes its rendered emails into
// the table mail_outbox in the change's own transaction (Outbox, the
// registration service's Mailer), and a Sender in `treffpunkt serve` sends
// them after the commit, retrying until the SMTP server has taken each one.
// docs/mail.md explains the design and its one at-least-once window.
package mail

import (
	"context"
	"crypto/rand"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/calendar"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// Outbox renders emails and writes them into the outbox. It implements
// registration.Mailer.
type Outbox struct {
	db        *sqlx.DB
	baseURL   string
	host      string // BASE_URL's host: Message-IDs and calendar UIDs
	catalogue *i18n.Catalogue
	tpl       *templates
	now       func() time.Time
}

var _ registration.Mailer = (*Outbox)(nil)

// NewOutbox parses the templates (a broken one fails here, at start).
func NewOutbox(db *sqlx.DB, cfg *config.Config, cat *i18n.Catalogue) (*Outbox, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("BASE_URL: %w", err)
	}
	tpl, err := parseTemplates(cfg.DefaultLang)
	if err != nil {
		return nil, err
	}
	return &Outbox{db: db, baseURL: cfg.BaseURL, host: u.Hostname(), catalogue: cat, tpl: tpl, now: time.Now}, nil
}

// message is one row of the outbox as it is written.
type message struct {
	MessageID      string
	Kind           string
	Lang           string
	Recipient      string
	RecipientName  string
	ReplyTo        string
	RegistrationID *int64
	EventID        *int64
	Subject        string
	Text           string
	HTML           string
	Calendar       string
	QR             []string
}

// Enqueue renders the notice's emails, one per registration, and writes
// them in tx with one INSERT.
func (o *Outbox) Enqueue(ctx context.Context, tx *sqlx.Tx, n registration.Notice) error {
	msgs := make([]message, 0, len(n.Registrations))
	cals := map[string]string{} // one calendar entry per language
	for _, r := range n.Registrations {
		m, err := o.compose(n, r, cals)
		if err != nil {
			return err
		}
		msgs = append(msgs, *m)
	}
	return insert(ctx, tx, msgs)
}

// States returns the emails of each registration, oldest first; "sending"
// shows as "queued", as it is to organisers.
func (o *Outbox) States(ctx context.Context, ids []int64) (map[int64][]registration.MailState, error) {
	rows, err := states(ctx, o.db, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]registration.MailState)
	for _, s := range rows {
		if s.Status == statusSending {
			s.Status = statusQueued
		}
		out[s.RegistrationID] = append(out[s.RegistrationID], s)
	}
	return out, nil
}

// ticketKinds show the tickets with their QR codes.
var ticketKinds = map[string]bool{registration.MailConfirmed: true, registration.MailPromoted: true, registration.MailReminder: true}

// compose renders the email of notice n to registration r; cals keeps the
// calendar entries already written for n, by language.
func (o *Outbox) compose(n registration.Notice, r *registration.Registration, cals map[string]string) (*message, error) {
	lang := o.tpl.lang(n.Kind, r.Lang)
	d := o.data(lang, n.Event)
	d.Name, d.Status, d.PartySize, d.Position = r.Name, r.Status, r.PartySize, r.WaitlistPosition
	d.ManageURL = o.baseURL + "/r/" + r.ManageToken
	if r.ConfirmToken != "" {
		d.ConfirmURL = o.baseURL + "/confirm/" + r.ConfirmToken
		if r.HoldExpiresAt != nil {
			d.ConfirmBy = o.catalogue.For(lang).DateTime(*r.HoldExpiresAt, n.Event.Location())
		}
	}
	var qr []string
	if r.Status == registration.Confirmed || n.Kind == registration.MailCancelled {
		for _, t := range r.Tickets {
			td := TicketData{N: t.Seat, Total: len(r.Tickets), Code: t.Code, URL: o.baseURL + "/t/" + t.Code}
			if ticketKinds[n.Kind] {
				qr = append(qr, td.URL)
				td.QR = htmltemplate.URL(fmt.Sprintf("cid:%s", qrName(len(qr))))
			}
			d.Tickets = append(d.Tickets, td)
		}
	}
	if n.Before != nil && n.Kind == registration.MailEventChanged {
		before := o.data(lang, n.Before).Event
		d.Before = &before
		d.WhenChanged = before.When != d.Event.When
		d.WhereChanged = before.Venue != d.Event.Venue
		if !d.WhenChanged && !d.WhereChanged {
			// A change the wording does not show (a new time zone with the
			// same local time): it is one of time.
			d.WhenChanged = true
		}
	}
	var cal string
	switch n.Kind {
	case registration.MailConfirmed, registration.MailPromoted, registration.MailEventChanged, registration.MailEventCancelled:
		if r.Status == registration.Confirmed {
			var ok bool
			if cal, ok = cals[lang]; !ok {
				ics, err := calendar.Invite(n.Event, lang, o.baseURL)
				if err != nil {
					return nil, err
				}
				cal = string(ics)
				cals[lang] = cal
			}
			d.Calendar = true
		}
	}
	out, err := o.tpl.render(n.Kind, d)
	if err != nil {
		return nil, err
	}
	regID, eventID := r.ID, n.Event.ID
	return &message{
		MessageID: o.newMessageID(), Kind: n.Kind, Lang: lang,
		Recipient: r.Email, RecipientName: r.Name, ReplyTo: replyTo(n.Event.OrgEmail),
		RegistrationID: &regID, EventID: &eventID,
		Subject: out.Subject, Text: out.Text, HTML: out.HTML, Calendar: cal, QR: qr,
	}, nil
}

// data is the part of a mail's data that depends on the event only.
func (o *Outbox) data(lang string, e *event.Event) *Data {
	l := o.catalogue.For(lang)
	title, titleLang := e.Title.In(lang, e.DefaultLang)
	ev := EventData{
		Title: title, When: l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
		Venue: e.Venue, Address: e.Venue.Address(), URL: o.baseURL + "/events/" + e.Slug,
		OrgName: e.OrgName, OrgEmail: replyTo(e.OrgEmail), Cancelled: e.Status == event.Cancelled,
	}
	ev.Venue.ID = nil
	if titleLang != lang {
		ev.TitleLang = titleLang
	}
	return &Data{Lang: lang, Dir: i18n.Dir(lang), BaseURL: o.baseURL, Event: ev}
}

func qrName(n int) string { return fmt.Sprintf("qr-%d.png", n) }

// newMessageID is fixed at enqueue, so every resend of a message carries
// the same Message-ID and receivers can tell a duplicate.
func (o *Outbox) newMessageID() string {
	return strings.ToLower(rand.Text()) + "@" + o.host
}

// replyTo is the organisation's address when it is one, else "".
func replyTo(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" {
		return ""
	}
	return a.Address
}
