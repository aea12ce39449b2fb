package web

import (
	"context"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
)

const (
	ctxLocalizer = httpcode.CtxLocalizer
	langCookie   = "lang"
)

// language picks the request's language: ?lang= (remembered in a cookie),
// then the cookie, then Accept-Language, then the default.
func (s *server) language(c *gin.Context) {
	q := c.Query("lang")
	cookie, _ := c.Cookie(langCookie)
	lang := s.Catalogue.Match([]string{q, cookie}, c.GetHeader("Accept-Language"))
	if q != "" && q == lang && q != cookie {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: s.Config.SecureCookies(), SameSite: http.SameSiteLaxMode,
		})
	}
	c.Set(ctxLocalizer, s.Catalogue.For(lang))
	c.Next()
}

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
			_ = c.Error(httpcode.NotFound())
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

func localizer(c *gin.Context) *i18n.Localizer { return httpcode.Localizer(c) }

// errors answers a page's errors with an error page.
func (s *server) errors() httpcode.Errors {
	return httpcode.Errors{
		Log:      s.Log,
		Fallback: func() *i18n.Localizer { return s.Catalogue.For(s.Config.DefaultLang) },
		Write: func(c *gin.Context, ae *apperr.Error, l *i18n.Localizer) {
			s.render(c, httpcode.Of(ae), "error", l.T("title.error", nil), errorPage{Message: l.T(ae.Msg.ID, ae.Msg.Data), Status: httpcode.Of(ae)})
		},
	}
}

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
