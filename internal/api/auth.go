package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/ratelimit"
)

const ctxPrincipal = "api.principal"

// requireStaff admits a bearer token of the organisation in :org with at
// least role. A token of another organisation gets the same 404 as an
// organisation that does not exist, so tokens cannot probe which exist.
// A network-admin token acts as owner of whichever organisation :org names.
func (h *handler) requireStaff(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := h.authenticate(c)
		if !ok {
			return
		}
		if p.Admin {
			o, err := h.Orgs.BySlug(c.Request.Context(), c.Param("org"))
			if err != nil {
				abort(c, err)
				return
			}
			p.OrgID, p.OrgSlug, p.OrgName, p.Role = o.ID, o.Slug, o.Name, auth.Owner
		}
		if p.OrgSlug != c.Param("org") {
			abort(c, apperr.New(apperr.NotFound, "err.org_not_found"))
			return
		}
		if !p.Can(role) {
			abort(c, apperr.New(apperr.Forbidden, "err.forbidden"))
			return
		}
		c.Set(ctxPrincipal, p)
		// Staff answers hold personal data: no cache may keep them.
		c.Header("Cache-Control", "no-store")
		c.Next()
	}
}

// bearerToken reads "Authorization: Bearer <token>" (scheme in any case).
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// principal is the caller that requireStaff admitted.
func principal(c *gin.Context) *auth.Principal {
	return c.MustGet(ctxPrincipal).(*auth.Principal)
}

func abort(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// authenticate reads the bearer token; on failure it has already answered
// 401 with the WWW-Authenticate header RFC 6750 asks for.
func (h *handler) authenticate(c *gin.Context) (*auth.Principal, bool) {
	tok, ok := bearerToken(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer`)
		abort(c, apperr.New(apperr.Unauthorized, "err.token"))
		return nil, false
	}
	p, err := h.Auth.Authenticate(c.Request.Context(), tok)
	if err != nil {
		if apperr.Is(err, apperr.Unauthorized) {
			c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		abort(c, err)
		return nil, false
	}
	if ok, wait := h.tokens.Allow(strconv.FormatInt(p.TokenID, 10), time.Now()); !ok {
		h.Metrics.RateLimited("api_token")
		c.Header("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
		abort(c, apperr.New(apperr.RateLimited, "err.rate_limited_token"))
		return nil, false
	}
	return p, true
}
