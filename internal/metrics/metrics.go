// Package metrics is what Treffpunkt tells Prometheus at /metrics: HTTP
// requests by route pattern (never the raw path: paths carry manage tokens
// and ticket codes), sign-ups and check-ins by verdict, the mail outbox and
// the database pool (read from PostgreSQL at scrape time), and when each
// background job last succeeded. docs/operations.md lists every series.
//
// Every method works on a nil *Metrics and does nothing, so that code under
// test may run without it.
package metrics

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/cache"
)

// Sign-up verdicts besides the registration statuses and the refusals'
// error codes.
const (
	SignupExisting = "existing"
	SignupRefused  = "refused"
)

// Job names of the background workers.
const (
	JobMailSender = "mail_sender"
	JobReminders  = "reminders"
	JobHoldExpiry = "hold_expiry"
	JobRetention  = "retention"
)

// Metrics holds the series of one process. Each router gets its own
// registry, so that tests can start many apps in one process.
type Metrics struct {
	Registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	signups     *prometheus.CounterVec
	checkins    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	jobSuccess  *prometheus.GaugeVec
	conns       *prometheus.GaugeVec
	connState   sync.Map // net.Conn → the http.ConnState it is counted in
}

// New registers every series. db, when not nil, is read at each scrape for
// the outbox and the connection pool.
func New(db *sql.DB) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treffpunkt_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "treffpunkt_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		signups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treffpunkt_signups_total",
			Help: "Sign-ups by verdict (confirmed, waitlisted, pending, existing, refused) and, for refusals, the error code.",
		}, []string{"verdict", "reason"}),
		checkins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treffpunkt_checkins_total",
			Help: "Check-in scans by result (ok, already_checked_in, unknown, cancelled, wrong_event, not_today).",
		}, []string{"result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treffpunkt_rate_limited_total",
			Help: "Requests refused with 429 by limit (signup_ip, signup_email, api_token, login).",
		}, []string{"limit"}),
		jobSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "treffpunkt_job_last_success_timestamp_seconds",
			Help: "Unix time at which each background job of this process last finished a round without error.",
		}, []string{"job"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "treffpunkt_http_connections",
			Help: "Open client connections by state: new (nothing read yet), active (a request being read or answered), idle (kept alive between requests).",
		}, []string{"state"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.signups, m.checkins, m.rateLimited,
		m.jobSuccess, m.conns,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(db, "treffpunkt"), &outboxCollector{db: db})
	}
	return m
}

// Handler serves the registry. With a token, a scrape must carry
// "Authorization: Bearer <token>"; anything else gets 401.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the METRICS_TOKEN as a bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ConnState is the http.Server's ConnState hook: it keeps the count of
// open connections per state.
func (m *Metrics) ConnState(c net.Conn, state http.ConnState) {
	if m == nil {
		return
	}
	if old, ok := m.connState.Load(c); ok {
		m.conns.WithLabelValues(old.(http.ConnState).String()).Dec()
	}
	switch state {
	case http.StateNew, http.StateActive, http.StateIdle:
		m.connState.Store(c, state)
		m.conns.WithLabelValues(state.String()).Inc()
	default: // hijacked or closed: no longer the server's
		m.connState.Delete(c)
	}
}

// Request records one answered HTTP request. route is the router's pattern
// ("/r/:token"), or "unmatched".
func (m *Metrics) Request(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// SignUp records a sign-up's verdict: a registration status, "existing",
// or "refused" with the error code as reason.
func (m *Metrics) SignUp(verdict, reason string) {
	if m == nil {
		return
	}
	m.signups.WithLabelValues(verdict, reason).Inc()
}

// CheckIn records a scan's result.
func (m *Metrics) CheckIn(result string) {
	if m == nil {
		return
	}
	m.checkins.WithLabelValues(result).Inc()
}

// RateLimited records a request refused by a limit.
func (m *Metrics) RateLimited(limit string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(limit).Inc()
}

// JobSucceeded records that a background job finished a round.
func (m *Metrics) JobSucceeded(job string) {
	if m == nil {
		return
	}
	m.jobSuccess.WithLabelValues(job).SetToCurrentTime()
}

// outboxCollector reads the outbox at scrape time, so that every instance
// reports the same, shared queue.
type outboxCollector struct{ db *sql.DB }

var (
	outboxDesc = prometheus.NewDesc("treffpunkt_outbox_messages",
		"Messages in the mail outbox by status: queued and sending are the depth, sent and failed count every send and failure (until retention erases them).", []string{"status"}, nil)
	outboxAgeDesc = prometheus.NewDesc("treffpunkt_outbox_oldest_queued_age_seconds",
		"Age of the oldest message not yet sent (queued or sending); 0 when none waits.", nil, nil)
	outboxUpDesc = prometheus.NewDesc("treffpunkt_outbox_scrape_ok",
		"1 when the outbox could be read at this scrape, 0 when the database did not answer.", nil, nil)
)

func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- outboxAgeDesc
	ch <- outboxUpDesc
}

func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ok := 1.0
	defer func() { ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, ok) }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]float64{"queued": 0, "sending": 0, "sent": 0, "failed": 0}
	rows, err := o.db.QueryContext(ctx, `SELECT status, count(*) FROM mail_outbox GROUP BY status`)
	if err != nil {
		ok = 0
		return
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n float64
		if err := rows.Scan(&st, &n); err != nil {
			ok = 0
			return
		}
		counts[st] = n
	}
	if rows.Err() != nil {
		ok = 0
		return
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, n, st)
	}
	var age sql.NullFloat64
	err = o.db.QueryRowContext(ctx, `SELECT extract(epoch FROM now() - min(created_at))::float8
		FROM mail_outbox WHERE status IN ('queued', 'sending')`).Scan(&age)
	if err != nil {
		ok = 0
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, max(age.Float64, 0))
}

// SignUpOutcome records what a sign-up handler got from the registration
// service: the registration's status, "existing" when the address was
// already signed up, or "refused" with the error's code.
func (m *Metrics) SignUpOutcome(status string, existing bool, err error) {
	switch {
	case err != nil:
		m.SignUp(SignupRefused, apperr.From(err).Code)
	case existing:
		m.SignUp(SignupExisting, "")
	default:
		m.SignUp(status, "")
	}
}

// Caches reports the in-memory caches of w (internal/cache) at each scrape:
// lookups answered and not answered from memory, and whether the caches
// are on (their change listener is connected).
func (m *Metrics) Caches(w *cache.Watcher) {
	if m == nil || w == nil {
		return
	}
	m.Registry.MustRegister(&cacheCollector{w: w})
}

var (
	cacheLookupsDesc = prometheus.NewDesc("treffpunkt_cache_lookups_total",
		"Lookups of the in-memory caches (api_tokens, door_events) by result (hit, miss).", []string{"cache", "result"}, nil)
	cacheLiveDesc = prometheus.NewDesc("treffpunkt_cache_live",
		"1 while the caches' change listener is connected and the caches answer, else 0.", nil, nil)
)

type cacheCollector struct{ w *cache.Watcher }

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheLookupsDesc
	ch <- cacheLiveDesc
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	c.w.EachCache(func(name string, hits, misses uint64) {
		ch <- prometheus.MustNewConstMetric(cacheLookupsDesc, prometheus.CounterValue, float64(hits), name, "hit")
		ch <- prometheus.MustNewConstMetric(cacheLookupsDesc, prometheus.CounterValue, float64(misses), name, "miss")
	})
	live := 0.0
	if c.w.Live() {
		live = 1
	}
	ch <- prometheus.MustNewConstMetric(cacheLiveDesc, prometheus.GaugeValue, live)
}
