package mail

import (
	"context"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// EnqueueNotMember writes a not_a_member email to each of strangers, the
// addresses typed in sign-ups for the members-only event e that matched no
// member: they get the same answer on the page as members, and this mail
// tells them whom to ask (docs/access.md). There is no registration to
// render from later, so the mail is rendered here, at enqueue, like the
// staff emails; it carries the event's id but no registration.
func (o *Outbox) EnqueueNotMember(ctx context.Context, tx *sqlx.Tx, e *event.Event, strangers []registration.Stranger) error {
	msgs := make([]message, 0, len(strangers))
	for _, s := range strangers {
		m, err := o.composeNotMember(e, s)
		if err != nil {
			return err
		}
		m.MessageID = o.newMessageID()
		msgs = append(msgs, *m)
	}
	return insertRendered(ctx, tx, msgs)
}

func (o *Outbox) composeNotMember(e *event.Event, s registration.Stranger) (*message, error) {
	lang := o.tpl.lang(registration.MailNotMember, s.Lang)
	d := o.data(lang, e)
	d.Name = s.Name
	out, err := o.tpl.render(registration.MailNotMember, d)
	if err != nil {
		return nil, err
	}
	eventID := e.ID
	return &message{
		Kind: registration.MailNotMember, Lang: lang, Recipient: s.Email, RecipientName: s.Name, EventID: &eventID,
		content: content{ReplyTo: replyTo(e.OrgEmail), Subject: out.Subject, Text: out.Text, HTML: out.HTML},
	}, nil
}
