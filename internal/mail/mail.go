// Package mail sends Treffpunkt's emails through a transactional outbox:
// every change that concerns a participant writes its emails, one small
// row each, into the table mail_outbox in the change's own transaction
// (Outbox, the registration service's Mailer), and a Sender in `treffpunkt
// serve` renders and sends them after the commit, retrying until the SMTP
// server has taken each one.
// docs/mail.md explains the design and its one at-least-once window.
package mail

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/calendar"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
)

// Outbox writes emails into the outbox and renders them. It implements
// registration.Mailer.
type Outbox struct {
	db        *sqlx.DB
	baseURL   string
	host      string // BASE_URL's host: Message-IDs and calendar UIDs
	catalogue *i18n.Catalogue
	tpl       *templates
	now       func() time.Time
	// secrets derives the manage links and ticket codes that a mail shows
	// (the database keeps only their hashes).
	secrets *secret.Source
}

var _ registration.Mailer = (*Outbox)(nil)

// NewOutbox parses the templates (a broken one fails here, at start).
func NewOutbox(db *sqlx.DB, cfg *config.Config, cat *i18n.Catalogue) (*Outbox, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("BASE_URL: %w", err)
	}
	tpl, err := templatesFor(cat, cfg.DefaultLang)
	if err != nil {
		return nil, err
	}
	return &Outbox{db: db, baseURL: cfg.BaseURL, host: u.Hostname(), catalogue: cat, tpl: tpl, now: time.Now,
		secrets: secret.New(db, cfg.SecretKey)}, nil
}

// message is one row of the outbox as it is written: a participant's
// email names its registration and event and carries a payload; a staff
// email carries its rendered content.
type message struct {
	MessageID      string
	Kind           string
	Lang           string
	Recipient      string
	RecipientName  string
	RegistrationID *int64
	EventID        *int64
	content
	// Payload is the row's payload (JSON); "" is {}.
	Payload string
}

// content is what the sender puts on the wire besides the headers it
// knows from the row: rendered at send time for participants, at enqueue
// for staff.
type content struct {
	ReplyTo  string         `db:"reply_to"`
	Subject  string         `db:"subject"`
	Text     string         `db:"body_text"`
	HTML     string         `db:"body_html"`
	Calendar string         `db:"calendar"`
	QR       pq.StringArray `db:"qr"`
}

// Enqueue writes the notice's emails, one small row per registration, in
// tx with one INSERT. Nothing is rendered here: the sender renders each
// message when it sends it, from the registration, its tickets, the event
// as it is then, and the row's payload (what cannot be read again later).
func (o *Outbox) Enqueue(ctx context.Context, tx *sqlx.Tx, n registration.Notice) error {
	if len(n.Registrations) == 0 {
		return nil
	}
	for rs := n.Registrations; len(rs) > 0; {
		chunk := rs[:min(len(rs), maxRows)]
		rs = rs[len(chunk):]
		query, args, err := o.enqueueStatement(ctx, n, chunk)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("enqueue mail: %w", err)
		}
	}
	return nil
}

// payload is what a participant's email needs beyond what the sender can
// read when it sends: the registration as it was when the change happened.
type payload struct {
	// Status is the registration's status at the time (an event_changed
	// mail to the waitlisted says so even after they moved up).
	Status string `json:"status,omitempty"`
	// Position on the waitlist at the time.
	Position int `json:"position,omitempty"`
	// Sealed is the secret of the confirmation link (confirm_email),
	// sealed with a key derived from SECRET_KEY (internal/secret): the
	// registration keeps only its hash, and the row alone yields no link.
	// Confirm is where rows written before migration 00016 kept it plain.
	// ConfirmBy is when it expires.
	Sealed    string     `json:"sealed,omitempty"`
	Confirm   string     `json:"confirm,omitempty"`
	ConfirmBy *time.Time `json:"confirm_by,omitempty"`
	// Before is the event before the change (event_changed).
	Before json.RawMessage `json:"before,omitempty"`
	// NewFrom is the first seat whose ticket a change added (changed):
	// those tickets' QR codes are attached.
	NewFrom int `json:"new_from,omitempty"`
	// Reason is the organisers' reason for declining an application
	// (declined), per language; "" is for every language.
	Reason map[string]string `json:"reason,omitempty"`
	// Sessions are the keys of the sessions a session mail is about.
	Sessions []string `json:"sessions,omitempty"`
}

