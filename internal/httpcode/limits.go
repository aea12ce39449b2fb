package httpcode

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/ratelimit"
)

// Limits are the sign-up limits the form and the API share: one client
// signing up through both is counted once. The app makes one and gives it
// to both faces.
type Limits struct {
	metrics *metrics.Metrics
	// signups is SIGNUP_RATE_PER_IP (per minute), nil when off.
	signups *ratelimit.Keyed
	// emails is SIGNUP_RATE_PER_EMAIL (per hour).
	emails *ratelimit.Keyed
	// numbers is MEMBER_NUMBER_RATE_PER_IP (per hour).
	numbers *ratelimit.Keyed
	// signupMW is the middleware of the sign-up routes, made once.
	signupMW gin.HandlerFunc
}

// NewLimits makes the shared limits of cfg; refusals are counted in m.
func NewLimits(cfg *config.Config, m *metrics.Metrics) *Limits {
	l := &Limits{
		metrics: m,
		signups: ratelimit.New(cfg.SignupRatePerIP, time.Minute),
		emails:  ratelimit.New(cfg.SignupRatePerEmail, time.Hour),
		numbers: ratelimit.New(cfg.MemberNumberRatePerIP, time.Hour),
	}
	l.signupMW = l.limitSignups()
	return l
}

// Signups is the middleware on the form and API sign-up routes: each
// client IP may sign up SIGNUP_RATE_PER_IP times per minute (burst of the
// same size). The client IP comes from gin, which believes X-Forwarded-For
// only from TRUSTED_PROXIES.
func (l *Limits) Signups() gin.HandlerFunc { return l.signupMW }

func (l *Limits) limitSignups() gin.HandlerFunc {
	k := l.signups
	if k == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		if ok, wait := k.Allow(ClientKey(c), time.Now()); !ok {
			l.refuse(c, "signup_ip", "err.rate_limited", wait)
			l.metrics.SignUp(metrics.SignupRefused, apperr.RateLimited)
			return
		}
		c.Next()
	}
}

// ClientKey is the key of the client in every per-IP limit: its IP as gin
// sees it (X-Forwarded-For only from TRUSTED_PROXIES), an IPv6 client's
// /64 (ratelimit.ClientKey).
func ClientKey(c *gin.Context) string { return ratelimit.ClientKey(c.ClientIP()) }

// AllowSignupEmail takes one sign-up of the address from the
// SIGNUP_RATE_PER_EMAIL limit (per hour); when it is spent it answers 429.
// Input longer than any address passes uncounted: the sign-up refuses it
// (422) and the limiter never keeps it.
func (l *Limits) AllowSignupEmail(c *gin.Context, email string) bool {
	key, ok := ratelimit.EmailKey(email)
	if !ok {
		return true
	}
	if ok, wait := l.emails.Allow(key, time.Now()); !ok {
		l.refuse(c, "signup_email", "err.rate_limited_email", wait)
		return false
	}
	return true
}

// AllowMemberNumber takes one attempt from the client IP's
// MEMBER_NUMBER_RATE_PER_IP limit (per hour) when the sign-up carries a
// member number: each attempt with a member's number mails that member and
// holds seats, so guessing numbers must be slow. When the limit is spent it
// answers 429.
func (l *Limits) AllowMemberNumber(c *gin.Context, number string) bool {
	if strings.TrimSpace(number) == "" {
		return true
	}
	if ok, wait := l.numbers.Allow(ClientKey(c), time.Now()); !ok {
		l.refuse(c, "member_number_ip", "err.rate_limited", wait)
		return false
	}
	return true
}

func (l *Limits) refuse(c *gin.Context, limit, msgID string, wait time.Duration) {
	Refuse(c, l.metrics, limit, msgID, wait)
}

// Refuse answers 429 rate_limited with Retry-After, through the face's
// error middleware, and counts the refusal under limit.
func Refuse(c *gin.Context, m *metrics.Metrics, limit, msgID string, wait time.Duration) {
	m.RateLimited(limit)
	c.Header("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
	_ = c.Error(apperr.New(apperr.RateLimited, msgID))
	c.Abort()
}
