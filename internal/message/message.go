// Package message sends organisers' messages to the registrants of an
// event (issue 19): a subject and a plain-text body per language, to the
// registrations of chosen statuses, one email each through the outbox
// (package mail, which renders it when it sends), never twice for the same
// idempotency key. It owns the table messages; who is reached is the
// registration package's answer (registration.MessageRecipients), and the
// emails are the mail package's rows (Mailer). docs/organisers.md
// describes it for organisers, docs/api.md the routes.
package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/text"
)

// Limits of a message, in characters.
const (
	MaxSubject = 200
	MaxBody    = 10000
	MaxKey     = 200
)

// Statuses a message may be addressed to: "applied" reaches the
// applicants of an event with selection by approval, "pending" only
// registrations whose address is confirmed (registration.MessageRecipients).
var Statuses = []string{registration.Confirmed, registration.Waitlisted, registration.Pending, registration.Applied}

// To says whom a message is for.
type To struct {
	Status   []string `json:"status"`
	Sessions []string `json:"sessions"`
}

// Input is a message as the organiser writes it.
type Input struct {
	Subject        event.Texts `json:"subject"`
	Body           event.Texts `json:"body"`
	To             To          `json:"to"`
	IdempotencyKey string      `json:"idempotency_key"`
}

// Message is a message as sent. Delivered, Failed and Queued count its
// emails by their state in the outbox.
type Message struct {
	ID         int64          `db:"id"`
	EventID    int64          `db:"event_id"`
	Subject    event.Texts    `db:"subject"`
	Body       event.Texts    `db:"body"`
	ToStatus   pq.StringArray `db:"to_status"`
	ToSessions pq.StringArray `db:"to_sessions"`
	Key        *string        `db:"idempotency_key"`
	Sender     string         `db:"sender"`
	Recipients int            `db:"recipients"`
	CreatedAt  time.Time      `db:"created_at"`
	Counts
}

// Counts are a message's emails by state.
type Counts struct {
	Delivered int `db:"delivered"`
	Failed    int `db:"failed"`
	Queued    int `db:"queued"`
}

// Lang is the language the recipient who reads lang gets: theirs when the
// message has it, else the event's default language (which every message
// has).
func (m *Message) Lang(lang, def string) string {
	if m.Subject[lang] != "" && m.Body[lang] != "" {
		return lang
	}
	return def
}

// Mailer writes the message's emails into the outbox and counts them;
// package mail implements it (it imports this package to render them).
type Mailer interface {
	// EnqueueMessage writes one email per registration in tx, each in the
	// language lang(r) picks.
	EnqueueMessage(ctx context.Context, tx *sqlx.Tx, m *Message, e *event.Event, rs []*registration.Registration) error
	// MessageCounts counts the emails of each message by state.
	MessageCounts(ctx context.Context, ids []int64) (map[int64]Counts, error)
}

// Service sends and lists messages.
type Service struct {
	db     *sqlx.DB
	events *event.Service
	mailer Mailer
}

// New builds the service; mailer nil refuses to send (the commands that
// write no mail).
func New(db *sqlx.DB, events *event.Service, mailer Mailer) *Service {
	return &Service{db: db, events: events, mailer: mailer}
}

// Sender is who sends a message: a staff account or an API token.
type Sender struct {
	UserID, TokenID int64
}

// Sent is the answer to Send: the message, and whether this call created
// it (false: the idempotency key named an earlier one, nothing was sent).
type Sent struct {
	*Message
	Created bool
}

