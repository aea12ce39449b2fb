package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// Message is a received message taken apart.
type Message struct {
	Header  mail.Header
	Subject string // decoded
	// To is the decoded To address.
	To         *mail.Address
	Text, HTML string
	// Parts are the leaf parts in order, bodies decoded.
	Parts []Part
	// Alternative lists the media types inside multipart/alternative, in
	// order.
	Alternative []string
}

// Part is one leaf MIME part.
type Part struct {
	Header      textproto.MIMEHeader
	MediaType   string
	Params      map[string]string
	Disposition string
	Filename    string
	ContentID   string
	Body        []byte
}

// Parse reads a message as a mail client would.
func Parse(data []byte) (*Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	m := &Message{Header: msg.Header}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if m.To, err = mail.ParseAddress(msg.Header.Get("To")); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	h := textproto.MIMEHeader(msg.Header)
	if err := m.walk(h, msg.Body, ""); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) walk(h textproto.MIMEHeader, body io.Reader, parent string) error {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content type %q: %w", h.Get("Content-Type"), err)
	}
	if parent == "multipart/alternative" {
		m.Alternative = append(m.Alternative, mt)
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header, p, mt); err != nil {
				return err
			}
		}
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		raw, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	case "base64":
		raw, err = base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, string(raw)))
	}
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mt, err)
	}
	p := Part{Header: h, MediaType: mt, Params: params, Body: raw, ContentID: strings.Trim(h.Get("Content-ID"), "<>")}
	if d, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		p.Disposition, p.Filename = d, dp["filename"]
	}
	m.Parts = append(m.Parts, p)
	switch {
	case mt == "text/plain" && p.Disposition != "attachment" && m.Text == "":
		m.Text = string(raw)
	case mt == "text/html" && p.Disposition != "attachment" && m.HTML == "":
		m.HTML = string(raw)
	}
	return nil
}

// Part returns the first part of media type mt, or nil.
func (m *Message) Part(mt string) *Part {
	for i := range m.Parts {
		if m.Parts[i].MediaType == mt {
			return &m.Parts[i]
		}
	}
	return nil
}
