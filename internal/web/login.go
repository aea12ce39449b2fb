package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/text"
)

func (s *server) loginRoutes(r *gin.Engine) {
	r.GET("/login", s.loginForm)
	r.POST("/login", s.login)
	r.POST("/logout", s.logout)
	r.GET("/login/reset", s.resetForm)
	r.POST("/login/reset", s.requestReset)
	r.GET("/login/reset/:token", s.passwordForm)
	r.POST("/login/reset/:token", s.setPassword)
}

type loginPage struct {
	Email   string
	Next    string
	Notice  string
	Problem string
	Errors  map[string]string
}

// safeNext keeps a redirect after login inside the organisers' area or the
// door (/admin…, /checkin…), so that the login page cannot be used to send
// people elsewhere. Anything else is "": the landing page decides.
func safeNext(next string) string {
	if strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	for _, area := range []string{"/admin", "/checkin"} {
		if rest, ok := strings.CutPrefix(next, area); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
			return next
		}
	}
	return ""
}

// landing is where u goes after signing in without a page to return to:
// door-only staff (the door role in every organisation they belong to) to
// the check-in, everyone else to the organisers' area.
func (s *server) landing(c *gin.Context, u *auth.User) string {
	if u.Admin {
		return "/admin"
	}
	ms, err := s.Auth.Memberships(c.Request.Context(), u)
	if err != nil || len(ms) == 0 {
		return "/admin"
	}
	for _, m := range ms {
		if m.Role != auth.Door {
			return "/admin"
		}
	}
	return "/checkin"
}

