// Package api is the JSON API under /api/v1: bind the request, call one
// service method, encode the answer. Errors go to the router's error
// middleware via c.Error, which writes DESIGN.md's error body. docs/api.md
// describes every route.
package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	memberlist "treffpunkt/internal/member"
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
	// SignupLimit guards the sign-up route (a per-IP rate limit shared with
	// the HTML form); nil means no limit.
	SignupLimit gin.HandlerFunc
	// EmailLimit takes one sign-up of an address from the per-address
	// limit (shared with the HTML form); when it is spent it has answered
	// 429 and says false. nil means no limit.
	EmailLimit func(c *gin.Context, email string) bool
	// NumberLimit takes one attempt with a member number from the client
	// IP's limit (shared with the HTML form), like EmailLimit.
	NumberLimit func(c *gin.Context, number string) bool
	// Metrics counts sign-up and check-in verdicts; nil counts nothing.
	Metrics *metrics.Metrics
	// Audit logs staff actions; nil records nothing.
	Audit *audit.Log
}

type handler struct {
	Deps
	// tokens is API_RATE_PER_TOKEN: requests per token per minute.
	tokens *ratelimit.Keyed
}

// Register mounts the API's routes on g.
func Register(g *gin.RouterGroup, d Deps) {
	h := &handler{Deps: d, tokens: ratelimit.New(d.Config.APIRatePerToken, time.Minute)}

	g.GET("/events", h.listEvents)
	g.GET("/events/:slug", h.getEvent)
	signUp := []gin.HandlerFunc{h.signUp}
	if d.SignupLimit != nil {
		signUp = append([]gin.HandlerFunc{d.SignupLimit}, signUp...)
	}
	g.POST("/events/:slug/registrations", signUp...)
	g.POST("/registrations/:token/cancel", h.cancelRegistration)

	staff := g.Group("/orgs/:org", h.requireStaff(auth.Organiser))
	staff.GET("/events", h.listOrgEvents)
	staff.POST("/events", h.createEvent)
	staff.GET("/events/:slug", h.getOrgEvent)
	staff.PATCH("/events/:slug", h.updateEvent)
	staff.POST("/events/:slug/cancel", h.cancelEvent)
	staff.GET("/events/:slug/registrations", h.listRegistrations)
	staff.GET("/events/:slug/registrations.csv", h.registrationsCSV)
	staff.PUT("/members", h.putMembers)
	g.GET("/orgs/:org/audit", h.requireStaff(auth.Owner), h.auditLog)
	owner := g.Group("/orgs/:org/partnerships", h.requireStaff(auth.Owner))
	owner.GET("", h.listPartnerships)
	owner.POST("/:slug/accept", h.decidePartnership(true))
	owner.POST("/:slug/decline", h.decidePartnership(false))

	registerFigures(g, registerCheckin(g, h), staff, h)
}

// now is the registration service's clock, so that registration_open agrees
// with what a sign-up is told, also in tests that set the clock.
func (h *handler) now() time.Time {
	if h.Registrations.Now != nil {
		return h.Registrations.Now()
	}
	return time.Now()
}
