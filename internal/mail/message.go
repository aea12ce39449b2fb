package mail

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"treffpunkt/internal/qr"
)

// calendarType is the calendar part's type: method= must equal the
// object's METHOD, and PUBLISH adds an entry without an invitation's
// ORGANIZER/ATTENDEE replies.
const calendarType = "text/calendar; charset=utf-8; method=PUBLISH"

// qrScale is pixels per QR module in mails: about 250 pixels wide.
const qrScale = 6

// build turns an outbox row and its content into a MIME message:
//
//	multipart/mixed                 (when a calendar is attached)
//	  multipart/related             (when QR codes are inlined)
//	    multipart/alternative
//	      text/plain; charset=UTF-8 (first: the last part is the preferred one)
//	      text/html; charset=UTF-8
//	    image/png                   (cid:qr-1.png, …)
//	  text/calendar; method=PUBLISH (calendar.ics)
//
// Date is the enqueue time and Message-ID was fixed at enqueue, so every
// attempt carries the same Message-ID (a resend after a lost OK is
// rendered again: the same message, with the event as it is then). An
// error here is permanent: the same row would fail the same way again.
func build(q *queued, c *content, from string) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, errors.New("sender address (MAIL_FROM) does not parse")
	}
	m.FromMailAddress(sender)
	to, err := address(q.RecipientName, q.Recipient)
	if err != nil {
		return nil, err
	}
	m.AddToMailAddress(to)
	if c.ReplyTo != "" {
		rt, err := address("", c.ReplyTo)
		if err != nil {
			return nil, errors.New("reply-to address (the organisation's) does not parse")
		}
		m.ReplyToMailAddress(rt)
	}
	m.Subject(c.Subject)
	m.SetMessageIDWithValue(q.MessageID)
	m.SetDateWithValue(q.CreatedAt)
	// RFC 3834: no vacation replies to, or loops with, automatic mail.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetGenHeader("Content-Language", q.Lang)
	m.SetBodyString(gomail.TypeTextPlain, c.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, c.HTML)
	for i, text := range c.QR {
		png, err := qr.PNG(text, qrScale)
		if err != nil {
			return nil, err
		}
		if err := m.EmbedReader(qrName(i+1), bytes.NewReader(png), gomail.WithFileContentType("image/png")); err != nil {
			return nil, fmt.Errorf("embed QR code: %w", err)
		}
	}
	if c.Calendar != "" {
		if err := m.AttachReader("calendar.ics", strings.NewReader(c.Calendar), gomail.WithFileContentType(calendarType)); err != nil {
			return nil, fmt.Errorf("attach calendar: %w", err)
		}
	}
	return m, nil
}

// errRecipient says no more than that: the error is logged and kept in the
// outbox, and must name no one (the library's parse error quotes the whole
// header, name and address).
var errRecipient = errors.New("recipient address does not parse")

// address is the To (or Reply-To) address. The header is written from
// net/mail's Address, which quotes or encodes the name as it needs (never
// pasted into `"%s" <%s>`): a name with " , ; < > \ or in any script
// reaches its owner as typed. It is checked by parsing the header form
// back, as the receiving end will.
func address(name, addr string) (*mail.Address, error) {
	a := &mail.Address{Name: name, Address: addr}
	back, err := mail.ParseAddress(a.String())
	if err != nil || back.Name != name || back.Address != addr {
		return nil, errRecipient
	}
	return a, nil
}