// Send validates in and writes the message and one email per recipient in
// one transaction. The same idempotency key for the event again answers the
// first message, also when two calls race. No recipient is a 422.
func (s *Service) Send(ctx context.Context, orgID int64, slug string, in Input, by Sender) (*Sent, error) {
	e, err := s.events.GetForOrg(ctx, orgID, slug)
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(in.IdempotencyKey)
	if p := text.Problem(key, MaxKey); p != "" {
		return nil, apperr.Field("idempotency_key", p, "Max", MaxKey)
	}
	if key != "" {
		if m, err := s.byKey(ctx, e.ID, key); err != nil || m != nil {
			return &Sent{Message: m}, err
		}
	}
	if err := validate(&in, e); err != nil {
		return nil, err
	}
	if s.mailer == nil {
		return nil, apperr.Wrap(errors.New("no mailer"), "send message")
	}
	m := &Message{EventID: e.ID, Subject: in.Subject, Body: in.Body, ToStatus: in.To.Status, ToSessions: in.To.Sessions}
	if m.ToSessions == nil {
		m.ToSessions = []string{}
	}
	if key != "" {
		m.Key = &key
	}
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		rs, err := recipients(ctx, tx, e.ID, in.To)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return apperr.New(apperr.Invalid, "err.message.no_recipients")
		}
		m.Recipients = len(rs)
		err = tx.GetContext(ctx, m, `
INSERT INTO messages (event_id, subject, body, to_status, to_sessions, idempotency_key, sender, recipients)
VALUES ($1, $2, $3, $4, $5, $6,
        COALESCE((SELECT email FROM staff_users WHERE id = $7),
                 (SELECT 'API token #' || id || CASE WHEN name <> '' THEN ' (' || name || ')' ELSE '' END
                    FROM api_tokens WHERE id = $8),
                 'system'), $9)
ON CONFLICT (event_id, idempotency_key) DO NOTHING
RETURNING id, sender, created_at`, e.ID, m.Subject, m.Body, m.ToStatus, m.ToSessions, m.Key, by.UserID, by.TokenID, m.Recipients)
		if errors.Is(err, sql.ErrNoRows) {
			// Another call with the same key committed first: answer it.
			return errRepeat
		}
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		m.Queued = m.Recipients
		// The audit entry of the sending (when the caller began one) is
		// written in this transaction: it names the message as other
		// entries name their registration or token.
		database.Note(ctx, "message_id", m.ID)
		database.Note(ctx, "recipients", m.Recipients)
		return s.mailer.EnqueueMessage(ctx, tx, m, e, rs)
	})
	if errors.Is(err, errRepeat) {
		m, err := s.byKey(ctx, e.ID, key)
		if err == nil && m == nil {
			err = errors.New("message of a repeated key not found")
		}
		return &Sent{Message: m}, apperr.Wrap(err, "send message")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "send message")
	}
	return &Sent{Message: m, Created: true}, nil
}

var errRepeat = errors.New("idempotency key used")

// Check validates in as Send would and says how many registrations it
// would reach now: what the compose page shows before sending. The texts
// of in are trimmed as Send trims them.
func (s *Service) Check(ctx context.Context, orgID int64, slug string, in *Input) (int, error) {
	e, err := s.events.GetForOrg(ctx, orgID, slug)
	if err != nil {
		return 0, err
	}
	if err := validate(in, e); err != nil {
		return 0, err
	}
	rs, err := recipients(ctx, s.db, e.ID, in.To)
	if err != nil {
		return 0, apperr.Wrap(err, "count recipients")
	}
	return len(rs), nil
}

// recipients are the registrations to reaches (registration.MessageRecipients
// has the rule); to was validated against the event.
func recipients(ctx context.Context, q sqlx.QueryerContext, eventID int64, to To) ([]*registration.Registration, error) {
	return registration.MessageRecipients(ctx, q, eventID, to.Status, to.Sessions)
}

func (s *Service) byKey(ctx context.Context, eventID int64, key string) (*Message, error) {
	var m Message
	err := s.db.GetContext(ctx, &m, selectMessage+` WHERE event_id = $1 AND idempotency_key = $2`, eventID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "message by key")
	}
	return &m, s.count(ctx, []*Message{&m})
}

const selectMessage = `SELECT id, event_id, subject, body, to_status, to_sessions, idempotency_key, sender, recipients, created_at FROM messages`

