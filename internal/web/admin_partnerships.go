package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
)

type partnershipRow struct {
	event.Partnership
	Title     string
	TitleLang string // set when the title is not in the page's language
	When      string
}

type partnershipsPage struct {
	adminFrame
	Partnerships []partnershipRow
}

// partnershipsPage is GET /admin/orgs/:org/partnerships (owners): the
// events of other organisations that name this one as partner, to accept
// or decline (docs/access.md, "Partner organisations").
func (s *server) partnershipsPage(c *gin.Context) {
	ps, err := s.Events.Partnerships(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	p := partnershipsPage{adminFrame: frame(c, "partnerships")}
	for _, ps := range ps {
		title, tl := ps.Title.In(l.Lang, ps.DefaultLang)
		p.Partnerships = append(p.Partnerships, partnershipRow{Partnership: ps, Title: title, TitleLang: otherLang(l, tl),
			When: ps.StartsAt.In(event.Zone(ps.Timezone)).Format("2006-01-02 15:04")})
	}
	s.render(c, http.StatusOK, "admin_partnerships", l.T("admin.partnerships.title", nil), p)
}

// decidePartnership is POST /admin/orgs/:org/partnerships/:slug/accept and
// …/decline (owners of the partner organisation).
func (s *server) decidePartnership(accept bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		if _, err := s.Events.DecidePartnership(c.Request.Context(), p.OrgID, c.Param("slug"), accept, p.UserID); err != nil {
			_ = c.Error(err)
			return
		}
		msg := "admin.flash.partnership_declined"
		if accept {
			msg = "admin.flash.partnership_accepted"
		}
		s.flash(c, msg)
		c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/partnerships")
	}
}
