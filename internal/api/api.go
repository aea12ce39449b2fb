// Package api is the JSON face under /api/v1: bind the request, call one
// service method, encode the answer. Errors go to the face's own error
// middleware via c.Error, which writes DESIGN.md's error body. It stands
// beside the pages' face (internal/web); the app mounts both. docs/api.md
// describes every route.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	memberlist "treffpunkt/internal/member"
	"treffpunkt/internal/message"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/org"
	"treffpunkt/internal/ratelimit"
	"treffpunkt/internal/registration"
)

// Deps is what the API needs.
type Deps struct {
	Config        *config.Config
	Events        *event.Service
	Registrations *registration.Service
	Orgs          *org.Service
	Auth          *auth.Service
	Members       *memberlist.Service
	Checkins      *checkin.Service
	Messages      *message.Service
	Log           *slog.Logger
	// Catalogue speaks the error messages in the client's language.
	Catalogue *i18n.Catalogue
	// Limits are the sign-up limits shared with the HTML form (per IP,
	// per address, member numbers); nil makes a set of the API's own.
	Limits *httpcode.Limits
	// Metrics counts requests and sign-up and check-in verdicts; nil
	// gets a registry of its own.
	Metrics *metrics.Metrics
	// Audit logs staff actions; nil records nothing.
	Audit *audit.Log
}

type handler struct {
	Deps
	// tokens is API_RATE_PER_TOKEN: requests per token per minute.
	tokens *ratelimit.Keyed
}

// Handler is the JSON face; Routes lists its routes, so that tests can
// prove every route is covered by the authorisation table.
type Handler struct {
	http.Handler
	engine *gin.Engine
}

// Routes lists every route of the face's Gin engine.
func (h *Handler) Routes() gin.RoutesInfo { return h.engine.Routes() }

// New builds the JSON face: every route under /api/v1, behind the
// middleware both faces share (httpcode) and its own error writer.
func New(d Deps) (*Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New(nil)
	}
	if d.Limits == nil {
		d.Limits = httpcode.NewLimits(d.Config, d.Metrics)
	}
	h := &handler{Deps: d, tokens: ratelimit.New(d.Config.APIRatePerToken, time.Minute)}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	errs := h.errors()
	r.Use(httpcode.RequestID, httpcode.LogRequests(d.Log), httpcode.Observe(d.Metrics), httpcode.Recover(d.Log, errs.Respond),
		h.language, errs.Middleware, httpcode.ValidInput)
	if err := r.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	h.routes(r.Group("/api/v1"))
	r.NoRoute(func(c *gin.Context) { _ = c.Error(httpcode.NotFound()) })
	r.NoMethod(func(c *gin.Context) { _ = c.Error(httpcode.MethodNotAllowed()) })
	return &Handler{Handler: h.headers(h.limitBody(httpcode.BoundRequests(r))), engine: r}, nil
}

// routes mounts the API's routes on g.
func (h *handler) routes(g *gin.RouterGroup) {
	d := h.Deps

	g.GET("/events", h.listEvents)
	g.GET("/events/:slug", h.getEvent)
	g.GET("/series/:slug", h.getSeries)
	g.POST("/events/:slug/registrations", d.Limits.Signups(), h.signUp)
	g.POST("/registrations/:token/cancel", h.cancelRegistration)
	g.PATCH("/registrations/:token", h.changeRegistration)
	g.POST("/registrations/:token/sessions/:key/cancel", h.leaveSession)

	staff := g.Group("/orgs/:org", h.requireStaff(auth.Organiser))
	staff.GET("/events", h.listOrgEvents)
	staff.POST("/events", h.createEvent)
	staff.GET("/events/:slug", h.getOrgEvent)
	staff.PATCH("/events/:slug", h.updateEvent)
	staff.POST("/events/:slug/cancel", h.cancelEvent)
	staff.PUT("/events/:slug/image", h.putImage)
	staff.DELETE("/events/:slug/image", h.deleteImage)
	staff.POST("/series", h.createSeries)
	staff.GET("/series/:slug", h.getOrgSeries)
	staff.PATCH("/series/:slug", h.updateSeries)
	staff.GET("/events/:slug/registrations", h.listRegistrations)
	staff.GET("/events/:slug/registrations.csv", h.registrationsCSV)
	staff.PATCH("/events/:slug/registrations/:id", h.changeRegistrationByOrganiser)
	staff.POST("/events/:slug/registrations/approve", h.approveRegistrations)
	staff.POST("/events/:slug/registrations/:id/approve", h.approveRegistration)
	staff.POST("/events/:slug/registrations/:id/decline", h.declineRegistration)
	staff.POST("/events/:slug/messages", h.sendMessage)
	staff.GET("/events/:slug/messages", h.listMessages)
	staff.GET("/events/:slug/sessions/:key/registrations", h.sessionRegistrations)
	staff.GET("/events/:slug/sessions/:key/registrations.csv", h.sessionRegistrationsCSV)
	staff.PUT("/members", h.putMembers)
	g.GET("/orgs/:org/audit", h.requireStaff(auth.Owner), h.auditLog)
	g.GET("/orgs/:org", h.requireStaff(auth.Owner), h.getOrgSettings)
	g.PATCH("/orgs/:org", h.requireStaff(auth.Owner), h.updateOrgSettings)
	owner := g.Group("/orgs/:org/partnerships", h.requireStaff(auth.Owner))
	owner.GET("", h.listPartnerships)
	owner.POST("/:slug/accept", h.decidePartnership(true))
	owner.POST("/:slug/decline", h.decidePartnership(false))

	registerFigures(g, registerCheckin(g, h), staff, h)
}

// now is the registration service's clock, so that registration_open agrees
// with what a sign-up is told, also in tests that set the clock.
func (h *handler) now() time.Time { return h.Registrations.Now() }
