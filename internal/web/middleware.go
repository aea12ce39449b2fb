package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
)

const (
	ctxRequestID = "request_id"
	ctxLocalizer = "localizer"
	langCookie   = "lang"
)

// requestID gives every request an id, echoed in X-Request-ID and the log.
func (s *server) requestID(c *gin.Context) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// logRequests writes one JSON line per request. It logs the route pattern,
// never the path: paths carry manage tokens and ticket codes.
func (s *server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.Log.Info("request",
		"request_id", c.GetString(ctxRequestID),
		"method", c.Request.Method,
		"route", route,
		"status", c.Writer.Status(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000,
		"bytes", c.Writer.Size(),
	)
}

// observe counts the request in the metrics, by route pattern (never the
// path, which may carry a secret).
func (s *server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.Metrics.Request(c.Request.Method, route, c.Writer.Status(), time.Since(start))
}

// recoverPanics turns a panic into a logged 500 instead of a dropped
// connection.
func (s *server) recoverPanics(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			s.Log.Error("panic", "request_id", c.GetString(ctxRequestID), "panic", p, "stack", string(debug.Stack()))
			c.Errors = c.Errors[:0]
			_ = c.Error(apperr.New(apperr.Internal, "err.internal"))
			s.writeError(c)
			c.Abort()
		}
	}()
	c.Next()
}

// language picks the request's language: ?lang= (remembered in a cookie),
// then the cookie, then Accept-Language, then the default.
func (s *server) language(c *gin.Context) {
	q := c.Query("lang")
	cookie, _ := c.Cookie(langCookie)
	lang := s.Catalogue.Match([]string{q, cookie}, c.GetHeader("Accept-Language"))
	if q != "" && q == lang && q != cookie && !isAPI(c) {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: s.Config.SecureCookies(), SameSite: http.SameSiteLaxMode,
		})
	}
	c.Set(ctxLocalizer, s.Catalogue.For(lang))
	c.Next()
}

// validInput answers a path parameter or query value that is not valid
// UTF-8 or holds a NUL before any handler runs: no slug, token or filter
// looks like that, and PostgreSQL refuses such text with an error that
// would otherwise become a 500. A path parameter names nothing (404); a
// query is malformed (400).
func (s *server) validInput(c *gin.Context) {
	for _, p := range c.Params {
		if !cleanText(p.Value) {
			_ = c.Error(notFound())
			c.Abort()
			return
		}
	}
	if c.Request.URL.RawQuery == "" {
		// The sign-up and check-in calls carry none: no map to build.
		c.Next()
		return
	}
	for k, vs := range c.Request.URL.Query() {
		ok := cleanText(k)
		for _, v := range vs {
			ok = ok && cleanText(v)
		}
		if !ok {
			_ = c.Error(apperr.New(apperr.BadRequest, "err.invalid"))
			c.Abort()
			return
		}
	}
	c.Next()
}

func cleanText(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

// metrics serves /metrics. With METRICS_TOKEN the token decides. Without
// one, only a peer on the loopback interface is answered (404 to others),
// and only for itself: a local reverse proxy that forwards someone else's
// request (X-Forwarded-For, from a proxy in TRUSTED_PROXIES) is refused
// too. The peer address decides first, so a forged X-Forwarded-For can only
// refuse, never admit.
func (s *server) metrics() gin.HandlerFunc {
	h := s.Metrics.Handler(s.Config.MetricsToken)
	if s.Config.MetricsToken != "" {
		return gin.WrapH(h)
	}
	return func(c *gin.Context) {
		if !loopback(c.Request.RemoteAddr) || !loopback(c.ClientIP()) {
			_ = c.Error(notFound())
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// loopback says whether addr ("host:port" or a bare IP) is a loopback address.
func loopback(addr string) bool {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

func localizer(c *gin.Context) *i18n.Localizer {
	if l, ok := c.Get(ctxLocalizer); ok {
		return l.(*i18n.Localizer)
	}
	return nil
}

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

// renderErrors is the one place where errors become responses: a JSON error
// for the API, an error page otherwise. Internal errors are logged here, once.
func (s *server) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	s.writeError(c)
}

func (s *server) writeError(c *gin.Context) {
	ae := unavailable(c.Errors.Last().Err)
	if ae.Code == apperr.Unavailable {
		c.Header("Retry-After", retryAfter)
		if ae.Cause != nil {
			s.Log.Warn("database unavailable", "request_id", c.GetString(ctxRequestID), "route", c.FullPath(), "error", ae.Cause.Error())
		}
	}
	if ae.Code == apperr.Internal {
		s.Log.Error("internal error", "request_id", c.GetString(ctxRequestID), "route", c.FullPath(), "error", ae.Error())
	}
	l := localizer(c)
	if l == nil {
		l = s.Catalogue.For(s.Config.DefaultLang)
	}
	if ae.Code == apperr.RateLimited && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "60")
	}
	if isAPI(c) {
		c.JSON(httpcode.Of(ae), errorJSON(l, ae))
		return
	}
	s.render(c, httpcode.Of(ae), "error", l.T("title.error", nil), errorPage{Message: l.T(ae.Msg.ID, ae.Msg.Data), Status: httpcode.Of(ae)})
}

// errorJSON is the API's error body of DESIGN.md:
// {"error": {"code", "message", "fields": {...}}}.
func errorJSON(l *i18n.Localizer, ae *apperr.Error) gin.H {
	body := gin.H{"code": ae.Code, "message": l.T(ae.Msg.ID, ae.Msg.Data)}
	if len(ae.Fields) > 0 {
		fields := make(map[string]string, len(ae.Fields))
		for f, m := range ae.Fields {
			fields[f] = l.T(m.ID, m.Data)
		}
		body["fields"] = fields
	}
	return gin.H{"error": body}
}

func notFound() error         { return apperr.New(apperr.NotFound, "err.page_not_found") }
func methodNotAllowed() error { return apperr.New(apperr.BadRequest, "err.method") }

// healthz says the process is up.
func (s *server) healthz(c *gin.Context) { c.String(http.StatusOK, "ok\n") }

// readyz says whether the database answers, for load balancers.
func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.Log.Warn("not ready", "error", err.Error())
		c.String(http.StatusServiceUnavailable, "database unavailable\n")
		return
	}
	c.String(http.StatusOK, "ready\n")
}
