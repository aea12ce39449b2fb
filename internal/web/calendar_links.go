package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/calendar"
	"treffpunkt/internal/registration"
)

// feedLink is a feed's address twice: https for copying into a calendar
// app, webcal for a tap that opens the calendar app's subscribe dialogue.
type feedLink struct {
	HTTPS  string
	Webcal template.URL
}

// Feed links the feed at path (which may carry a query) in the page's
// language.
func (v *View) Feed(path string) feedLink {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := v.BaseURL + path + sep + "lang=" + url.QueryEscape(v.Lang)
	webcal := "webcal://" + strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	// The address comes from BASE_URL and our own paths; html/template
	// would otherwise refuse the webcal scheme.
	return feedLink{HTTPS: u, Webcal: template.URL(webcal)} //nolint:gosec // see above
}

// subscribeBox is what the "subscribe" partial shows.
type subscribeBox struct {
	V                    *View
	ID                   string
	Heading, Intro, Note string
	Link                 feedLink
}

// Subscribe fills the "subscribe" partial for link, with an element id, a
// heading and an introduction.
func (v *View) Subscribe(link feedLink, id, heading, intro string) subscribeBox {
	return subscribeBox{V: v, ID: id, Heading: heading, Intro: intro, Link: link}
}

// Noted adds a note under the introduction.
func (b subscribeBox) Noted(note string) subscribeBox {
	b.Note = note
	return b
}

// HomeFeed is the feed that matches the home page's filters.
func (v *View) HomeFeed(org, kind string) feedLink {
	path := "/calendar.ics"
	if org != "" {
		path = "/orgs/" + url.PathEscape(org) + "/calendar.ics"
	}
	if kind != "" {
		path += "?kind=" + url.QueryEscape(kind)
	}
	return v.Feed(path)
}

// GoogleCalendar opens Google Calendar's "new event" form filled in with e.
func (v *View) GoogleCalendar(e eventView) string {
	return calendar.GoogleCalendarURL(e.src, v.Lang, v.BaseURL)
}

// personalFeedView is the registration page's part on the personal feed.
type personalFeedView struct {
	Token   string // the feed's token; empty when the registration is in none
	CanJoin bool
}

// feedCookie remembers the personal feed's token in this browser, so that
// the pages of the same person's other registrations can offer to add them
// to it (docs/calendar.md). Only the registration pages receive it.
const feedCookie = "tp_feed"

func (s *server) rememberedFeed(c *gin.Context) string {
	v, _ := c.Cookie(feedCookie)
	return v
}

func (s *server) rememberFeed(c *gin.Context, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: feedCookie, Value: token, Path: "/r/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.Config.SecureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

// personalFeedFor says what the page of r shows of the personal feed.
func (s *server) personalFeedFor(c *gin.Context, r *registration.Registration) (personalFeedView, error) {
	remembered := s.rememberedFeed(c)
	link, err := s.Calendar.LinkFor(c.Request.Context(), r.ID, r.Email, remembered)
	if err != nil {
		return personalFeedView{}, err
	}
	if link.Token != "" && link.Token != remembered {
		s.rememberFeed(c, link.Token)
	}
	return personalFeedView{Token: link.Token, CanJoin: link.CanJoin}, nil
}

// registrationCalendar takes the registration page's calendar buttons:
// create a personal feed link, add this registration to the feed the
// browser remembers, or replace the link with a new one.
func (s *server) registrationCalendar(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.Registrations.ByToken(ctx, c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	var token string
	switch c.PostForm("action") {
	case "join":
		token, err = s.Calendar.JoinLink(ctx, r.ID, r.Email, s.rememberedFeed(c))
	case "new":
		token, err = s.Calendar.RenewLink(ctx, r.ID)
	default:
		token, err = s.Calendar.CreateLink(ctx, r.ID)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.rememberFeed(c, token)
	c.Header("Referrer-Policy", "no-referrer")
	c.Redirect(http.StatusSeeOther, "/r/"+r.ManageToken+"#calendar")
}
