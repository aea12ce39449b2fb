package web

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"treffpunkt/internal/apperr"
)

// ipLimiter allows each client IP a number of sign-ups per minute
// (SIGNUP_RATE_PER_IP), with a burst of the same size. It is per instance:
// behind a load balancer with n instances a client gets at most n times the
// limit, which is enough to stop a script filling an event with fake names.
type ipLimiter struct {
	perMinute int
	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perMinute int) *ipLimiter {
	return &ipLimiter{perMinute: perMinute, clients: map[string]*client{}, lastSweep: time.Now()}
}

func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget clients idle for longer than a full refill, so the map stays
	// as small as the set of recent clients.
	if now.Sub(l.lastSweep) > time.Minute {
		for k, c := range l.clients {
			if now.Sub(c.seen) > time.Minute {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	c, ok := l.clients[ip]
	if !ok {
		c = &client{lim: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.clients[ip] = c
	}
	c.seen = now
	return c.lim.AllowN(now, 1)
}

// limitSignups is the middleware on the form and API sign-up routes; the
// client IP comes from gin, which believes X-Forwarded-For only from
// TRUSTED_PROXIES.
func (s *server) limitSignups() gin.HandlerFunc {
	if s.Config.SignupRatePerIP == 0 {
		return func(c *gin.Context) { c.Next() }
	}
	l := newIPLimiter(s.Config.SignupRatePerIP)
	return func(c *gin.Context) {
		if !l.allow(c.ClientIP(), time.Now()) {
			_ = c.Error(apperr.New(apperr.RateLimited, "err.rate_limited"))
			c.Abort()
			return
		}
		c.Next()
	}
}
