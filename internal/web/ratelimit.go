package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/ratelimit"
)

// limitSignups is the middleware on the form and API sign-up routes: each
// client IP may sign up SIGNUP_RATE_PER_IP times per minute (burst of the
// same size). The client IP comes from gin, which believes X-Forwarded-For
// only from TRUSTED_PROXIES.
func (s *server) limitSignups() gin.HandlerFunc {
	l := ratelimit.New(s.Config.SignupRatePerIP, time.Minute)
	if l == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		if ok, wait := l.Allow(clientKey(c), time.Now()); !ok {
			refuseRate(c, s.Metrics, "signup_ip", "err.rate_limited", wait)
			s.Metrics.SignUp(metrics.SignupRefused, apperr.RateLimited)
			return
		}
		c.Next()
	}
}

// clientKey is the key of the client in every per-IP limit: its IP as gin
// sees it (X-Forwarded-For only from TRUSTED_PROXIES), an IPv6 client's
// /64 (ratelimit.ClientKey).
func clientKey(c *gin.Context) string { return ratelimit.ClientKey(c.ClientIP()) }

// allowSignupEmail takes one sign-up of the address from the
// SIGNUP_RATE_PER_EMAIL limit (per hour); when it is spent it answers 429.
// Input longer than any address passes uncounted: the sign-up refuses it
// (422) and the limiter never keeps it.
func (s *server) allowSignupEmail(c *gin.Context, email string) bool {
	key, ok := ratelimit.EmailKey(email)
	if !ok {
		return true
	}
	if ok, wait := s.signupEmail.Allow(key, time.Now()); !ok {
		refuseRate(c, s.Metrics, "signup_email", "err.rate_limited_email", wait)
		return false
	}
	return true
}

// allowMemberNumber takes one attempt from the client IP's
// MEMBER_NUMBER_RATE_PER_IP limit (per hour) when the sign-up carries a
// member number: each attempt with a member's number mails that member and
// holds seats, so guessing numbers must be slow. When the limit is spent it
// answers 429.
func (s *server) allowMemberNumber(c *gin.Context, number string) bool {
	if strings.TrimSpace(number) == "" {
		return true
	}
	if ok, wait := s.memberNumbers.Allow(clientKey(c), time.Now()); !ok {
		refuseRate(c, s.Metrics, "member_number_ip", "err.rate_limited", wait)
		return false
	}
	return true
}

// refuseRate answers 429 rate_limited with Retry-After, through the error
// middleware (a JSON error for the API, an error page otherwise).
func refuseRate(c *gin.Context, m *metrics.Metrics, limit, msgID string, wait time.Duration) {
	m.RateLimited(limit)
	c.Header("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
	_ = c.Error(apperr.New(apperr.RateLimited, msgID))
	c.Abort()
}