// List returns the messages of the event, newest first, with their
// delivery counts.
func (s *Service) List(ctx context.Context, orgID int64, slug string) ([]*Message, error) {
	e, err := s.events.GetForOrg(ctx, orgID, slug)
	if err != nil {
		return nil, err
	}
	ms := []*Message{}
	if err := s.db.SelectContext(ctx, &ms, selectMessage+` WHERE event_id = $1 ORDER BY id DESC`, e.ID); err != nil {
		return nil, apperr.Wrap(err, "list messages")
	}
	return ms, s.count(ctx, ms)
}

// Get returns one message of the event.
func (s *Service) Get(ctx context.Context, orgID int64, slug string, id int64) (*Message, error) {
	e, err := s.events.GetForOrg(ctx, orgID, slug)
	if err != nil {
		return nil, err
	}
	var m Message
	err = s.db.GetContext(ctx, &m, selectMessage+` WHERE event_id = $1 AND id = $2`, e.ID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.message.not_found")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "get message")
	}
	return &m, s.count(ctx, []*Message{&m})
}

func (s *Service) count(ctx context.Context, ms []*Message) error {
	if len(ms) == 0 || s.mailer == nil {
		return nil
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	counts, err := s.mailer.MessageCounts(ctx, ids)
	if err != nil {
		return apperr.Wrap(err, "message counts")
	}
	for _, m := range ms {
		m.Counts = counts[m.ID]
	}
	return nil
}

// Texts returns the subject and body of each message, for the sender that
// renders their emails.
func Texts(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]*Message, error) {
	var ms []*Message
	if err := sqlx.SelectContext(ctx, q, &ms, selectMessage+` WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("message texts: %w", err)
	}
	out := make(map[int64]*Message, len(ms))
	for _, m := range ms {
		out[m.ID] = m
	}
	return out, nil
}

// validate checks a message against the limits and the event: subject and
// body in the same languages, the event's default language among them.
func validate(in *Input, e *event.Event) error {
	f := apperr.Fields{}
	checkTexts(f, "subject", in.Subject, MaxSubject, false)
	checkTexts(f, "body", in.Body, MaxBody, true)
	for lang := range in.Subject {
		if _, ok := in.Body[lang]; !ok && validLang(lang) {
			f.Add("body."+lang, "err.required")
		}
	}
	for lang := range in.Body {
		if _, ok := in.Subject[lang]; !ok && validLang(lang) {
			f.Add("subject."+lang, "err.required")
		}
	}
	if in.Subject[e.DefaultLang] == "" {
		f.Add("subject."+e.DefaultLang, "err.message.default_lang")
	}
	if in.Body[e.DefaultLang] == "" {
		f.Add("body."+e.DefaultLang, "err.message.default_lang")
	}
	return validateTo(in.To, e, f)
}

func validateTo(to To, e *event.Event, f apperr.Fields) error {
	if len(to.Status) == 0 {
		f.Add("to.status", "err.required")
	}
	for _, st := range to.Status {
		if !slices.Contains(Statuses, st) {
			f.Add("to.status", "err.message.status", "Statuses", strings.Join(Statuses, ", "))
		}
	}
	// A cancelled session is a fine address: its people are still there
	// to be told what happens instead.
	for _, k := range to.Sessions {
		if e.Sessions.ByKey(k) == nil {
			f.Add("to.sessions", "err.session_unknown", "Key", k)
			break
		}
	}
	return f.Err()
}

// checkTexts trims each text (a body keeps its inner line breaks, with
// CRLF made LF) and checks its length and characters; an empty text is
// dropped, so that a language left blank on the form is no language.
func checkTexts(f apperr.Fields, field string, ts event.Texts, max int, multiline bool) {
	for lang, s := range ts {
		name := field + "." + lang
		if !validLang(lang) {
			f.Add(name, "err.lang")
			continue
		}
		s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
		if s == "" {
			delete(ts, lang)
			continue
		}
		p := text.Problem(s, max)
		if multiline {
			p = text.ProblemMultiline(s, max)
		}
		if p != "" {
			f.Add(name, p, "Max", max)
			continue
		}
		ts[lang] = s
	}
}

func validLang(l string) bool { return slices.Contains(config.Languages, l) }
