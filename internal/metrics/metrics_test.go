package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"treffpunkt/internal/apperr"
)

func TestVerdictsAndJobs(t *testing.T) {
	t.Parallel()
	m := New(nil)
	m.SignUpOutcome("confirmed", false, nil)
	m.SignUpOutcome("confirmed", true, nil)
	m.SignUpOutcome("", false, apperr.New(apperr.Full, "err.full"))
	m.SignUpOutcome("", false, errors.New("database gone"))
	m.JobSucceeded(JobRetention)
	w := httptest.NewRecorder()
	m.Handler("").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := w.Body.String()
	for _, line := range []string{
		`treffpunkt_signups_total{reason="",verdict="confirmed"} 1`,
		`treffpunkt_signups_total{reason="",verdict="existing"} 1`,
		`treffpunkt_signups_total{reason="full",verdict="refused"} 1`,
		`treffpunkt_signups_total{reason="internal",verdict="refused"} 1`,
		`treffpunkt_job_last_success_timestamp_seconds{job="retention"} 1.`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("no %s in\n%s", line, body)
		}
	}
	// A nil *Metrics does nothing.
	var none *Metrics
	none.SignUp("x", "")
	none.CheckIn("ok")
	none.JobSucceeded(JobMailSender)
	none.Request("GET", "/", 200, 0)
	none.RateLimited("login")
}

func TestHandlerToken(t *testing.T) {
	t.Parallel()
	h := New(nil).Handler("tok")
	for hdr, want := range map[string]int{"": 401, "Bearer nope": 401, "Basic tok": 401, "Bearer tok": 200, "bearer tok": 200} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if hdr != "" {
			r.Header.Set("Authorization", hdr)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%q: %d, want %d", hdr, w.Code, want)
		}
		if want == 200 && !strings.Contains(w.Body.String(), "go_goroutines") {
			t.Error("no runtime metrics")
		}
	}
}
