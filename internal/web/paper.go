package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/ratelimit"
	"treffpunkt/internal/registration"
)

// Pages made for paper (docs/organisers.md, "Paper"): the door list, name
// badges and certificates of attendance are HTML with print CSS
// (web/static/print.css: @page A4, rows and cards that never break) that
// the browser prints or saves as PDF. The browser shapes every script the
// network writes in; PDF libraries in Go do not shape Arabic.

// printHeader is what the top of every print page names: the event.
type printHeader struct {
	Event *event.Event
	Title string
	// TitleLang is set when the title is not in the page's language.
	TitleLang string
	When      string
	Place     string
	// Base is the event's address in the organisers' area.
	Base string
}

func (s *server) printHeader(c *gin.Context, e *event.Event) printHeader {
	l := localizer(c)
	title, lang := e.Title.In(l.Lang, e.DefaultLang)
	h := printHeader{
		Event: e, Title: title, When: l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
		Place: placeOf(e), Base: s.orgPath(c) + "/events/" + e.Slug,
	}
	if lang != l.Lang {
		h.TitleLang = lang
	}
	return h
}

// placeOf is the venue's name and address on one line.
func placeOf(e *event.Event) string {
	parts := []string{}
	if e.Venue.Name != "" {
		parts = append(parts, e.Venue.Name)
	}
	if a := e.Venue.Address(); a != "" {
		parts = append(parts, a)
	}
	return strings.Join(parts, ", ")
}

type doorRow struct {
	Name      string
	PartySize int
	// Seats has one entry per seat: a box to tick on paper.
	Seats []int
	Code  string
	// Answers answer the questions marked for the door.
	Answers []answerView
	// Sessions are the sessions the party holds a place in or waits for.
	Sessions []doorSession
}

// doorSession is a session on the door list or a badge: its title, and
// whether the party only waits for a place (with its position).
type doorSession struct {
	Title, TitleLang string
	Waiting          bool
	Position         int
}

// sessionHeader names the one session a door list is for (?session=key).
type sessionHeader struct {
	Key, Title, TitleLang string
	When, Room            string
}

// sessionLink leads from the door list to one session's list.
type sessionLink struct {
	Key, Title, TitleLang string
}

type doorListPage struct {
	printHeader
	Sort  string
	Rows  []doorRow
	Seats int
	// HasSessions adds the sessions column: the event has sessions.
	HasSessions bool
	// Session is set on one session's list; Links lead to each session's.
	Session *sessionHeader
	Links   []sessionLink
	// ByName and ByCode are the two sort orders' addresses (the session
	// kept).
	ByName, ByCode string
}

// doorSessions are r's live choices of e's sessions as the door list and
// the badges show them: the sessions it holds a place in, and those it
// waits for (marked), in the event's order.
func doorSessions(l *i18n.Localizer, e *event.Event, r *registration.Registration) []doorSession {
	var out []doorSession
	for _, c := range r.Sessions {
		if c.Status != registration.SessionConfirmed && c.Status != registration.SessionWaitlisted {
			continue
		}
		ses := e.Sessions.ByID(c.SessionID)
		if ses == nil {
			continue
		}
		title, lang := ses.Title.In(l.Lang, e.DefaultLang)
		ds := doorSession{Title: title, Waiting: c.Status == registration.SessionWaitlisted, Position: c.WaitlistPosition}
		if lang != l.Lang {
			ds.TitleLang = lang
		}
		out = append(out, ds)
	}
	return out
}

