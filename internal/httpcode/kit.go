package httpcode

// The middleware both faces run, in the same order, so that a page and an
// API call are logged, counted, bounded and recovered alike. Each face
// composes its own chain from these and writes its own errors (web: an
// error page, api: DESIGN.md's JSON error); the app mounts the two side by
// side.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/metrics"
)

// Keys of the values the middleware keeps on a gin.Context.
const (
	CtxRequestID = "request_id"
	CtxLocalizer = "localizer"
)

// While PostgreSQL is away the service stays up: a request that needs the
// database gets a clean 503 "unavailable" with Retry-After — never a hang,
// a panic or a 500 (docs/deployment.md).
const (
	// RequestTimeout bounds everything a request waits for, the database
	// included; it stays below the server's WriteTimeout so that the
	// answer (a 503) still reaches the client.
	RequestTimeout = 30 * time.Second
	// RetryAfter is the Retry-After of a 503, in seconds.
	RetryAfter = "5"
	// MaxBodyBytes bounds every request body unless a face allows more;
	// sign-up forms and API calls are a few hundred bytes.
	MaxBodyBytes = 64 << 10
)

// BoundRequests gives every request a deadline, so that a database that
// does not answer cannot hold a request (and its goroutine) for ever.
func BoundRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// CommonHeaders sets the security headers every answer of both faces
// carries; each face adds its Content-Security-Policy, framing and
// Referrer-Policy. https is whether BASE_URL is https (HSTS for a year).
func CommonHeaders(hd http.Header, https bool) {
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if https {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// RequestID gives every request an id, echoed in X-Request-ID and the log.
func RequestID(c *gin.Context) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	c.Set(CtxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// LogRequests writes one JSON line per request. It logs the route pattern,
// never the path: paths carry manage tokens and ticket codes.
func LogRequests(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		log.Info("request",
			"request_id", c.GetString(CtxRequestID),
			"method", c.Request.Method,
			"route", route,
			"status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"bytes", c.Writer.Size(),
		)
	}
}

// Observe counts the request in the metrics, by route pattern (never the
// path, which may carry a secret).
func Observe(m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.Request(c.Request.Method, route, c.Writer.Status(), time.Since(start))
	}
}

// Recover turns a panic into a logged 500, written by the face's
// writeError, instead of a dropped connection.
func Recover(log *slog.Logger, writeError func(*gin.Context)) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				log.Error("panic", "request_id", c.GetString(CtxRequestID), "panic", p, "stack", string(debug.Stack()))
				c.Errors = c.Errors[:0]
				_ = c.Error(apperr.New(apperr.Internal, "err.internal"))
				writeError(c)
				c.Abort()
			}
		}()
		c.Next()
	}
}

// ValidInput answers a path parameter or query value that is not valid
// UTF-8 or holds a NUL before any handler runs: no slug, token or filter
// looks like that, and PostgreSQL refuses such text with an error that
// would otherwise become a 500. A path parameter names nothing (404); a
// query is malformed (400).
func ValidInput(c *gin.Context) {
	for _, p := range c.Params {
		if !cleanText(p.Value) {
			_ = c.Error(NotFound())
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

// NotFound is the error of a path that names nothing.
func NotFound() error { return apperr.New(apperr.NotFound, "err.page_not_found") }

// MethodNotAllowed is the error of a known path asked with another method.
func MethodNotAllowed() error { return apperr.New(apperr.BadRequest, "err.method") }

// Localizer is the request's language, as the face's language middleware
// chose it; nil before it ran.
func Localizer(c *gin.Context) *i18n.Localizer {
	if l, ok := c.Get(CtxLocalizer); ok {
		return l.(*i18n.Localizer)
	}
	return nil
}

// Errors is how a face answers errors: the request's last error is
// prepared (Failure) and handed to Write with the request's localizer (the
// default language's when the error came before the language was chosen).
// Each face writes its own kind of answer: a JSON error, an error page.
type Errors struct {
	Log      *slog.Logger
	Fallback func() *i18n.Localizer
	Write    func(c *gin.Context, ae *apperr.Error, l *i18n.Localizer)
}

// Respond answers the request's last error.
func (e Errors) Respond(c *gin.Context) {
	ae := Failure(c, e.Log)
	l := Localizer(c)
	if l == nil {
		l = e.Fallback()
	}
	e.Write(c, ae, l)
}

// Middleware is the one place where a face's errors become responses:
// after the handlers, unless a response was already written. Internal
// errors are logged there, once.
func (e Errors) Middleware(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	e.Respond(c)
}

// Failure is the error the request ended with, prepared for either face:
// "unavailable" (a database that cannot be reached; apperr gives it the
// code) gets Retry-After and is logged as a warning, an internal error is
// logged once, a refused rate gets Retry-After.
func Failure(c *gin.Context, log *slog.Logger) *apperr.Error {
	ae := apperr.From(c.Errors.Last().Err)
	if ae.Code == apperr.Unavailable {
		c.Header("Retry-After", RetryAfter)
		if ae.Cause != nil {
			log.Warn("database unavailable", "request_id", c.GetString(CtxRequestID), "route", c.FullPath(), "error", ae.Cause.Error())
		}
	}
	if ae.Code == apperr.Internal {
		log.Error("internal error", "request_id", c.GetString(CtxRequestID), "route", c.FullPath(), "error", ae.Error())
	}
	if ae.Code == apperr.RateLimited && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "60")
	}
	return ae
}

// ErrorJSON is the JSON error body of DESIGN.md:
// {"error": {"code", "message", "fields": {...}}}, the API's and that of
// the pages' few JSON calls (the door's scans).
func ErrorJSON(l *i18n.Localizer, ae *apperr.Error) gin.H {
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
