package mail

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/i18n"
	"treffpunkt/internal/notify"
)

// KindOrgChanges tells an organisation what happened to its events
// (package notify): one event soon after the changes, or the daily digest.
const KindOrgChanges = "org_changes"

var _ notify.Mailer = (*Outbox)(nil)

// NotifyData is what an org_changes mail shows.
type NotifyData struct {
	OrgName     string
	Daily       bool
	Day         string // the digest's day
	Events      []NotifyEvent
	SettingsURL string
}

// NotifyEvent is one event's changes.
type NotifyEvent struct {
	Title, When, URL                 string
	SignUps, Cancellations, Promoted int
	Applications, Approved, Declined int
	// Approval: the event selects by approval, so the open applications
	// are shown with where it stands.
	Approval            bool
	OpenApplications    int
	NowFull             bool
	Limited             bool
	SeatsLeft, Waitlist int
}

// EnqueueOrgNotice writes the notice, rendered now in the organisation's
// language (it reads nothing that could change before it is sent, and
// has no registration to read again), in tx, the transaction that
// records what was told.
func (o *Outbox) EnqueueOrgNotice(ctx context.Context, tx *sqlx.Tx, n notify.Notice) error {
	m, err := o.composeOrgNotice(n)
	if err != nil {
		return err
	}
	return insertRendered(ctx, tx, []message{*m})
}

func (o *Outbox) composeOrgNotice(n notify.Notice) (*message, error) {
	lang := o.tpl.lang(KindOrgChanges, n.Lang)
	l := o.catalogue.For(lang)
	nd := &NotifyData{OrgName: n.Org.Name, Daily: n.Daily, SettingsURL: o.baseURL + "/admin/orgs/" + n.Org.Slug + "/settings"}
	if n.Daily {
		nd.Day = l.Date(n.Day)
	}
	for _, c := range n.Changes {
		e := c.Event
		title, _ := e.Title.In(lang, e.DefaultLang)
		ne := NotifyEvent{
			Title: title, When: l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
			URL:     o.baseURL + "/admin/orgs/" + n.Org.Slug + "/events/" + e.Slug + "/registrations",
			SignUps: c.SignUps, Cancellations: c.Cancellations, Promoted: c.Promoted, NowFull: c.NowFull,
			Waitlist:     c.Waitlist,
			Applications: c.Applications, Approved: c.Approved, Declined: c.Declined,
			Approval: c.Approval, OpenApplications: c.OpenApplications,
		}
		if c.SeatsLeft != nil {
			ne.Limited, ne.SeatsLeft = true, *c.SeatsLeft
		}
		nd.Events = append(nd.Events, ne)
	}
	out, err := o.tpl.render(KindOrgChanges, &Data{Lang: lang, Dir: i18n.Dir(lang), BaseURL: o.baseURL, Notify: nd})
	if err != nil {
		return nil, err
	}
	return &message{
		MessageID: o.newMessageID(), Kind: KindOrgChanges, Lang: lang, Recipient: n.Org.To(), RecipientName: n.Org.Name,
		content: content{Subject: out.Subject, Text: out.Text, HTML: out.HTML},
	}, nil
}

// Promotions counts the promotion mails of the event's registrations.
func (o *Outbox) Promotions(ctx context.Context, q sqlx.QueryerContext, eventID int64) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM mail_outbox WHERE event_id = $1 AND kind = 'promoted'`, eventID); err != nil {
		return 0, fmt.Errorf("count promotions: %w", err)
	}
	return n, nil
}
