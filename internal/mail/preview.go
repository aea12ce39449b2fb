package mail

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	orgmsg "treffpunkt/internal/message"
	"treffpunkt/internal/notify"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
)

// Preview formats.
const (
	PreviewText = "text" // subject and plain text
	PreviewHTML = "html" // the HTML part
	PreviewEML  = "eml"  // the whole message as sent, for a mail client
)

// Preview writes a message of kind in lang to w, with sample data, in
// format; from is MAIL_FROM. It needs no database.
func (o *Outbox) Preview(w io.Writer, kind, lang, format, from string) error {
	var m *message
	var err error
	switch {
	case slices.Contains(registration.MailKinds, kind):
		n, r := sample(kind, lang, o.now())
		if m, err = o.compose(n, r, newCalendars()); err == nil {
			m.MessageID = o.newMessageID()
		}
	case kind == registration.MailNotMember:
		n, r := sample(registration.MailConfirmEmail, lang, o.now())
		if m, err = o.composeNotMember(n.Event, registration.Stranger{Name: r.Name, Email: r.Email, Lang: lang}); err == nil {
			m.MessageID = o.newMessageID()
		}
	case kind == KindMessage:
		n, r := sample(registration.MailConfirmed, lang, o.now())
		msg := &orgmsg.Message{ID: 1, EventID: 1,
			Subject: event.Texts{"de": "Raumänderung", "en": "Room change"},
			Body:    event.Texts{"de": "Wir feiern im großen Saal.\n\nBitte bringt gute Laune mit.", "en": "We celebrate in the large hall.\n\nPlease bring good spirits."}}
		r.Lang = msg.Lang(lang, n.Event.DefaultLang)
		if m, err = o.composeMessage(msg, n.Event, r); err == nil {
			m.MessageID = o.newMessageID()
		}
	case kind == KindOrgChanges:
		n, _ := sample(registration.MailConfirmed, lang, o.now())
		left, selected := 12, 5
		// The digest shows both kinds of event: one that takes sign-ups and
		// one that gives its places by selection (applications).
		sel := *n.Event
		sel.Approval, sel.Slug = true, "wochenende-in-loccum"
		sel.Title = event.Texts{"de": "Wochenende in Loccum", "en": "Weekend in Loccum"}
		m, err = o.composeOrgNotice(notify.Notice{
			Org:  &org.Settings{Org: org.Org{Slug: "faust", Name: "FAUST e. V.", Email: "info@faust.example"}},
			Lang: lang, Daily: true, Day: o.now(),
			Changes: []notify.Change{{Event: n.Event, SignUps: 14, Cancellations: 2, Promoted: 1, NowFull: true, SeatsLeft: &left, Waitlist: 3},
				{Event: &sel, Applications: 7, Approved: 3, Declined: 1, Approval: true, OpenApplications: 4, SeatsLeft: &selected}},
		})
	case slices.Contains(staffKinds, kind):
		sm := auth.StaffMail{
			Kind: kind, To: "anna@miso.example", Lang: lang, URL: o.baseURL + "/login/reset/SAMPLELINKTOKEN",
			Expires: o.now().Add(24 * time.Hour), OrgName: "MiSO e. V.", Role: auth.Organiser,
		}
		if kind == auth.MailStaffAdded {
			sm.URL, sm.Expires = o.baseURL+"/login", time.Time{}
		}
		m, err = o.composeStaff(sm)
	default:
		return fmt.Errorf("unknown kind %q; kinds: %s", kind, strings.Join(append(slices.Clone(registration.MailKinds), append([]string{registration.MailNotMember, KindMessage, KindOrgChanges}, staffKinds...)...), ", "))
	}
	if err != nil {
		return err
	}
	switch format {
	case PreviewText:
		_, err = fmt.Fprintf(w, "Subject: %s\nLanguage: %s\n\n%s", m.Subject, m.Lang, m.Text)
	case PreviewHTML:
		_, err = io.WriteString(w, m.HTML)
	case PreviewEML:
		q := &queued{
			MessageID: m.MessageID, Kind: m.Kind, Lang: m.Lang, Recipient: m.Recipient,
			RecipientName: m.RecipientName, content: m.content, CreatedAt: o.now(),
		}
		msg, berr := build(q, &q.content, from)
		if berr != nil {
			return berr
		}
		_, err = msg.WriteTo(w)
	default:
		return fmt.Errorf("unknown format %q; formats: text, html, eml", format)
	}
	return err
}