// doorListFrame is the door list's page without its rows: the sort order
// (sort), one session's head when key names a session of e (a 404
// otherwise), the links to each session's list and to both orders.
func doorListFrame(l *i18n.Localizer, h printHeader, e *event.Event, sort, key string) (doorListPage, error) {
	p := doorListPage{printHeader: h, Sort: registration.ByName, HasSessions: len(e.Sessions) > 0}
	if sort == registration.ByCode {
		p.Sort = registration.ByCode
	}
	q := url.Values{}
	if key != "" {
		ses := e.Sessions.ByKey(key)
		if ses == nil {
			return p, apperr.New(apperr.NotFound, "err.session_unknown", "Key", key)
		}
		title, lang := ses.Title.In(l.Lang, e.DefaultLang)
		p.Session = &sessionHeader{Key: key, Title: title, When: l.Span(ses.StartsAt, ses.EndsAt, false, e.Location()), Room: ses.Room}
		if lang != l.Lang {
			p.Session.TitleLang = lang
		}
		q.Set("session", key)
	}
	for _, ses := range e.Sessions {
		title, lang := ses.Title.In(l.Lang, e.DefaultLang)
		link := sessionLink{Key: ses.Key, Title: title}
		if lang != l.Lang {
			link.TitleLang = lang
		}
		p.Links = append(p.Links, link)
	}
	q.Set("sort", registration.ByName)
	p.ByName = "?" + q.Encode()
	q.Set("sort", registration.ByCode)
	p.ByCode = "?" + q.Encode()
	return p, nil
}

