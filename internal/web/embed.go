package web

import (
	"crypto/hmac"
	"crypto/rand"
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
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// The embedded pages (/embed/…) run inside an iframe on a member
// organisation's website, where the browser may refuse this site's cookies
// (Safari blocks third-party cookies, Chrome partitions or phases them out).
// So their form must not rest on the CSRF cookie: it carries a signed,
// short-lived, single-use token instead, and the POST checks that token and
// the Origin.
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

func embedMAC(key []byte, slug string, exp int64, nonce string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(slug + "\x00" + strconv.FormatInt(exp, 10) + "\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// newEmbedToken signs the event's slug, an expiry and a random nonce:
// "<unix>.<nonce>.<mac>". The nonce makes the token single-use
// (registration.ClaimFormToken).
func newEmbedToken(key []byte, slug string, now time.Time) string {
	exp := now.Add(embedTokenTTL).Unix()
	nonce := rand.Text()
	return strconv.FormatInt(exp, 10) + "." + nonce + "." + embedMAC(key, slug, exp, nonce)
}

// checkEmbedToken says whether tok was made for slug and has not expired,
// and returns its nonce and expiry.
func checkEmbedToken(key []byte, slug, tok string, now time.Time) (nonce string, expires time.Time, ok bool) {
	expS, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return "", time.Time{}, false
	}
	nonce, mac, ok := strings.Cut(rest, ".")
	if !ok || nonce == "" {
		return "", time.Time{}, false
	}
	exp, err := strconv.ParseInt(expS, 10, 64)
	if err != nil || now.Unix() > exp || exp > now.Add(embedTokenTTL+time.Minute).Unix() {
		return "", time.Time{}, false
	}
	if !hmac.Equal([]byte(mac), []byte(embedMAC(key, slug, exp, nonce))) {
		return "", time.Time{}, false
	}
	return nonce, time.Unix(exp, 0), true
}

// embedOrigin checks a POST's Origin: the embedded form is a document of
// this site, whatever page frames it, so a browser sends this site's
// origin. A foreign origin is a form on another site posting to us; a
// missing or "null" one (a sandboxed frame, a file, a script outside a
// browser) says nothing about where the post comes from, and the form's
// token alone can be fetched by anyone, so both are refused.
func (s *server) embedOrigin(r *http.Request) (ok bool, stated bool) {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false, false
	}
	u, err := url.Parse(o)
	if err != nil {
		return false, true
	}
	if base, err := url.Parse(s.Config.BaseURL); err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, base.Scheme+"://"+base.Host) {
		return true, true
	}
	return strings.EqualFold(u.Host, r.Host), true
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
	if ok, stated := s.embedOrigin(c.Request); !ok {
		msg := "err.csrf"
		if !stated {
			msg = "embed.no_origin"
		}
		s.Log.Info("embed sign-up refused", "reason", msg, "route", c.FullPath())
		_ = c.Error(apperr.New(apperr.Forbidden, msg))
		return
	}
	nonce, expires, ok := checkEmbedToken(key, slug, c.PostForm("embed_token"), time.Now())
	if !ok {
		s.embedAgain(c, slug, apperr.New(apperr.Forbidden, "embed.expired"))
		return
	}
	// Claimed before the sign-up: should the sign-up then be refused, the
	// form comes back with a fresh token, so the visitor loses nothing.
	if err := s.Registrations.ClaimFormToken(c.Request.Context(), nonce, expires); err != nil {
		if ae := apperr.From(err); ae.Code == apperr.Forbidden {
			s.embedAgain(c, slug, ae)
			return
		}
		_ = c.Error(err)
		return
	}
	s.register(c)
}

// embedAgain shows the embedded form again, with the values kept, a fresh
// token and why it was not taken.
func (s *server) embedAgain(c *gin.Context, slug string, why *apperr.Error) {
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
	s.renderEvent(c, http.StatusForbidden, e, form, why)
}

type embedDonePage struct {
	Event            eventView
	Status           string
	WaitlistPosition int
	ManageURL        string
}

// embedDone shows the sign-up's result inside the frame; the registration
// page with the tickets opens outside it. e is the event as the sign-up
// found it.
func (s *server) embedDone(c *gin.Context, e *event.Event, r *registration.Registration) {
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
