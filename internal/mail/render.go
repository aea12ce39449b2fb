package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	texttemplate "text/template"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/mailtemplates"
)

// Data is what every mail template gets; docs/mail.md describes it.
type Data struct {
	Lang    string
	Dir     string
	Subject string // set for the HTML layout's <title> once rendered
	BaseURL string
	Name    string // the recipient
	Event   EventData
	// Before is the event as it was, in event_changed mails; WhenChanged
	// and WhereChanged say what moved.
	Before       *EventData
	WhenChanged  bool
	WhereChanged bool
	Status       string // the registration's status
	PartySize    int
	Position     int // on the waitlist, when waitlisted
	ManageURL    string
	// CantComeURL is the one-click "I can't come" page of a confirmed
	// registration (reminder mails).
	CantComeURL string
	// Reason is the organisers' reason for declining (declined mails).
	Reason string
	// ConfirmURL is the confirmation link of a pending registration, valid
	// until ConfirmBy (confirm_email mails).
	ConfirmURL string
	ConfirmBy  string
	Tickets    []TicketData
	// NewTickets counts the tickets a change added (changed mails).
	NewTickets int
	// Calendar is true when an iCalendar entry is attached.
	Calendar bool
	// Sessions are the sessions the registration chose; About are the
	// sessions a session mail is about (sessions.go).
	Sessions []SessionData
	About    []SessionData
	// Staff is set in emails to staff instead of Event and the rest.
	Staff *StaffData
	// Message is an organiser's message (kind "message").
	Message *MessageData
	// Notify is a notification to an organisation (kind "org_changes").
	Notify *NotifyData
}

// EventData is an event as a mail shows it, in the mail's language.
type EventData struct {
	Title     string
	TitleLang string // set when the title is not in the mail's language
	When      string
	Venue     event.Venue
	Address   string
	URL       string
	OrgName   string
	OrgEmail  string
	Cancelled bool
}

// Place is the venue and its address on one line ("Kulturzentrum Faust,
// Zur Bettfedernfabrik 3, 30451 Hannover"), empty without either. Mails
// isolate it as one unit (isolate, <bdi>): in a right-to-left mail the
// parts would otherwise be ordered right to left, venue after street.
func (d EventData) Place() string {
	switch {
	case d.Venue.Name != "" && d.Address != "":
		return d.Venue.Name + ", " + d.Address
	case d.Venue.Name != "":
		return d.Venue.Name
	}
	return d.Address
}

// TicketData is one ticket in a mail.
type TicketData struct {
	N, Total int
	Code     string
	URL      string
	// QR is the inline image of the ticket's QR code (cid:qr-N.png).
	QR htmltemplate.URL
	// New marks a ticket that a change added (changed mails).
	New bool
}

// rendered is one mail's texts.
type rendered struct {
	Subject, Text, HTML string
}

// templates holds one parsed text and HTML template per kind and language:
// the same files for every language, with T and N bound to that language's
// catalogue.
type templates struct {
	text map[string]*texttemplate.Template // by kind and language: confirmed.de
	html map[string]*htmltemplate.Template
	def  string
}

var kindFileRE = regexp.MustCompile(`^([a-z_]+)\.txt$`)

// parsedTemplates keeps the parsed templates per catalogue and default
// language: they never change and are safe to execute concurrently, and a
// catalogue of the shipped files is itself shared (i18n.Load), so every
// outbox of a process (the tests start hundreds) parses them once.
var (
	parsedMu        sync.Mutex
	parsedTemplates = map[parsedKey]*templates{}
)

type parsedKey struct {
	cat *i18n.Catalogue
	def string
}

func templatesFor(cat *i18n.Catalogue, def string) (*templates, error) {
	// One mutex around the whole parse: apps that start side by side (the
	// tests) wait for the first to parse instead of each parsing.
	parsedMu.Lock()
	defer parsedMu.Unlock()
	key := parsedKey{cat, def}
	if t, ok := parsedTemplates[key]; ok {
		return t, nil
	}
	t, err := parseTemplates(cat, def)
	if err != nil {
		return nil, err
	}
	parsedTemplates[key] = t
	return t, nil
}

// parseTemplates parses every {kind}.txt/.html of mailtemplates, each on
// the base layout and the common blocks, once per language that has a
// catalogue; a broken template stops the start. def is the language used
// where the recipient's has no catalogue.
func parseTemplates(cat *i18n.Catalogue, def string) (*templates, error) {
	t := &templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}, def: def}
	files, err := fs.Glob(mailtemplates.FS, "*.txt")
	if err != nil {
		return nil, err
	}
	for _, lang := range config.Languages {
		if !cat.Has(lang) {
			continue
		}
		l := cat.For(lang)
		for _, f := range files {
			m := kindFileRE.FindStringSubmatch(f)
			if m == nil || m[1] == "common" || m[1] == "base" {
				continue
			}
			kind := m[1]
			key := kind + "." + lang
			tt, err := texttemplate.New("base.txt").Funcs(textFuncs(l)).ParseFS(mailtemplates.FS, "base.txt", "common.txt", f)
			if err != nil {
				return nil, fmt.Errorf("mail template %s: %w", f, err)
			}
			if tt.Lookup("subject") == nil || tt.Lookup("body") == nil {
				return nil, fmt.Errorf("mail template %s: needs a subject and a body block", f)
			}
			ht, err := htmltemplate.New("base.html").Funcs(htmlFuncs(l)).ParseFS(mailtemplates.FS, "base.html", "common.html", kind+".html")
			if err != nil {
				return nil, fmt.Errorf("mail template %s.html: %w", kind, err)
			}
			t.text[key], t.html[key] = tt, ht
		}
	}
	if !t.has("confirmed", def) && !t.has("confirmed", "de") {
		return nil, fmt.Errorf("mail templates: none in %s or de", def)
	}
	return t, nil
}

func (t *templates) has(kind, lang string) bool { return t.text[kind+"."+lang] != nil }

// lang picks the language a kind is written in for a recipient: theirs,
// else the installation's default, else German.
func (t *templates) lang(kind, want string) string {
	for _, l := range []string{want, t.def, "de"} {
		if t.has(kind, l) {
			return l
		}
	}
	return want
}

// render writes one mail of kind in d.Lang (already picked by lang).
func (t *templates) render(kind string, d *Data) (*rendered, error) {
	key := kind + "." + d.Lang
	tt, ht := t.text[key], t.html[key]
	if tt == nil {
		return nil, fmt.Errorf("no mail template %s", key)
	}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", d); err != nil {
		return nil, fmt.Errorf("render %s subject: %w", key, err)
	}
	// A subject is one line, whatever the event's title holds.
	d.Subject = strings.Join(strings.Fields(subj.String()), " ")
	if err := tt.Execute(&text, d); err != nil {
		return nil, fmt.Errorf("render %s text: %w", key, err)
	}
	if err := ht.Execute(&html, d); err != nil {
		return nil, fmt.Errorf("render %s html: %w", key, err)
	}
	return &rendered{Subject: d.Subject, Text: tidyText(text.String()), HTML: html.String()}, nil
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidyText folds the blank lines that optional template blocks leave into
// one and trims the ends.
func tidyText(s string) string {
	return strings.TrimSpace(blankLines.ReplaceAllString(s, "\n\n")) + "\n"
}