// doorList is GET …/events/:slug/door-list: the confirmed registrations on
// paper, for when the phone at the door dies, each with the sessions it
// chose. ?session=key is the list of one session's door: the parties that
// hold a place in it, under its title, time and room.
func (s *server) doorList(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	p, err := doorListFrame(l, s.printHeader(c, e), e, c.Query("sort"), c.Query("session"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	rs, err := s.Registrations.DoorList(c.Request.Context(), e.ID, p.Sort)
	if err == nil && p.Session != nil {
		rs = registration.HoldingPlaceIn(rs, p.Session.Key)
	}
	if err == nil {
		// Paper with names leaves the building like an export does.
		err = s.auditExport(c, e.Slug, "door-list", len(rs))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	for _, r := range rs {
		row := doorRow{Name: r.Name, PartySize: r.PartySize, Answers: doorAnswerViews(l, e, r), Sessions: doorSessions(l, e, r)}
		for _, t := range r.Tickets {
			row.Seats = append(row.Seats, t.Seat)
		}
		if len(r.Tickets) > 0 {
			row.Code = r.Tickets[0].Code
		}
		p.Seats += r.PartySize
		p.Rows = append(p.Rows, row)
	}
	title := l.T("paper.door.title", nil) + " · " + p.Title
	if p.Session != nil {
		title = l.T("paper.door.title", nil) + " · " + p.Session.Title + " · " + p.Title
	}
	s.render(c, http.StatusOK, "door_list", title, p)
}

type badge struct {
	Name string
	QR   template.HTML
	// Sessions are the sessions the party holds a place in (not those it
	// waits for: a badge is printed once, a waiting place may never come).
	Sessions []doorSession
}

type badgesPage struct {
	printHeader
	QR     bool
	Sheets [][]badge
}

// BadgesPerSheet is how many badges of about 90 × 55 mm an A4 sheet holds
// (two columns of four).
const BadgesPerSheet = 8

// badges is GET …/events/:slug/badges: a name badge per confirmed
// registration, eight to an A4 sheet; ?qr=1 prints the ticket's QR code on
// each, so that the badge can be scanned at the door.
func (s *server) badges(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	rs, err := s.Registrations.DoorList(c.Request.Context(), e.ID, registration.ByName)
	if err == nil {
		err = s.auditExport(c, e.Slug, "badges", len(rs))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := badgesPage{printHeader: s.printHeader(c, e), QR: c.Query("qr") == "1"}
	l := localizer(c)
	var sheet []badge
	for _, r := range rs {
		b := badge{Name: r.Name}
		for _, ds := range doorSessions(l, e, r) {
			if !ds.Waiting {
				b.Sessions = append(b.Sessions, ds)
			}
		}
		if p.QR && len(r.Tickets) > 0 {
			svg, err := qrSVG(s.Config.BaseURL + "/t/" + r.Tickets[0].Code)
			if err != nil {
				_ = c.Error(err)
				return
			}
			b.QR = template.HTML(svg) //nolint:gosec // drawn by package qr from our own URL
		}
		sheet = append(sheet, b)
		if len(sheet) == BadgesPerSheet {
			p.Sheets, sheet = append(p.Sheets, sheet), nil
		}
	}
	if len(sheet) > 0 {
		p.Sheets = append(p.Sheets, sheet)
	}
	s.render(c, http.StatusOK, "badges", l.T("paper.badges.title", nil)+" · "+p.Title, p)
}

// certView is one certificate, with every text in its own language: the
// organisers' print of a whole event holds certificates in seven languages.
type certView struct {
	Lang, Dir string
	Heading   string
	Confirms  string // "… confirms that"
	Name      string
	TookPart  string // "took part in"
	Title     string
	TitleLang string
	Facts     []answerView // date, duration, place
	Signature string
	Place     string // "Place, date" under the signature line
	CodeLabel string
	Code      string
	VerifyURL string
	QR        template.HTML
}

type certificatesPage struct {
	// Back is where the screen-only link leads.
	Back         string
	BackLabel    string
	Certificates []certView
	// Empty explains an organisers' print without check-ins.
	Empty string
}

// certificateView renders c for event e in l's language.
func (s *server) certificateView(l *i18n.Localizer, e *event.Event, c *registration.Certificate) (certView, error) {
	title, titleLang := e.Title.In(l.Lang, e.DefaultLang)
	// The organisation's name inside a sentence is isolated (FSI … PDI):
	// "MiSO e. V." in an Arabic sentence would otherwise lose its full stop
	// to the wrong end.
	org := map[string]any{"Org": "\u2068" + e.OrgName + "\u2069"}
	v := certView{
		Lang: l.Lang, Dir: i18n.Dir(l.Lang),
		Heading:  l.T("cert.heading", nil),
		Confirms: l.T("cert.confirms", org),
		Name:     c.Registration.Name,
		TookPart: l.T("cert.took_part", nil),
		Title:    title,
		Facts: []answerView{
			{Label: l.T("cert.date", nil), Text: l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location())},
			{Label: l.T("cert.duration", nil), Text: l.T("cert.hours", map[string]any{"Hours": hoursText(l.Lang, registration.Hours(e))})},
			{Label: l.T("cert.place", nil), Text: placeOf(e)},
			{Label: l.T("cert.org", nil), Text: e.OrgName},
		},
		Signature: l.T("cert.signature", org),
		Place:     l.T("cert.place_date", nil),
		CodeLabel: l.T("cert.code", nil),
		Code:      groupCode(c.Code),
		VerifyURL: s.Config.BaseURL + "/verify/" + c.Code,
	}
	if titleLang != l.Lang {
		v.TitleLang = titleLang
	}
	svg, err := qrSVG(v.VerifyURL)
	if err != nil {
		return v, err
	}
	v.QR = template.HTML(svg) //nolint:gosec // drawn by package qr from our own URL
	return v, nil
}

// hoursText writes a number of hours with a decimal comma or point as the
// language does, in its digits.
func hoursText(lang string, h float64) string {
	s := strconv.FormatFloat(h, 'f', -1, 64)
	switch lang {
	case "de", "ru", "tr", "ku":
		s = strings.Replace(s, ".", ",", 1)
	case "ar", "fa":
		s = strings.Replace(s, ".", "٫", 1)
	}
	return i18n.Digits(lang, s)
}

// groupCode writes a verification code in groups of four, so that it can
// be read off paper and typed.
func groupCode(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// certificateLang is the language of a participant's certificate: ?lang=
// when it is one of the catalogue's, else the language they signed up in.
func (s *server) certificateLang(c *gin.Context, regLang string) string {
	if q := c.Query("lang"); s.Catalogue.Has(q) {
		return q
	}
	if s.Catalogue.Has(regLang) {
		return regLang
	}
	return s.Config.DefaultLang
}

// registrationCertificate is GET /r/:token/certificate: the participant's
// certificate of attendance, once a ticket of theirs was checked in.
func (s *server) registrationCertificate(c *gin.Context) {
	ctx := c.Request.Context()
	c.Header("Referrer-Policy", "no-referrer")
	cert, err := s.Registrations.CertificateByToken(ctx, c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	e, err := s.Events.Get(ctx, cert.Registration.EventSlug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := s.Catalogue.For(s.certificateLang(c, cert.Registration.Lang))
	v, err := s.certificateView(l, e, cert)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.render(c, http.StatusOK, "certificates", v.Heading+" · "+v.Title, certificatesPage{
		Back: "/r/" + c.Param("token"), BackLabel: localizer(c).T("paper.back_registration", nil),
		Certificates: []certView{v},
	})
}

// eventCertificates is GET …/events/:slug/certificates: every certificate
// of the event, one per page, each in its holder's language (or all in
// ?lang=).
func (s *server) eventCertificates(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	certs, err := s.Registrations.EventCertificates(c.Request.Context(), e.ID)
	if err == nil {
		err = s.auditExport(c, e.Slug, "certificates", len(certs))
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	h := s.printHeader(c, e)
	p := certificatesPage{Back: h.Base + "/registrations", BackLabel: l.T("paper.back_attendees", nil)}
	for _, cert := range certs {
		v, err := s.certificateView(s.Catalogue.For(s.certificateLang(c, cert.Registration.Lang)), e, cert)
		if err != nil {
			_ = c.Error(err)
			return
		}
		p.Certificates = append(p.Certificates, v)
	}
	if len(p.Certificates) == 0 {
		p.Empty = l.T("paper.certificates.none", nil)
	}
	s.render(c, http.StatusOK, "certificates", l.T("cert.heading", nil)+" · "+h.Title, p)
}

type verifyPage struct {
	Genuine   bool
	Title     string
	TitleLang string
	When      string
	Org       string
	Initials  string
	Issued    string
}

// verifyRatePerIP bounds /verify lookups per client IP and minute: a person
// checks a handful of certificates, a script guessing codes many.
const verifyRatePerIP = 30

// limitVerify is the middleware of /verify/:code.
func (s *server) limitVerify() gin.HandlerFunc {
	l := ratelimit.New(verifyRatePerIP, time.Minute)
	return func(c *gin.Context) {
		if ok, wait := l.Allow(httpcode.ClientKey(c), time.Now()); !ok {
			httpcode.Refuse(c, s.Metrics, "verify_ip", "verify.rate_limited", wait)
			return
		}
		c.Next()
	}
}

// verify is GET /verify/:code (public): whether a certificate is genuine,
// for whom (initials) and for which event. After the retention erasure it
// still confirms the event, without the initials.
func (s *server) verify(c *gin.Context) {
	ctx := c.Request.Context()
	l := localizer(c)
	c.Header("Referrer-Policy", "no-referrer")
	v, err := s.Registrations.Verify(ctx, c.Param("code"))
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			s.render(c, http.StatusNotFound, "verify", l.T("verify.title", nil), verifyPage{})
			return
		}
		_ = c.Error(err)
		return
	}
	e, err := s.Events.Get(ctx, v.EventSlug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	title, lang := e.Title.In(l.Lang, e.DefaultLang)
	p := verifyPage{
		Genuine: true, Title: title, When: l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
		Org: e.OrgName, Initials: v.Initials, Issued: l.Date(v.IssuedAt.In(e.Location())),
	}
	if lang != l.Lang {
		p.TitleLang = lang
	}
	s.render(c, http.StatusOK, "verify", l.T("verify.title", nil), p)
}
