package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/i18n"
)

// adminRoutes mounts the organisers' area. Every route needs a session;
// every route under /admin/orgs/:org needs a role there (owner > organiser
// > door; a network admin is owner everywhere). The handlers scope every
// lookup to that organisation, so an id or slug of another organisation is
// a 404. docs/organisers.md has the table; admin_authz_test.go proves it
// route by route.
func (s *server) adminRoutes(r *gin.Engine) {
	admin := r.Group("/admin", s.requireUser)
	admin.GET("", s.adminHome)
	admin.GET("/stats", s.requireNetworkAdmin, s.networkStats)
	admin.GET("/stats.csv", s.requireNetworkAdmin, s.networkStatsCSV)

	organiser, owner := s.requireRole(auth.Organiser), s.requireRole(auth.Owner)
	o := admin.Group("/orgs/:org")
	o.GET("", organiser, s.adminOrg)
	o.GET("/new-event", organiser, s.newEventForm)
	o.POST("/new-event", organiser, s.createEvent)
	o.POST("/new-event/preview", organiser, s.previewNewEvent)
	o.GET("/events/:slug", organiser, s.editEventForm)
	o.POST("/events/:slug", organiser, s.updateEvent)
	o.GET("/events/:slug/preview", organiser, s.previewSavedEvent)
	o.POST("/events/:slug/preview", organiser, s.previewEventChange)
	o.POST("/events/:slug/cancel", organiser, s.cancelEvent)
	o.POST("/events/:slug/image", organiser, s.uploadImage)
	o.POST("/events/:slug/image/delete", organiser, s.deleteImage)
	o.POST("/events/:slug/duplicate", organiser, s.duplicateEvent)
	o.GET("/events/:slug/questions", organiser, s.questionsForm)
	o.POST("/events/:slug/questions", organiser, s.saveQuestions)
	o.GET("/events/:slug/sessions", organiser, s.sessionsForm)
	o.POST("/events/:slug/sessions", organiser, s.saveSessions)
	o.GET("/events/:slug/registrations", organiser, s.attendees)
	o.GET("/events/:slug/registrations.csv", organiser, s.attendeesCSV)
	o.GET("/events/:slug/registrations.xlsx", organiser, s.attendeesXLSX)
	o.POST("/events/:slug/registrations/:id/cancel", organiser, s.cancelAttendee)
	o.POST("/events/:slug/registrations/:id/move-up", organiser, s.moveUpAttendee)
	o.POST("/events/:slug/registrations/:id/resend", organiser, s.resendConfirmation)
	o.POST("/events/:slug/registrations/:id/erase", organiser, s.eraseAttendee)
	o.POST("/events/:slug/registrations/:id/approve", organiser, s.approveAttendee)
	o.POST("/events/:slug/registrations/:id/decline", organiser, s.declineAttendee)
	o.GET("/events/:slug/release-no-shows", organiser, s.releaseNoShowsConfirm)
	o.POST("/events/:slug/release-no-shows", organiser, s.releaseNoShows)
	o.GET("/events/:slug/messages", organiser, s.adminMessages)
	o.POST("/events/:slug/messages/preview", organiser, s.confirmMessage)
	o.POST("/events/:slug/messages", organiser, s.sendMessage)
	o.GET("/events/:slug/messages/:id", organiser, s.messageDelivery)
	o.GET("/events/:slug/messages.json", organiser, s.messageCounts)
	// Paper (paper.go): door staff print the door list too.
	o.GET("/events/:slug/door-list", s.requireRole(auth.Door), s.doorList)
	o.GET("/events/:slug/badges", organiser, s.badges)
	o.GET("/events/:slug/certificates", organiser, s.eventCertificates)
	s.adminSeriesRoutes(o, organiser)
	o.GET("/members", organiser, s.membersPage)
	o.POST("/members", organiser, s.uploadMembers)
	o.GET("/embed", organiser, s.embedSnippets)
	o.GET("/stats", organiser, s.adminStats)
	o.GET("/stats.csv", organiser, s.adminStatsCSV)
	o.GET("/staff", owner, s.staffPage)
	o.POST("/staff", owner, s.inviteStaff)
	o.POST("/staff/:user/role", owner, s.changeStaffRole)
	o.POST("/staff/:user/remove", owner, s.removeStaff)
	o.GET("/tokens", owner, s.tokensPage)
	o.POST("/tokens", owner, s.createToken)
	o.POST("/tokens/:id/revoke", owner, s.revokeToken)
	o.GET("/audit", owner, s.auditLog)
	o.GET("/settings", owner, s.settingsForm)
	o.POST("/settings", owner, s.saveSettings)
	o.GET("/partnerships", owner, s.partnershipsPage)
	o.POST("/partnerships/:slug/accept", owner, s.decidePartnership(true))
	o.POST("/partnerships/:slug/decline", owner, s.decidePartnership(false))
}

