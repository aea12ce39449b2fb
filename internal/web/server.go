// Package web is the pages' face of Treffpunkt: its Gin router, the
// middleware every page passes, and the server-rendered pages. The JSON
// API (package api) stands beside it; the app mounts both (internal/app).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"
	"github.com/justinas/nosurf"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/calendar"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/member"
	"treffpunkt/internal/message"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/web"
)

// Deps is what the router needs.
type Deps struct {
	Config        *config.Config
	Log           *slog.Logger
	Events        *event.Service
	Registrations *registration.Service
	Orgs          *org.Service
	Auth          *auth.Service
	Members       *member.Service
	Calendar      *calendar.Service
	Checkins      *checkin.Service
	Messages      *message.Service
	Catalogue     *i18n.Catalogue
	// SessionStore keeps staff sessions (postgresstore on the sessions
	// table, so that every instance sees every session).
	SessionStore scs.Store
	// Ready reports whether the database answers.
	Ready func(ctx context.Context) error
	// Metrics is served at /metrics; nil gets a registry of its own
	// without the database's series.
	Metrics *metrics.Metrics
	// Audit is the log of staff actions; nil records nothing (tools).
	Audit *audit.Log
	// Limits are the sign-up limits shared with the API; nil makes a set of
	// the page's own.
	Limits *httpcode.Limits
}

type server struct {
	Deps
	pages    map[string]*template.Template
	sessions *scs.SessionManager
	throttle *auth.LoginThrottle
	embed    embedKeys
	// routes are the router's patterns, for logs written before Gin has
	// matched a request (the CSRF check).
	routes gin.RoutesInfo
}

// New builds the pages' face: pages, static files, feeds, health and
// metrics. The app mounts it beside the API.
func New(d Deps) (*Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &server{Deps: d}
	var err error
	if s.pages, err = parsedPages(); err != nil {
		return nil, err
	}
	if d.SessionStore == nil {
		return nil, errors.New("web: Deps.SessionStore is required")
	}
	if d.Calendar == nil {
		return nil, errors.New("web: Deps.Calendar is required")
	}
	if d.Checkins == nil {
		return nil, errors.New("web: Deps.Checkins is required")
	}
	s.sessions = newSessions(d.SessionStore, d.Config.SecureCookies(), s.sessionError)
	account, ip := auth.DefaultAccountLimit, auth.DefaultIPLimit
	if n := s.Config.LoginAttemptsPerAccount; n > 0 {
		account.Burst = n
	}
	if n := s.Config.LoginAttemptsPerIP; n > 0 {
		ip.Burst = n
	}
	s.throttle = auth.NewLoginThrottle(account, ip)
	if s.Metrics == nil {
		s.Metrics = metrics.New(nil)
	}
	if s.Limits == nil {
		s.Limits = httpcode.NewLimits(d.Config, s.Metrics)
	}

	r := gin.New()
	r.HandleMethodNotAllowed = true
	errs := s.errors()
	r.Use(httpcode.RequestID, httpcode.LogRequests(s.Log), httpcode.Observe(s.Metrics), httpcode.Recover(s.Log, errs.Respond),
		s.language, errs.Middleware, httpcode.ValidInput, s.currentUser)

	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		return nil, err
	}
	r.StaticFS("/static", http.FS(static))
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics())

	if err := r.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	signupLimit := s.Limits.Signups()

	r.GET("/", s.home)
	r.GET("/orgs/:org", s.orgPage)
	r.GET("/events/:slug", s.eventOrFeed)
	r.HEAD("/events/:slug", s.eventOrFeed)
	r.GET("/images/:name", s.image)
	r.HEAD("/images/:name", s.image)
	r.GET("/calendar.ics", s.networkFeed)
	r.HEAD("/calendar.ics", s.networkFeed)
	r.GET("/orgs/:org/calendar.ics", s.orgFeed)
	r.HEAD("/orgs/:org/calendar.ics", s.orgFeed)
	r.GET("/feeds/:token", s.personalFeed)
	r.HEAD("/feeds/:token", s.personalFeed)
	r.POST("/r/:token/calendar", s.registrationCalendar)
	r.POST("/events/:slug/register", signupLimit, s.register)
	r.GET("/r/:token", s.registrationPage)
	r.POST("/r/:token/cancel", s.cancelRegistration)
	r.POST("/r/:token/change", s.changeRegistration)
	r.POST("/r/:token/sessions/:key/cancel", s.leaveSession)
	r.GET("/r/:token/certificate", s.registrationCertificate)
	r.GET("/r/:token/cant-come", s.cantComePage)
	r.POST("/r/:token/cant-come", s.cantCome)
	r.GET("/verify/:code", s.limitVerify(), s.verify)
	r.GET("/confirm/:token", s.confirmPage)
	r.POST("/confirm/:token", s.confirmRegistration)
	r.GET("/t/:code", s.ticketPage)
	r.GET("/t/:code/qr.svg", s.ticketQR)
	s.loginRoutes(r)
	s.adminRoutes(r)
	s.checkinRoutes(r)
	s.embedRoutes(r, signupLimit)
	s.seriesRoutes(r)

	r.NoRoute(func(c *gin.Context) { _ = c.Error(httpcode.NotFound()) })
	r.NoMethod(func(c *gin.Context) { _ = c.Error(httpcode.MethodNotAllowed()) })
	s.routes = r.Routes()

	pages := s.withSessions(s.csrf(r))
	return &Handler{Handler: s.securityHeaders(s.limitBody(httpcode.BoundRequests(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The calendar feeds (feeds.go) and /metrics use no cookies or
		// forms.
		if isFeedRequest(req) || isImageRequest(req) || req.URL.Path == "/metrics" {
			r.ServeHTTP(w, req)
			return
		}
		pages.ServeHTTP(w, req)
	})))), engine: r}, nil
}