// loginForm is GET /login.
func (s *server) loginForm(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if u := user(c); u != nil {
		if next == "" {
			next = s.landing(c, u)
		}
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	p := loginPage{Next: next}
	if c.Query("done") == "password" {
		p.Notice = localizer(c).T("login.password_set", nil)
	}
	s.renderLogin(c, http.StatusOK, p)
}

func (s *server) renderLogin(c *gin.Context, status int, p loginPage) {
	s.render(c, status, "login", localizer(c).T("login.title", nil), p)
}

// login is POST /login: the attempt is counted against the account and the
// client IP before the password is checked, so that a throttled attempt
// learns nothing.
func (s *server) login(c *gin.Context) {
	l := localizer(c)
	email, password := strings.TrimSpace(c.PostForm("email")), c.PostForm("password")
	p := loginPage{Email: strings.ToValidUTF8(email, ""), Next: safeNext(c.PostForm("next"))}
	if s.emailTooLong(c, &p, email) {
		s.renderLogin(c, http.StatusUnprocessableEntity, p)
		return
	}
	if !s.allowAttempt(c, email) {
		p.Problem = l.T("err.login_throttled", nil)
		s.renderLogin(c, http.StatusTooManyRequests, p)
		return
	}
	ctx := c.Request.Context()
	id, err := s.Auth.CheckPassword(ctx, email, password)
	if apperr.Is(err, apperr.Unauthorized) {
		p.Problem = l.T("err.login", nil)
		s.renderLogin(c, http.StatusUnauthorized, p)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	u, err := s.Auth.User(ctx, id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.throttle.Succeeded(email)
	if err := s.signIn(ctx, u); err != nil {
		_ = c.Error(err)
		return
	}
	if p.Next == "" {
		p.Next = s.landing(c, u)
	}
	c.Redirect(http.StatusSeeOther, p.Next)
}

// emailTooLong refuses input longer than any address before the throttle
// sees it (so that it costs no memory), and sets the page's field error.
func (s *server) emailTooLong(c *gin.Context, p *loginPage, email string) bool {
	if len(email) <= text.MaxEmail {
		return false
	}
	p.Email = ""
	p.Errors = map[string]string{"email": localizer(c).T("err.email.too_long", nil)}
	return true
}

// allowAttempt takes one attempt from the login throttle; when it is spent
// it sets Retry-After and says no.
func (s *server) allowAttempt(c *gin.Context, email string) bool {
	ok, wait := s.throttle.Allow(email, httpcode.ClientKey(c), time.Now())
	if !ok {
		s.Metrics.RateLimited("login")
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	return ok
}

// logout is POST /logout (a form with a CSRF token, so that no other site
// can sign anyone out).
func (s *server) logout(c *gin.Context) {
	if err := s.sessions.Destroy(c.Request.Context()); err != nil {
		_ = c.Error(apperr.Wrap(err, "logout"))
		return
	}
	c.Redirect(http.StatusSeeOther, "/")
}

// resetForm is GET /login/reset: ask for a link to set a new password.
func (s *server) resetForm(c *gin.Context) {
	s.render(c, http.StatusOK, "login_reset", localizer(c).T("login.reset_title", nil), loginPage{})
}

// requestReset is POST /login/reset. The answer is the same whether an
// account has the address or not.
func (s *server) requestReset(c *gin.Context) {
	l := localizer(c)
	email := strings.TrimSpace(c.PostForm("email"))
	p := loginPage{Email: strings.ToValidUTF8(email, "")}
	title := l.T("login.reset_title", nil)
	if s.emailTooLong(c, &p, email) {
		s.render(c, http.StatusUnprocessableEntity, "login_reset", title, p)
		return
	}
	if !s.allowAttempt(c, email) {
		p.Problem = l.T("err.login_throttled", nil)
		s.render(c, http.StatusTooManyRequests, "login_reset", title, p)
		return
	}
	err := s.Auth.RequestReset(c.Request.Context(), email, l.Lang)
	if ae := apperr.From(err); err != nil && ae.Code == apperr.Invalid {
		p.Errors = translateFields(l, ae)
		s.render(c, http.StatusUnprocessableEntity, "login_reset", title, p)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	p.Notice = l.T("login.reset_sent", map[string]any{"Email": p.Email, "Minutes": int(auth.ResetTTL.Minutes())})
	s.render(c, http.StatusOK, "login_reset", title, p)
}

type passwordPage struct {
	Token   string
	Email   string
	Invite  bool
	Problem string
	Errors  map[string]string
}

// passwordForm is GET /login/reset/:token, where a reset link or an
// invitation leads: set a (new) password.
func (s *server) passwordForm(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	l := localizer(c)
	link, err := s.Auth.CheckPasswordLink(c.Request.Context(), c.Param("token"))
	if apperr.Is(err, apperr.NotFound) {
		s.render(c, http.StatusNotFound, "login_password", l.T("login.password_title", nil), passwordPage{Problem: l.T("err.password_link_invalid", nil)})
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.render(c, http.StatusOK, "login_password", l.T("login.password_title", nil), passwordPage{
		Token: c.Param("token"), Email: link.Email, Invite: link.Purpose == auth.PurposeInvite,
	})
}

// setPassword is POST /login/reset/:token. Afterwards the person signs in
// with the new password, which also puts the login throttle in the way of
// anyone holding a stolen link.
func (s *server) setPassword(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	l := localizer(c)
	tok := c.Param("token")
	title := l.T("login.password_title", nil)
	password := c.PostForm("password")
	if password != c.PostForm("password_confirm") {
		link, err := s.Auth.CheckPasswordLink(c.Request.Context(), tok)
		if err == nil {
			s.render(c, http.StatusUnprocessableEntity, "login_password", title, passwordPage{
				Token: tok, Email: link.Email, Invite: link.Purpose == auth.PurposeInvite,
				Errors: map[string]string{"password_confirm": l.T("err.password_mismatch", nil)},
			})
			return
		}
	}
	err := s.Auth.SetPasswordWithLink(c.Request.Context(), tok, password)
	switch ae := apperr.From(err); {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/login?done=password")
	case ae.Code == apperr.Invalid:
		p := passwordPage{Token: tok, Errors: translateFields(l, ae)}
		if link, err := s.Auth.CheckPasswordLink(c.Request.Context(), tok); err == nil {
			p.Email, p.Invite = link.Email, link.Purpose == auth.PurposeInvite
		}
		s.render(c, http.StatusUnprocessableEntity, "login_password", title, p)
	case ae.Code == apperr.NotFound:
		s.render(c, http.StatusNotFound, "login_password", title, passwordPage{Problem: l.T("err.password_link_invalid", nil)})
	default:
		_ = c.Error(err)
	}
}
