package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"treffpunkt/internal/config"
	"treffpunkt/internal/testapp"
)

// post sends a JSON sign-up with optional extra headers.
func postSignup(t *testing.T, base, slug, email string, header map[string]string) *http.Response {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"name": "P", "email": email, "consent": true})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/events/"+slug+"/registrations", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func wantRateLimited(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || ra < 1 {
		t.Fatalf("%s: %d, Retry-After %q; want 429 with Retry-After ≥ 1", what, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// SIGNUP_RATE_PER_EMAIL limits sign-ups of one address (in any case) over
// all events, form and API together; other addresses are not affected.
func TestSignupRateLimitPerEmail(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	for _, s := range []string{"e1", "e2", "e3", "e4"} {
		a.Event(t, o, s, nil)
	}
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.SignupRatePerEmail = 2 })
	if r := postSignup(t, b.URL, "e1", "same@example.org", nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("first: %d", r.StatusCode)
	}
	if r := postSignup(t, b.URL, "e2", "SAME@example.org ", nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("second: %d", r.StatusCode)
	}
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	code := b.JSON(t, http.MethodPost, "/api/v1/events/e3/registrations", "", map[string]any{"name": "P", "email": "Same@Example.org", "consent": true}, &body)
	if code != http.StatusTooManyRequests || body.Error.Code != "rate_limited" {
		t.Fatalf("third via API: %d %q, want 429 rate_limited", code, body.Error.Code)
	}
	resp, page := b.Browser(t).Post("/events/e4", "/events/e4/register", url.Values{
		"name": {"P"}, "email": {"same@example.org"}, "party_size": {"1"}, "consent": {"yes"},
	})
	wantRateLimited(t, resp, "fourth via form")
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "<html") {
		t.Fatalf("form refusal is not a page: %s", resp.Header.Get("Content-Type"))
	}
	if r := postSignup(t, b.URL, "e3", "other@example.org", nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("another address: %d", r.StatusCode)
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 3 {
		t.Fatalf("registrations = %d, want 3", got)
	}
	_, m := scrape(t, b.URL, "")
	if metric(t, m, "treffpunkt_rate_limited_total", `limit="signup_email"`) != 2 ||
		metric(t, m, "treffpunkt_signups_total", `verdict="refused"`, `reason="rate_limited"`) != 2 {
		t.Fatal("refusals not counted in the metrics")
	}
}

// API_RATE_PER_TOKEN limits each staff token on its own.
func TestAPIRateLimitPerToken(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.APIRatePerToken = 3 })
	tok1, tok2 := a.Token(t, o, "organiser"), a.Token(t, o, "door")
	for i := range 3 {
		if code := b.JSON(t, http.MethodGet, "/api/v1/orgs/miso/events", tok1, nil, nil); code != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, b.URL+"/api/v1/orgs/miso/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok1)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	wantRateLimited(t, resp, "4th request of a token")
	if body.Error.Code != "rate_limited" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("body code %q", body.Error.Code)
	}
	// The door token has its own bucket (and check-in counts against it).
	if code := b.JSON(t, http.MethodGet, "/api/v1/checkin/counts?event=fest", tok2, nil, nil); code != http.StatusOK {
		t.Fatalf("other token: %d", code)
	}
	// Public reads are not limited by it.
	if code := b.JSON(t, http.MethodGet, "/api/v1/events", "", nil, nil); code != http.StatusOK {
		t.Fatalf("public list: %d", code)
	}
}

// X-Forwarded-For names the client only behind TRUSTED_PROXIES; otherwise
// a client cannot escape its limit by making up addresses.
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)

	direct := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.SignupRatePerIP = 1 })
	if r := postSignup(t, direct.URL, "fest", "d1@example.org", map[string]string{"X-Forwarded-For": "203.0.113.1"}); r.StatusCode != http.StatusCreated {
		t.Fatalf("first: %d", r.StatusCode)
	}
	wantRateLimited(t, postSignup(t, direct.URL, "fest", "d2@example.org", map[string]string{"X-Forwarded-For": "203.0.113.2"}),
		"untrusted X-Forwarded-For must be ignored")

	proxied := testapp.OnDBWith(t, a.DB, func(c *config.Config) {
		c.SignupRatePerIP = 1
		c.TrustedProxies = []string{"127.0.0.1/32", "::1"}
	})
	for i, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		if r := postSignup(t, proxied.URL, "fest", "p"+strconv.Itoa(i)+"@example.org", map[string]string{"X-Forwarded-For": ip}); r.StatusCode != http.StatusCreated {
			t.Fatalf("client %s behind the proxy: %d", ip, r.StatusCode)
		}
	}
	wantRateLimited(t, postSignup(t, proxied.URL, "fest", "p9@example.org", map[string]string{"X-Forwarded-For": "203.0.113.1"}),
		"same client again behind the proxy")
}
