package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// scrape fetches /metrics (with token when not empty).
func scrape(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric is the value of the series name{labels…} in a scrape, with
// labels as `k="v"` pairs in any order; 0 when it is absent.
func metric(t *testing.T, body, name string, labels ...string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		series := line[:sp]
		all := true
		for _, l := range labels {
			if !strings.Contains(series, l) {
				all = false
			}
		}
		if all {
			v, err := strconv.ParseFloat(line[sp+1:], 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// Sign-ups, refusals, check-ins and requests move their counters; the
// outbox and the pool are read at scrape time; no path with a secret shows.
func TestMetricsMoveWithTraffic(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	no := false
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(2); in.Waitlist = &no })
	a.Event(t, o, "quiz", func(in *event.Input) { in.Capacity = event.Some(1) })

	code, before := scrape(t, a.URL, "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	if metric(t, before, "treffpunkt_signups_total", `verdict="confirmed"`) != 0 {
		t.Fatal("confirmed sign-ups before any")
	}

	signUp := func(slug, email string) (int, string) {
		var out struct {
			ManageURL string `json:"manage_url"`
		}
		body := map[string]any{"name": "Aylin", "email": email, "consent": true}
		code := a.JSON(t, http.MethodPost, "/api/v1/events/"+slug+"/registrations", "", body, &out)
		return code, out.ManageURL
	}
	_, manage := signUp("fest", "a@example.org")
	signUp("fest", "b@example.org")
	signUp("fest", "c@example.org") // full, no waitlist
	signUp("fest", "a@example.org") // existing
	signUp("quiz", "d@example.org")
	signUp("quiz", "e@example.org") // waitlisted
	a.JSON(t, http.MethodPost, "/api/v1/events/quiz/registrations", "", map[string]any{"name": "", "email": "x", "consent": true}, nil)
	resp, _ := a.Browser(t).Post("/events/quiz", "/events/quiz/register", url.Values{
		"name": {"Form"}, "email": {"form@example.org"}, "party_size": {"1"}, "consent": {"yes"},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form sign-up: %d", resp.StatusCode)
	}
	tok := a.Token(t, o, "door")
	a.JSON(t, http.MethodPost, "/api/v1/checkin", tok, map[string]any{"code": "nonsense", "event": "fest"}, nil)
	token := manage[strings.LastIndexByte(manage, '/')+1:]
	if c, _ := a.Browser(t).Get("/r/" + token); c != http.StatusOK {
		t.Fatalf("manage page: %d", c)
	}

	_, after := scrape(t, a.URL, "")
	for _, w := range []struct {
		labels []string
		want   float64
	}{
		{[]string{`verdict="confirmed"`}, 3},
		{[]string{`verdict="waitlisted"`}, 2}, // e and the form
		{[]string{`verdict="existing"`}, 1},
		{[]string{`verdict="refused"`, `reason="full"`}, 1},
		{[]string{`verdict="refused"`, `reason="invalid"`}, 1},
	} {
		if got := metric(t, after, "treffpunkt_signups_total", w.labels...); got != w.want {
			t.Errorf("signups %v = %v, want %v", w.labels, got, w.want)
		}
	}
	if got := metric(t, after, "treffpunkt_checkins_total", `result="unknown"`); got != 1 {
		t.Errorf("check-ins unknown = %v, want 1", got)
	}
	if got := metric(t, after, "treffpunkt_http_requests_total", `route="/api/v1/events/:slug/registrations"`, `status="201"`); got != 4 {
		t.Errorf("201s of the sign-up route = %v, want 4", got)
	}
	if got := metric(t, after, "treffpunkt_http_request_duration_seconds_count", `route="/r/:token"`); got != 1 {
		t.Errorf("latency histogram of /r/:token has %v observations, want 1", got)
	}
	if strings.Contains(after, token) {
		t.Error("a manage token appears in /metrics")
	}
	if got := metric(t, after, "treffpunkt_outbox_messages", `status="queued"`); got < 4 {
		t.Errorf("outbox queued = %v, want ≥ 4 (one mail per sign-up)", got)
	}
	if !strings.Contains(after, "treffpunkt_outbox_oldest_queued_age_seconds ") || metric(t, after, "treffpunkt_outbox_scrape_ok") != 1 {
		t.Error("outbox age or scrape_ok missing")
	}
	if !strings.Contains(after, `go_sql_max_open_connections{db_name="treffpunkt"}`) {
		t.Error("database pool stats missing")
	}
}

// With METRICS_TOKEN only a scrape with the bearer token is answered.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.MetricsToken = "s3cret-metrics-token" })
	for _, tok := range []string{"", "wrong"} {
		if code, body := scrape(t, b.URL, tok); code != http.StatusUnauthorized || strings.Contains(body, "treffpunkt_") {
			t.Errorf("token %q: %d", tok, code)
		}
	}
	if code, body := scrape(t, b.URL, "s3cret-metrics-token"); code != http.StatusOK || !strings.Contains(body, "treffpunkt_http_requests_total") {
		t.Errorf("right token: %d", code)
	}
	// /metrics sets no cookie (it bypasses sessions and CSRF).
	resp, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 0 {
		t.Errorf("/metrics set cookies: %v", resp.Cookies())
	}

}