// sample is a notice of kind to a made-up participant of a made-up event
// in a week (the reference network's festival).
func sample(kind, lang string, now time.Time) (registration.Notice, *registration.Registration) {
	berlin := event.Zone(event.DefaultTimezone)
	day := now.In(berlin).AddDate(0, 0, 7)
	start := time.Date(day.Year(), day.Month(), day.Day(), 14, 0, 0, 0, berlin)
	venueID, capacity := int64(1), 200
	e := &event.Event{
		ID: 1, OrgID: 1, OrgSlug: "faust", OrgName: "FAUST e. V.", OrgEmail: "info@faust.example",
		Slug: "1-mai-fest", Kind: "festival", DefaultLang: "de",
		Title: event.Texts{"de": "Internationales 1. Mai-Fest", "en": "International May Day Festival"},
		Description: event.Texts{"de": "Musik, Essen und Gespräche aus aller Welt.",
			"en": "Music, food and conversation from all over the world."},
		StartsAt: start.UTC(), EndsAt: start.Add(8 * time.Hour).UTC(), Timezone: event.DefaultTimezone,
		Venue: event.Venue{ID: &venueID, Name: "Kulturzentrum Faust", Street: "Zur Bettfedernfabrik 3",
			Postcode: "30451", City: "Hannover", AccessibilityNotes: "Stufenloser Zugang, barrierefreies WC."},
		Status: event.Published, Capacity: &capacity, Waitlist: true, MaxPartySize: 4,
		Access: event.AccessPublic, Sequence: 1, CreatedAt: now, UpdatedAt: now, CalendarChangedAt: now,
	}
	r := &registration.Registration{
		ID: 1, EventID: 1, EventSlug: e.Slug, Name: "Ayşe Yılmaz", Email: "ayse@example.org", Lang: lang,
		PartySize: 2, Status: registration.Confirmed, ManageToken: "SAMPLEMANAGETOKEN000000000",
		Tickets: []registration.Ticket{
			{ID: 1, RegistrationID: 1, Seat: 1, Code: "SAMPLETICKETCODE0000000001"},
			{ID: 2, RegistrationID: 1, Seat: 2, Code: "SAMPLETICKETCODE0000000002"},
		},
	}
	n := registration.Notice{Kind: kind, Event: e, Registrations: []*registration.Registration{r}}
	switch kind {
	case registration.MailWaitlisted:
		r.Status, r.Tickets, r.WaitlistPosition = registration.Waitlisted, nil, 3
	case registration.MailCancelled:
		r.Status = registration.Cancelled
	case registration.MailEventChanged:
		before := *e
		before.StartsAt, before.EndsAt = e.StartsAt.Add(-24*time.Hour), e.EndsAt.Add(-24*time.Hour)
		before.Sequence--
		n.Before = &before
	case registration.MailEventCancelled:
		e.Status = event.Cancelled
	case registration.MailConfirmEmail:
		exp := now.Add(registration.DefaultHold)
		r.Status, r.Tickets, r.ConfirmToken, r.HoldExpiresAt = registration.Pending, nil, "SAMPLECONFIRMTOKEN00000000", &exp
	case registration.MailHoldExpired:
		r.Status, r.Tickets = registration.Expired, nil
	case registration.MailChanged:
		n.NewTicketsFrom = 2
	case registration.MailReleased:
		r.Status, r.Tickets = registration.Cancelled, nil
	case registration.MailApplied:
		r.Status, r.Tickets = registration.Applied, nil
	case registration.MailDeclined:
		r.Status, r.Tickets = registration.Declined, nil
		n.Reason = map[string]string{"": "Sample reason."}
	case registration.MailSessionPromoted, registration.MailSessionCancelled:
		r.PromotedSessions = []string{"tanz"}
	}
	// The festival has a dance workshop in the afternoon, which the
	// participant chose.
	e.Sessions = event.Sessions{{ID: 1, Key: "tanz", Title: event.Texts{"de": "Tanzworkshop", "en": "Dance workshop"},
		StartsAt: e.StartsAt.Add(2 * time.Hour), EndsAt: e.StartsAt.Add(3 * time.Hour), Room: "Saal 2", Status: event.SessionActive}}
	if kind == registration.MailSessionCancelled {
		e.Sessions[0].Status = event.SessionCancelled
	}
	if r.Status == registration.Confirmed {
		r.Sessions = []registration.SessionChoice{{Key: "tanz", Status: registration.SessionConfirmed}}
	}
	return n, r
}