// eventBefore is what an event_changed mail shows of the event as it was.
type eventBefore struct {
	StartsAt time.Time   `json:"starts_at"`
	EndsAt   time.Time   `json:"ends_at"`
	AllDay   bool        `json:"all_day,omitempty"`
	Timezone string      `json:"tz"`
	Venue    event.Venue `json:"venue"`
}

// apply gives e the time and place it had before.
func (b *eventBefore) apply(e *event.Event) *event.Event {
	was := *e
	was.StartsAt, was.EndsAt, was.AllDay, was.Timezone, was.Venue = b.StartsAt, b.EndsAt, b.AllDay, b.Timezone, b.Venue
	return &was
}

const enqueueColumns = 8

// enqueueStatement is the INSERT of one row per registration of rs.
func (o *Outbox) enqueueStatement(ctx context.Context, n registration.Notice, rs []*registration.Registration) (string, []any, error) {
	var before json.RawMessage
	if n.Before != nil && n.Kind == registration.MailEventChanged {
		b, err := json.Marshal(eventBefore{StartsAt: n.Before.StartsAt, EndsAt: n.Before.EndsAt,
			AllDay: n.Before.AllDay, Timezone: n.Before.Timezone, Venue: n.Before.Venue})
		if err != nil {
			return "", nil, fmt.Errorf("mail payload: %w", err)
		}
		before = b
	}
	q := make([]byte, 0, len(enqueuePrefix)+len(rs)*(enqueueColumns*6+4))
	q = append(q, enqueuePrefix...)
	args := make([]any, 0, len(rs)*enqueueColumns)
	eventID := n.Event.ID
	for i, r := range rs {
		if i > 0 {
			q = append(q, ", "...)
		}
		q = appendPlaceholders(q, i*enqueueColumns, enqueueColumns)
		p := payload{Status: r.Status, Position: r.WaitlistPosition, Before: before, NewFrom: n.NewTicketsFrom, Sessions: r.PromotedSessions,
			Reason: n.Reason}
		if n.Kind == registration.MailConfirmEmail {
			key, err := o.secrets.Key(ctx, secret.Outbox)
			if err != nil {
				return "", nil, err
			}
			p.Sealed, p.ConfirmBy = secret.Seal(key, r.ConfirmToken), r.HoldExpiresAt
		}
		pj, err := json.Marshal(&p)
		if err != nil {
			return "", nil, fmt.Errorf("mail payload: %w", err)
		}
		args = append(args, o.newMessageID(), n.Kind, o.tpl.lang(n.Kind, r.Lang), r.Email, r.Name,
			r.ID, eventID, string(pj))
	}
	return string(q), args, nil
}

const enqueuePrefix = `INSERT INTO mail_outbox (message_id, kind, lang, recipient, recipient_name,
    registration_id, event_id, payload) VALUES `