// Handler is the pages' face; Routes lists its routes, so that tests can
// prove every route is covered by the authorisation table.
type Handler struct {
	http.Handler
	engine *gin.Engine
}

// Routes lists every route of the face's Gin engine.
func (h *Handler) Routes() gin.RoutesInfo { return h.engine.Routes() }

// limitBody caps request bodies before anything reads them (the CSRF check
// parses forms): a declared oversize is answered 413 at once, an undeclared
// one fails while it is read.
func (s *server) limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := bodyLimit(r)
		if r.ContentLength > limit {
			// The door's scans are JSON calls.
			if strings.HasPrefix(r.URL.Path, "/checkin/events/") {
				l := s.Catalogue.For(s.Catalogue.Match(nil, r.Header.Get("Accept-Language")))
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_ = json.NewEncoder(w).Encode(httpcode.ErrorJSON(l, apperr.New(apperr.TooLarge, "err.too_large")))
				return
			}
			s.renderPlainError(w, r, http.StatusRequestEntityTooLarge, "err.too_large")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		h.ServeHTTP(w, r)
	})
}

// csrf protects every form POST with nosurf's double-submit token and its
// Origin/Referer check. The JSON API does not pass through it: it accepts
// only application/json, which a cross-site form cannot send, and staff
// calls carry a bearer token rather than a cookie.
func (s *server) csrf(h http.Handler) http.Handler {
	c := nosurf.New(h)
	secure := s.Config.SecureCookies()
	c.SetBaseCookie(http.Cookie{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: nosurf.MaxAge})
	c.SetIsTLSFunc(func(*http.Request) bool { return secure })
	// The embedded form cannot count on cookies in a cross-site frame; it
	// carries its own signed token (embed.go).
	c.ExemptFunc(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/embed/") })
	if base, err := url.Parse(s.Config.BaseURL); err == nil {
		// Behind a proxy r.Host may differ from the public host: accept the
		// public origin too.
		origin := base.Scheme + "://" + base.Host
		c.SetIsAllowedOriginFunc(func(u *url.URL) bool {
			return strings.EqualFold(u.Scheme+"://"+u.Host, origin)
		})
	}
	c.SetFailureHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The route, never the path: paths carry manage tokens and links.
		s.Log.Info("csrf check failed", "reason", nosurf.Reason(r).Error(), "method", r.Method, "route", routeOf(s.routes, r.Method, r.URL.Path))
		s.renderPlainError(w, r, http.StatusForbidden, "err.csrf")
	}))
	return c
}

// routeOf names the pattern of the route that method and path reach
// ("/r/:token/cancel"), or "unmatched", as Gin's FullPath would. Where
// several match, the one with the most literal segments wins, as in Gin.
func routeOf(routes gin.RoutesInfo, method, path string) string {
	best, bestScore := "unmatched", -1
	segs := strings.Split(path, "/")
	for _, rt := range routes {
		if rt.Method != method {
			continue
		}
		if score, ok := matchRoute(strings.Split(rt.Path, "/"), segs); ok && score > bestScore {
			best, bestScore = rt.Path, score
		}
	}
	return best
}

// matchRoute matches path segments against a pattern's and counts the
// literal segments.
func matchRoute(pattern, segs []string) (int, bool) {
	score := 0
	for i, p := range pattern {
		if strings.HasPrefix(p, "*") {
			return score, true
		}
		if i >= len(segs) {
			return 0, false
		}
		switch {
		case strings.HasPrefix(p, ":"):
			if segs[i] == "" {
				return 0, false
			}
		case p == segs[i]:
			score++
		default:
			return 0, false
		}
	}
	return score, len(pattern) == len(segs)
}
