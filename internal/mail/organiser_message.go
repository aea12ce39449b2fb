package mail

import (
	"context"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/event"
	orgmsg "treffpunkt/internal/message"
	"treffpunkt/internal/registration"
)

// KindMessage is an organiser's message to a registrant (package message).
const KindMessage = "message"

var _ orgmsg.Mailer = (*Outbox)(nil)

// MessageData is an organiser's message in one language: the subject, the
// body as written (plain text) and the body as HTML paragraphs.
type MessageData struct {
	Subject  string
	Body     string
	BodyHTML htmltemplate.HTML
}

const messageColumns = 9

// EnqueueMessage writes one row per registration, one INSERT per maxRows,
// in tx, the transaction that records the message: the sender renders each
// with the registration, the event and the message's text in the language
// the row names when it sends it, like every participant's email.
func (o *Outbox) EnqueueMessage(ctx context.Context, tx *sqlx.Tx, m *orgmsg.Message, e *event.Event, rs []*registration.Registration) error {
	for len(rs) > 0 {
		chunk := rs[:min(len(rs), maxRows)]
		rs = rs[len(chunk):]
		q := []byte(`INSERT INTO mail_outbox (message_id, kind, lang, recipient, recipient_name,
    registration_id, event_id, payload, message_ref) VALUES `)
		args := make([]any, 0, len(chunk)*messageColumns)
		for i, r := range chunk {
			if i > 0 {
				q = append(q, ", "...)
			}
			q = appendPlaceholders(q, i*messageColumns, messageColumns)
			pj, err := json.Marshal(&payload{Status: r.Status})
			if err != nil {
				return fmt.Errorf("mail payload: %w", err)
			}
			lang := o.tpl.lang(KindMessage, m.Lang(r.Lang, e.DefaultLang))
			args = append(args, o.newMessageID(), KindMessage, lang, r.Email, r.Name, r.ID, e.ID, string(pj), m.ID)
		}
		if _, err := tx.ExecContext(ctx, string(q), args...); err != nil {
			return fmt.Errorf("enqueue message: %w", err)
		}
	}
	return nil
}

// MessageCounts counts the emails of each message: sent, failed, and
// queued (waiting or being sent).
func (o *Outbox) MessageCounts(ctx context.Context, ids []int64) (map[int64]orgmsg.Counts, error) {
	var rows []struct {
		ID int64 `db:"message_ref"`
		orgmsg.Counts
	}
	err := o.db.SelectContext(ctx, &rows, `
SELECT message_ref,
       count(*) FILTER (WHERE status = 'sent') AS delivered,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status IN ('queued', 'sending')) AS queued
FROM mail_outbox WHERE message_ref = ANY($1) GROUP BY message_ref`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("message counts: %w", err)
	}
	out := make(map[int64]orgmsg.Counts, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Counts
	}
	return out, nil
}

// contentOfMessage renders an organiser's message to r: the text in the
// row's language (else the event's default language), then the event and
// r's manage link.
func (o *Outbox) contentOfMessage(q *queued, r *registration.Registration, e *event.Event, src *sources) (*content, error) {
	if q.MessageRef == nil || src.texts[*q.MessageRef] == nil {
		return nil, fmt.Errorf("message of mail %d is gone", q.ID)
	}
	m, err := o.composeMessage(src.texts[*q.MessageRef], e, r)
	if err != nil {
		return nil, err
	}
	return &m.content, nil
}

func (o *Outbox) composeMessage(m *orgmsg.Message, e *event.Event, r *registration.Registration) (*message, error) {
	// The whole mail is in the text's language: the recipient's when the
	// message has it, else the event's default.
	textLang := m.Lang(r.Lang, e.DefaultLang)
	lang := o.tpl.lang(KindMessage, textLang)
	d := o.data(lang, e)
	d.Name, d.Status, d.PartySize = r.Name, r.Status, r.PartySize
	d.ManageURL = o.baseURL + "/r/" + r.ManageToken
	body := m.Body[textLang]
	d.Message = &MessageData{Subject: m.Subject[textLang], Body: body, BodyHTML: paragraphs(body)}
	out, err := o.tpl.render(KindMessage, d)
	if err != nil {
		return nil, err
	}
	regID, eventID := r.ID, e.ID
	return &message{
		Kind: KindMessage, Lang: lang, Recipient: r.Email, RecipientName: r.Name,
		RegistrationID: &regID, EventID: &eventID,
		content: content{ReplyTo: replyTo(e.OrgEmail), Subject: out.Subject, Text: out.Text, HTML: out.HTML},
	}, nil
}

// paragraphs is plain text as HTML: escaped, a paragraph per blank-line
// gap, line breaks kept, in the direction of its own script (an Arabic
// text in a German mail stays right-to-left).
func paragraphs(s string) htmltemplate.HTML {
	var b strings.Builder
	for p := range strings.SplitSeq(s, "\n\n") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		b.WriteString(`<p dir="auto" style="white-space:pre-line;">`)
		b.WriteString(htmltemplate.HTMLEscapeString(p))
		b.WriteString("</p>\n")
	}
	return htmltemplate.HTML(b.String())
}