const ctxPrincipal = "web.principal"

// requireUser sends visitors without a session to the login page, with the
// page they wanted (GET only: a form cannot be replayed after login).
func (s *server) requireUser(c *gin.Context) {
	if user(c) == nil {
		next := "/admin"
		if c.Request.Method == http.MethodGet {
			next = c.Request.URL.RequestURI()
		}
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
		c.Abort()
		return
	}
	// Admin pages hold personal data: no cache may keep them.
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "same-origin")
	c.Next()
}

// requireRole admits the signed-in user when they have at least role in
// :org. An organisation where they have no role is a 404, as if it did not
// exist; a role too low is a 403.
func (s *server) requireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.Auth.PrincipalFor(c.Request.Context(), user(c), c.Param("org"))
		if err != nil {
			_ = c.Error(err)
			c.Abort()
			return
		}
		if !p.Can(role) {
			_ = c.Error(apperr.New(apperr.Forbidden, "err.forbidden"))
			c.Abort()
			return
		}
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

// principal is who acts in the organisation of the request.
func principal(c *gin.Context) *auth.Principal {
	return c.MustGet(ctxPrincipal).(*auth.Principal)
}

// adminFrame is what every admin page shows around its content: the
// organisation, the section, and which sections the role may open.
type adminFrame struct {
	Org     *auth.Principal
	Section string
	IsOwner bool
	// Checkin shows the link to the door (/checkin): the user may check
	// people in (the door role or higher somewhere).
	Checkin bool
	// NetworkAdmin shows the link to the network's figures (/admin/stats).
	NetworkAdmin bool
}

func frame(c *gin.Context, section string) adminFrame {
	f := adminFrame{Section: section}
	if p, ok := c.Get(ctxPrincipal); ok {
		pr := p.(*auth.Principal)
		f = adminFrame{Org: pr, Section: section, IsOwner: pr.Can(auth.Owner), Checkin: pr.Can(auth.Door)}
	}
	if u := user(c); u != nil {
		f.NetworkAdmin = u.Admin
	}
	return f
}

func (s *server) orgPath(c *gin.Context) string { return "/admin/orgs/" + principal(c).OrgSlug }

type adminHomePage struct {
	adminFrame
	Email       string
	Memberships []auth.Membership
}

// adminHome is GET /admin: the organisations of the signed-in user.
func (s *server) adminHome(c *gin.Context) {
	u := user(c)
	ms, err := s.Auth.Memberships(c.Request.Context(), u)
	if err != nil {
		_ = c.Error(err)
		return
	}
	f := frame(c, "home")
	f.Checkin = u.Admin || len(ms) > 0
	s.render(c, http.StatusOK, "admin_home", localizer(c).T("admin.title", nil), adminHomePage{
		adminFrame: f, Email: u.Email, Memberships: ms,
	})
}

// otherLang is lang when a text in it is shown on a page in another
// language, for its lang attribute; "" when the page's language is it.
func otherLang(l *i18n.Localizer, lang string) string {
	if lang == l.Lang {
		return ""
	}
	return lang
}

// translateFields renders an error's field messages in l's language.
func translateFields(l *i18n.Localizer, ae *apperr.Error) map[string]string {
	out := make(map[string]string, len(ae.Fields))
	for f, m := range ae.Fields {
		out[f] = l.T(m.ID, m.Data)
	}
	return out
}