// appendPlaceholders appends ($from+1, …, $from+n).
func appendPlaceholders(q []byte, from, n int) []byte {
	q = append(q, '(')
	for c := range n {
		if c > 0 {
			q = append(q, ", "...)
		}
		q = append(q, '$')
		q = strconv.AppendInt(q, int64(from+c+1), 10)
	}
	return append(q, ')')
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

// calendars keeps the calendar entries already written, by event and
// language; it is safe for concurrent use (the sender renders a batch on
// every core).
type calendars struct {
	mu sync.Mutex
	m  map[string]string
}

func newCalendars() *calendars { return &calendars{m: map[string]string{}} }

func (c *calendars) get(o *Outbox, e *event.Event, lang string) (string, error) {
	key := strconv.FormatInt(e.ID, 10) + "/" + strconv.Itoa(e.Sequence) + "/" + e.Status + "/" + lang
	c.mu.Lock()
	defer c.mu.Unlock()
	if cal, ok := c.m[key]; ok {
		return cal, nil
	}
	ics, err := calendar.Invite(o.catalogue, e, lang, o.baseURL)
	if err != nil {
		return "", err
	}
	c.m[key] = string(ics)
	return string(ics), nil
}

// compose renders the email of notice n to registration r: the sender
// calls it when it sends (with the registration and event as they are
// then, and the row's payload applied), the preview with sample data. The
// message has no Message-ID: that was fixed at enqueue.
func (o *Outbox) compose(n registration.Notice, r *registration.Registration, cals *calendars) (*message, error) {
	lang := o.tpl.lang(n.Kind, r.Lang)
	d := o.data(lang, n.Event)
	d.Name, d.Status, d.PartySize, d.Position = r.Name, r.Status, r.PartySize, r.WaitlistPosition
	d.ManageURL = o.baseURL + "/r/" + r.ManageToken
	if n.Kind == registration.MailReminder && r.Status == registration.Confirmed {
		// The manage token is the secret: the link works only for whoever
		// got this mail, never from a copy of the database (tokens.go).
		d.CantComeURL = d.ManageURL + "/cant-come"
	}
	d.Reason = reasonIn(n.Reason, lang, n.Event.DefaultLang)
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
			td.New = n.Kind == registration.MailChanged && n.NewTicketsFrom > 0 && t.Seat >= n.NewTicketsFrom
			if td.New {
				d.NewTickets++
			}
			if ticketKinds[n.Kind] || td.New {
				qr = append(qr, td.URL)
				td.QR = htmltemplate.URL(fmt.Sprintf("cid:%s", qrName(len(qr))))
			}
			d.Tickets = append(d.Tickets, td)
		}
	}
	sessionsData(o.catalogue.For(lang), d, n.Event, r, r.PromotedSessions)
	if n.Before != nil && n.Kind == registration.MailEventChanged {
		before := o.data(lang, n.Before).Event
		d.Before = &before
		d.WhenChanged = before.When != d.Event.When
		d.WhereChanged = !event.SamePlace(before.Venue, d.Event.Venue)
		if !d.WhenChanged && !d.WhereChanged {
			// A change the wording does not show (a new time zone with the
			// same local time, or a move that was undone before the mail
			// went out): it is one of time.
			d.WhenChanged = true
		}
	}
	var cal string
	switch n.Kind {
	case registration.MailConfirmed, registration.MailPromoted, registration.MailEventChanged, registration.MailEventCancelled, registration.MailSessionPromoted:
		if r.Status == registration.Confirmed {
			var err error
			if cal, err = cals.get(o, n.Event, lang); err != nil {
				return nil, err
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
		Kind: n.Kind, Lang: lang, Recipient: r.Email, RecipientName: r.Name,
		RegistrationID: &regID, EventID: &eventID,
		content: content{ReplyTo: replyTo(n.Event.OrgEmail), Subject: out.Subject, Text: out.Text, HTML: out.HTML, Calendar: cal, QR: qr},
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

// reasonIn picks the reason in lang, else the one for every language,
// else the one in the event's default language.
func reasonIn(reason map[string]string, lang, defaultLang string) string {
	for _, k := range []string{lang, "", defaultLang} {
		if s := reason[k]; s != "" {
			return s
		}
	}
	return ""
}

func qrName(n int) string { return fmt.Sprintf("qr-%d.png", n) }

// newMessageID is fixed at enqueue, so every resend of a message carries
// the same Message-ID and receivers can tell a duplicate: 128 random bits
// as 26 lower-case base32 characters, @ BASE_URL's host.
func (o *Outbox) newMessageID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	var out [26]byte
	idEncoding.Encode(out[:], b[:])
	return string(out[:]) + "@" + o.host
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// replyTo is the organisation's address when it is one, else "".
func replyTo(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" {
		return ""
	}
	return a.Address
}
