package mail

import (
	"context"
	"encoding/json"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/secret"
)

var _ auth.StaffMailer = (*Outbox)(nil)

// StaffData is what the staff kinds (password_reset, staff_invite,
// staff_added) get in .Staff.
type StaffData struct {
	URL     string // the one-time link, or the login page
	Expires string // when the link stops working, "" for staff_added
	OrgName string
	Role    string // in the mail's language
}

// staffZone is where staff read a link's expiry: the network's home.
var staffZone = event.Zone(event.DefaultTimezone)

// staffKinds are the emails to staff.
var staffKinds = []string{auth.MailPasswordReset, auth.MailStaffInvite, auth.MailStaffAdded}

// EnqueueStaff writes an email to a staff member — a password link, an
// invitation, a new role — in tx, the transaction that made the link; it
// implements auth.StaffMailer. Staff emails are rare and have no
// registration to read again: they are rendered here, at enqueue. The link
// is a credential: the row keeps the bodies that carry it sealed with a key
// derived from SECRET_KEY (the sender opens them), and it is never logged.
func (o *Outbox) EnqueueStaff(ctx context.Context, tx *sqlx.Tx, m auth.StaffMail) error {
	msg, err := o.composeStaff(m)
	if err != nil {
		return err
	}
	key, err := o.secrets.Key(ctx, secret.Outbox)
	if err != nil {
		return err
	}
	bodies, err := json.Marshal(staffBodies{Text: msg.Text, HTML: msg.HTML})
	if err != nil {
		return err
	}
	p, err := json.Marshal(staffPayload{Sealed: secret.Seal(key, string(bodies))})
	if err != nil {
		return err
	}
	msg.Text, msg.HTML, msg.Payload = "", "", string(p)
	return insertRendered(ctx, tx, []message{*msg})
}

func (o *Outbox) composeStaff(m auth.StaffMail) (*message, error) {
	lang := o.tpl.lang(m.Kind, m.Lang)
	l := o.catalogue.For(lang)
	sd := &StaffData{URL: m.URL, OrgName: m.OrgName}
	if m.Role != "" {
		sd.Role = l.T("admin.role."+m.Role, nil)
	}
	if !m.Expires.IsZero() {
		sd.Expires = l.DateTime(m.Expires, staffZone)
	}
	out, err := o.tpl.render(m.Kind, &Data{Lang: lang, Dir: i18n.Dir(lang), BaseURL: o.baseURL, Staff: sd})
	if err != nil {
		return nil, err
	}
	return &message{
		MessageID: o.newMessageID(), Kind: m.Kind, Lang: lang, Recipient: m.To,
		content: content{Subject: out.Subject, Text: out.Text, HTML: out.HTML},
	}, nil
}
