package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	orgmsg "treffpunkt/internal/message"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
)

// sources is what a claimed batch of participants' emails is rendered
// from: the registrations with their tickets and the events, as they are
// when the batch is sent, read with one query per table (and one per
// event).
type sources struct {
	regs   map[int64]*registration.Registration
	events map[int64]*event.Event
	// texts are the organisers' messages (kind "message").
	texts map[int64]*orgmsg.Message
	cals  *calendars
}

// load reads what the batch's unrendered messages need.
func (o *Outbox) load(ctx context.Context, db sqlx.QueryerContext, msgs []queued) (*sources, error) {
	src := &sources{events: map[int64]*event.Event{}, cals: newCalendars()}
	// Sealed secrets are opened while the batch is built (contentOf):
	// have the key at hand.
	if _, err := o.secrets.Key(ctx, secret.Outbox); err != nil {
		return nil, err
	}
	var regIDs, textIDs []int64
	for i := range msgs {
		q := &msgs[i]
		if q.rendered() {
			continue
		}
		regIDs = append(regIDs, *q.RegistrationID)
		if q.MessageRef != nil {
			textIDs = append(textIDs, *q.MessageRef)
		}
		if _, ok := src.events[*q.EventID]; ok {
			continue
		}
		e, err := event.GetByID(ctx, db, *q.EventID)
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.NotFound {
			e = nil // the message fails on its own below
		} else if err != nil {
			return nil, err
		}
		src.events[*q.EventID] = e
	}
	if len(regIDs) == 0 {
		return src, nil
	}
	if len(textIDs) > 0 {
		var err error
		if src.texts, err = orgmsg.Texts(ctx, db, textIDs); err != nil {
			return nil, err
		}
	}
	var err error
	src.regs, err = registration.ForMail(ctx, db, o.secrets, regIDs)
	return src, err
}

// contentOf is what q puts on the wire: its stored content, or the content
// rendered now from the registration and the event as they are, with the
// payload written at enqueue. An error is permanent: rendering the same
// row again fails the same way.
func (o *Outbox) contentOf(ctx context.Context, q *queued, src *sources) (*content, error) {
	if q.rendered() {
		return o.unseal(ctx, q)
	}
	reg := src.regs[*q.RegistrationID]
	e := src.events[*q.EventID]
	if reg == nil || e == nil {
		return nil, fmt.Errorf("registration %d or event %d is gone", *q.RegistrationID, *q.EventID)
	}
	var p payload
	if len(q.Payload) > 0 {
		if err := json.Unmarshal(q.Payload, &p); err != nil {
			return nil, fmt.Errorf("mail payload: %w", err)
		}
	}
	r := *reg // the batch may hold several messages to one registration
	r.Name, r.Email, r.Lang = q.RecipientName, q.Recipient, q.Lang
	if p.Status != "" {
		r.Status = p.Status
	}
	if q.Kind == KindMessage {
		return o.contentOfMessage(q, &r, e, src)
	}
	r.WaitlistPosition, r.ConfirmToken, r.PromotedSessions = p.Position, p.Confirm, p.Sessions
	if p.Sealed != "" {
		key, err := o.secrets.Key(ctx, secret.Outbox)
		if err != nil {
			return nil, err
		}
		if r.ConfirmToken, err = secret.Open(key, p.Sealed); err != nil {
			return nil, fmt.Errorf("confirmation link: %w (SECRET_KEY changed?)", err)
		}
	}
	if p.ConfirmBy != nil {
		r.HoldExpiresAt = p.ConfirmBy
	}
	n := registration.Notice{Kind: q.Kind, Event: e, NewTicketsFrom: p.NewFrom, Reason: p.Reason}
	if len(p.Before) > 0 {
		var b eventBefore
		if err := json.Unmarshal(p.Before, &b); err != nil {
			return nil, fmt.Errorf("mail payload: %w", err)
		}
		n.Before = b.apply(e)
	}
	m, err := o.compose(n, &r, src.cals)
	if err != nil {
		return nil, err
	}
	return &m.content, nil
}

// Rendered is a message of the outbox as it reads.
type Rendered struct {
	Kind, Lang, Recipient string
	Subject, Text, HTML   string
}

// Render renders the outbox row id as the sender would send it now: the
// text of a mail that has not gone out yet, for tests and tools.
func (o *Outbox) Render(ctx context.Context, id int64) (*Rendered, error) {
	var q queued
	err := sqlx.GetContext(ctx, o.db, &q, `
SELECT id, message_id, kind, lang, recipient, recipient_name, registration_id, event_id,
    message_ref, payload, reply_to, subject, body_text, body_html, calendar, qr, attempts, created_at
FROM mail_outbox WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read mail %d: %w", id, err)
	}
	msgs := []queued{q}
	src, err := o.load(ctx, o.db, msgs)
	if err != nil {
		return nil, err
	}
	c, err := o.contentOf(ctx, &msgs[0], src)
	if err != nil {
		return nil, err
	}
	return &Rendered{Kind: q.Kind, Lang: q.Lang, Recipient: q.Recipient, Subject: c.Subject, Text: c.Text, HTML: c.HTML}, nil
}

// staffPayload is the payload of a staff email: its bodies, which carry a
// one-time link, sealed with a key derived from SECRET_KEY, so that the
// outbox row alone yields no working link (internal/secret).
type staffPayload struct {
	Sealed string `json:"sealed_bodies"`
}

type staffBodies struct {
	Text string `json:"text"`
	HTML string `json:"html"`
}

// unseal returns the content of a row rendered at enqueue, with its sealed
// bodies opened.
func (o *Outbox) unseal(ctx context.Context, q *queued) (*content, error) {
	var p staffPayload
	if len(q.Payload) == 0 || json.Unmarshal(q.Payload, &p) != nil || p.Sealed == "" {
		return &q.content, nil
	}
	key, err := o.secrets.Key(ctx, secret.Outbox)
	if err != nil {
		return nil, err
	}
	plain, err := secret.Open(key, p.Sealed)
	if err != nil {
		return nil, fmt.Errorf("staff mail: %w (SECRET_KEY changed?)", err)
	}
	var b staffBodies
	if err := json.Unmarshal([]byte(plain), &b); err != nil {
		return nil, fmt.Errorf("staff mail: %w", err)
	}
	c := q.content
	c.Text, c.HTML = b.Text, b.HTML
	return &c, nil
}
