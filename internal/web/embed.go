package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/registration"
)

// The embedded pages (/embed/…) run inside an iframe on a member
// organisation's website, where the browser may refuse this site's cookies
// (Safari blocks third-party cookies, Chrome partitions or phases them out).
// So their form must not rest on the CSRF cookie: it carries a signed,
// short-lived token instead, and the POST checks that token and the Origin.
// docs/embed.md explains why this is enough.

const (
	ctxEmbed = "web.embed"
	// embedTokenTTL is how long an embedded form may stay open before it is
	// sent; a stale one is shown again with a fresh token and the values kept.
	embedTokenTTL = 4 * time.Hour
	embedKeyLabel = "treffpunkt embed form tokens v1"
)

// embedRoutes mounts the iframe pages. The sign-up keeps the per-IP limit.
func (s *server) embedRoutes(r *gin.Engine, signupLimit gin.HandlerFunc) {
	g := r.Group("/embed", s.markEmbed)
	g.GET("/events/:slug", s.eventPage)
	g.POST("/events/:slug/register", signupLimit, s.embedRegister)
	g.GET("/orgs/:org", s.embedOrg)
}

// markEmbed makes render use the frame layout (no header, no footer; links
// open outside the frame).
func (s *server) markEmbed(c *gin.Context) {
	c.Set(ctxEmbed, true)
	c.Next()
}

func isEmbed(c *gin.Context) bool { return c.GetBool(ctxEmbed) }

// embedKeys holds the HMAC key of the embed tokens, derived from the same
// secret as the calendar tokens (SECRET_KEY, or the generated one kept in
// the database), so that every instance accepts every other's tokens.
type embedKeys struct {
	mu  sync.Mutex
	key []byte
}

func (s *server) embedKey(c *gin.Context) ([]byte, error) {
	s.embed.mu.Lock()
	defer s.embed.mu.Unlock()
	if s.embed.key == nil {
		k, err := s.Calendar.DerivedKey(c.Request.Context(), embedKeyLabel)
		if err != nil {
			return nil, err
		}
		s.embed.key = k
	}
	return s.embed.key, nil
}

func embedMAC(key []byte, slug string, exp int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(slug + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// newEmbedToken signs the event's slug and an expiry: "<unix>.<mac>".
func newEmbedToken(key []byte, slug string, now time.Time) string {
	exp := now.Add(embedTokenTTL).Unix()
	return strconv.FormatInt(exp, 10) + "." + embedMAC(key, slug, exp)
}

// checkEmbedToken says whether tok was made for slug and has not expired.
func checkEmbedToken(key []byte, slug, tok string, now time.Time) bool {
	expS, mac, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(expS, 10, 64)
	if err != nil || now.Unix() > exp || exp > now.Add(embedTokenTTL+time.Minute).Unix() {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(embedMAC(key, slug, exp)))
}

// sameOrigin accepts a POST whose Origin (when the browser sends one) is
// this site: the embedded form is a document of this site, whatever page
// frames it.
func (s *server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if base, err := url.Parse(s.Config.BaseURL); err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, base.Scheme+"://"+base.Host) {
		return true
	}
	return strings.EqualFold(u.Host, r.Host)
}

// embedFormFields fills in what the embedded form adds to the event page:
// where it posts and its token.
func (s *server) embedFormFields(c *gin.Context, p *eventPage) error {
	key, err := s.embedKey(c)
	if err != nil {
		return err
	}
	p.FormAction = "/embed/events/" + url.PathEscape(p.Event.Slug) + "/register?lang=" + url.QueryEscape(localizer(c).Lang)
	p.EmbedToken = newEmbedToken(key, p.Event.Slug, time.Now())
	return nil
}

// embedRegister is the embedded form's POST: the token and the Origin
// replace nosurf's cookie check; the rest is the sign-up of the event page.
func (s *server) embedRegister(c *gin.Context) {
	slug := c.Param("slug")
	if err := c.Request.ParseForm(); err != nil {
		_ = c.Error(bodyError(err))
		return
	}
	key, err := s.embedKey(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if !s.sameOrigin(c.Request) {
		s.Log.Info("embed sign-up from a foreign origin", "route", c.FullPath())
		_ = c.Error(apperr.New(apperr.Forbidden, "err.csrf"))
		return
	}
	if !checkEmbedToken(key, slug, c.PostForm("embed_token"), time.Now()) {
		e, err := s.Events.GetPublic(c.Request.Context(), slug)
		if err != nil {
			_ = c.Error(err)
			return
		}
		form := signupForm{
			Name: strings.ToValidUTF8(c.PostForm("name"), ""), Email: strings.ToValidUTF8(c.PostForm("email"), ""),
			PartySize: strings.TrimSpace(c.PostForm("party_size")), BirthDate: c.PostForm("birth_date"),
			MemberNumber: c.PostForm("member_number"), Consent: c.PostForm("consent") != "",
		}
		s.renderEvent(c, http.StatusForbidden, e, form, apperr.New(apperr.Forbidden, "embed.expired"))
		return
	}
	s.register(c)
}

type embedDonePage struct {
	Event            eventView
	Status           string
	WaitlistPosition int
	ManageURL        string
}

// embedDone shows the sign-up's result inside the frame; the registration
// page with the tickets opens outside it.
func (s *server) embedDone(c *gin.Context, slug string, r *registration.Registration) {
	e, err := s.Events.GetPublic(c.Request.Context(), slug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	p := embedDonePage{
		Event: newEventView(l, e, time.Now()), Status: r.Status, WaitlistPosition: r.WaitlistPosition,
		ManageURL: s.Config.BaseURL + "/r/" + r.ManageToken,
	}
	s.render(c, http.StatusOK, "embed_done", p.Event.Title, p)
}

// embedOrg lists an organisation's upcoming events, each linking to its
// embedded form.
func (s *server) embedOrg(c *gin.Context) { s.orgEvents(c, "embed_org") }
