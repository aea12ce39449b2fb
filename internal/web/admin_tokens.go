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

type tokensPage struct {
	adminFrame
	Tokens []auth.Token
	Roles  []option
	// NewToken is shown once, right after it was made.
	NewToken string
	Name     string
	Role     string
	Errors   map[string]string
}

// tokensPage is GET /admin/orgs/:org/tokens (owners).
func (s *server) tokensPage(c *gin.Context) {
	s.renderTokens(c, http.StatusOK, tokensPage{Role: auth.Organiser})
}

func (s *server) renderTokens(c *gin.Context, status int, p tokensPage) {
	toks, err := s.Auth.Tokens(c.Request.Context(), principal(c), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	p.adminFrame, p.Tokens = frame(c, "tokens"), toks
	for _, r := range []string{auth.Organiser, auth.Door} {
		p.Roles = append(p.Roles, option{r, l.T("admin.role."+r, nil)})
	}
	c.Header("Referrer-Policy", "no-referrer")
	s.render(c, status, "admin_tokens", l.T("admin.tokens.title", nil), p)
}

// createToken is POST /admin/orgs/:org/tokens: the new token is shown in
// the answer, this once; only its hash is stored.
func (s *server) createToken(c *gin.Context) {
	p := tokensPage{Name: strings.ToValidUTF8(strings.TrimSpace(c.PostForm("name")), ""), Role: c.PostForm("role")}
	if p.Role != auth.Organiser && p.Role != auth.Door {
		p.Errors = map[string]string{"role": localizer(c).T("err.choice", nil)}
		s.renderTokens(c, http.StatusUnprocessableEntity, p)
		return
	}
	var tok string
	err := s.audited(c, audit.Entry{Action: audit.TokenCreate, Target: p.Name, Details: map[string]any{"role": p.Role}}, func(ctx context.Context) (err error) {
		tok, err = s.Auth.AddToken(ctx, principal(c).OrgID, p.Role, p.Name)
		return err
	})
	if err != nil {
		if ae := apperr.From(err); ae.Code == apperr.Invalid {
			p.Errors = translateFields(localizer(c), ae)
			s.renderTokens(c, httpcode.Of(ae), p)
			return
		}
		_ = c.Error(err)
		return
	}
	s.renderTokens(c, http.StatusOK, tokensPage{NewToken: tok, Role: auth.Organiser})
}

// revokeToken is POST /admin/orgs/:org/tokens/:id/revoke.
func (s *server) revokeToken(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		_ = c.Error(apperr.New(apperr.NotFound, "err.token_not_found"))
		return
	}
	err = s.audited(c, audit.Entry{Action: audit.TokenRevoke, Target: "#" + strconv.FormatInt(id, 10), Details: map[string]any{"token_id": id}}, func(ctx context.Context) error {
		return s.Auth.RevokeToken(ctx, principal(c), principal(c).OrgID, id)
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.token_revoked")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/tokens")
}
