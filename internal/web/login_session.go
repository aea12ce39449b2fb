package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/httpcode"
)

// Staff sessions are server-side (scs with its PostgreSQL store, table
// sessions): the cookie holds only a random token, the table only its
// SHA-256. A session ends after sessionIdle without a request and at the
// latest sessionLifetime after login.
const (
	sessionIdle     = 2 * time.Hour
	sessionLifetime = 12 * time.Hour

	sessUserID  = "user_id"
	sessVersion = "session_version"
	sessFlash   = "flash"
	ctxUser     = "web.user"
)

type sessionMarker struct{}

func newSessions(store scs.Store, secure bool, onError func(http.ResponseWriter, *http.Request, error)) *scs.SessionManager {
	m := scs.New()
	m.Store = store
	m.HashTokenInStore = true
	m.IdleTimeout = sessionIdle
	m.Lifetime = sessionLifetime
	m.Cookie.Name = "treffpunkt_session"
	if secure {
		// The __Host- prefix makes browsers insist on Secure, Path=/ and no
		// Domain, so a sibling subdomain cannot plant a session cookie.
		m.Cookie.Name = "__Host-treffpunkt_session"
	}
	m.Cookie.HttpOnly = true
	m.Cookie.Secure = secure
	m.Cookie.SameSite = http.SameSiteLaxMode
	m.Cookie.Path = "/"
	// A cookie without Max-Age ends with the browser; the server ends the
	// session anyway after the idle timeout.
	m.Cookie.Persist = false
	m.ErrorFunc = onError
	return m
}

// withSessions loads and saves the session around every page request.
// The JSON API (bearer tokens, no cookies), static files and health checks
// go without: they need no session and should not cost a database read.
func (s *server) withSessions(h http.Handler) http.Handler {
	marked := s.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionMarker{}, true)))
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/readyz" {
			h.ServeHTTP(w, r)
			return
		}
		marked.ServeHTTP(w, r)
	})
}

func hasSession(ctx context.Context) bool {
	ok, _ := ctx.Value(sessionMarker{}).(bool)
	return ok
}

// currentUser finds the signed-in staff member of the request, if any. A
// session whose account has since changed its password (its session
// version rose) or disappeared is ended.
func (s *server) currentUser(c *gin.Context) {
	ctx := c.Request.Context()
	if !hasSession(ctx) {
		c.Next()
		return
	}
	id := s.sessions.GetInt64(ctx, sessUserID)
	if id == 0 {
		c.Next()
		return
	}
	u, err := s.Auth.User(ctx, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		_ = c.Error(err)
		c.Abort()
		return
	}
	if u == nil || u.SessionVersion != s.sessions.GetInt(ctx, sessVersion) {
		if err := s.sessions.Destroy(ctx); err != nil {
			_ = c.Error(apperr.Wrap(err, "end session"))
			c.Abort()
			return
		}
		c.Next()
		return
	}
	c.Set(ctxUser, u)
	c.Next()
}

// user is the signed-in staff member, or nil.
func user(c *gin.Context) *auth.User {
	if u, ok := c.Get(ctxUser); ok {
		return u.(*auth.User)
	}
	return nil
}

// signIn starts a session for u under a new token, so that a token planted
// before the login (session fixation) is worthless after it.
func (s *server) signIn(ctx context.Context, u *auth.User) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return apperr.Wrap(err, "renew session")
	}
	s.sessions.Put(ctx, sessUserID, u.ID)
	s.sessions.Put(ctx, sessVersion, u.SessionVersion)
	return nil
}

// flash keeps a message id for the next page the user sees.
func (s *server) flash(c *gin.Context, msgID string) {
	if hasSession(c.Request.Context()) {
		s.sessions.Put(c.Request.Context(), sessFlash, msgID)
	}
}

// popFlash returns and forgets the flash message id, if any.
func (s *server) popFlash(c *gin.Context) string {
	ctx := c.Request.Context()
	if !hasSession(ctx) || user(c) == nil {
		return ""
	}
	return s.sessions.PopString(ctx, sessFlash)
}

// sessionError answers when the session store fails (the database is
// down): an error page rather than scs's bare 500.
func (s *server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	if apperr.From(err).Code == apperr.Unavailable {
		s.Log.Warn("session store: database unavailable", "error", err.Error())
		w.Header().Set("Retry-After", httpcode.RetryAfter)
		s.renderPlainError(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	s.Log.Error("session store", "error", err.Error())
	s.renderPlainError(w, r, http.StatusInternalServerError, "err.internal")
}
