package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/httpcode"
)

type staffPage struct {
	adminFrame
	Staff   []auth.StaffMember
	Roles   []option
	Email   string
	Role    string
	Errors  map[string]string
	Problem string
	Notice  string
}

func roleOptions(c *gin.Context) []option {
	l := localizer(c)
	var out []option
	for _, r := range []string{auth.Owner, auth.Organiser, auth.Door} {
		out = append(out, option{r, l.T("admin.role."+r, nil)})
	}
	return out
}

// staffPage is GET /admin/orgs/:org/staff (owners): who works on the
// organisation, with their roles, and the invitation form.
func (s *server) staffPage(c *gin.Context) {
	s.renderStaff(c, http.StatusOK, staffPage{Role: auth.Organiser})
}

func (s *server) renderStaff(c *gin.Context, status int, p staffPage) {
	staff, err := s.Auth.Staff(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p.adminFrame, p.Staff, p.Roles = frame(c, "staff"), staff, roleOptions(c)
	s.render(c, status, "admin_staff", localizer(c).T("admin.staff.title", nil), p)
}

// inviteStaff is POST /admin/orgs/:org/staff: invite someone by email with
// a role. A new address gets a one-time link to set a password.
func (s *server) inviteStaff(c *gin.Context) {
	l := localizer(c)
	p := staffPage{Email: strings.ToValidUTF8(strings.TrimSpace(c.PostForm("email")), ""), Role: c.PostForm("role")}
	err := s.audited(c, audit.Entry{Action: audit.StaffInvite, Target: p.Email, Details: map[string]any{"role": p.Role}}, func(ctx context.Context) error {
		return s.Auth.Invite(ctx, principal(c).OrgID, p.Email, p.Role, l.Lang)
	})
	if err != nil {
		s.staffFailed(c, p, err)
		return
	}
	s.flash(c, "admin.flash.invited")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/staff")
}

func (s *server) staffFailed(c *gin.Context, p staffPage, err error) {
	l := localizer(c)
	switch ae := apperr.From(err); ae.Code {
	case apperr.Invalid:
		p.Errors = translateFields(l, ae)
		s.renderStaff(c, httpcode.Of(ae), p)
	case apperr.Conflict:
		p.Problem = l.T(ae.Msg.ID, ae.Msg.Data)
		s.renderStaff(c, httpcode.Of(ae), p)
	default:
		_ = c.Error(err)
	}
}

func staffUserID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "err.staff_not_found")
	}
	return id, nil
}

// changeStaffRole is POST /admin/orgs/:org/staff/:user/role.
func (s *server) changeStaffRole(c *gin.Context) {
	id, err := staffUserID(c)
	if err == nil {
		err = s.audited(c, audit.Entry{Action: audit.StaffRole, TargetUserID: id, Details: map[string]any{"role": c.PostForm("role")}}, func(ctx context.Context) error {
			return s.Auth.SetRole(ctx, principal(c).OrgID, id, c.PostForm("role"))
		})
	}
	if err != nil {
		s.staffFailed(c, staffPage{Role: auth.Organiser}, err)
		return
	}
	s.flash(c, "admin.flash.role_changed")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/staff")
}

// removeStaff is POST /admin/orgs/:org/staff/:user/remove: the person loses
// their role here; their account stays.
func (s *server) removeStaff(c *gin.Context) {
	id, err := staffUserID(c)
	if err == nil {
		err = s.audited(c, audit.Entry{Action: audit.StaffRemove, TargetUserID: id}, func(ctx context.Context) error {
			return s.Auth.RemoveStaff(ctx, principal(c).OrgID, id)
		})
	}
	if err != nil {
		s.staffFailed(c, staffPage{Role: auth.Organiser}, err)
		return
	}
	s.flash(c, "admin.flash.staff_removed")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/staff")
}
