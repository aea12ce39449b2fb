package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/config"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// A failed CSRF check is logged with the route pattern, never the path: the
// path of a manage link, a confirmation or a password link is the secret.
func TestCSRFFailureLogsRouteNotSecretPath(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	res, err := a.Registrations.SignUp(context.Background(), "fest", registration.SignupInput{Name: "Lina", Email: "lina@example.org", PartySize: 1, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := res.Registration.ManageToken
	logs := a.CaptureLogs()
	for _, path := range []string{"/r/" + tok + "/cancel", "/login/reset/" + tok, "/confirm/" + tok} {
		req, _ := http.NewRequest(http.MethodPost, a.URL+path, strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "null")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with Origin null: %d, want 403", path, resp.StatusCode)
		}
	}
	got := logs.String()
	if strings.Contains(got, tok) {
		t.Errorf("the log carries the secret:\n%s", got)
	}
	for _, route := range []string{`"route":"/r/:token/cancel"`, `"route":"/login/reset/:token"`, `"route":"/confirm/:token"`} {
		if !strings.Contains(got, route) {
			t.Errorf("the log lacks %s:\n%s", route, got)
		}
	}
}

// Only the calendar feeds themselves (GET and HEAD of the four feed routes)
// bypass sessions and CSRF; any other path that happens to end in .ics is a
// page like every other.
func TestOnlyFeedRoutesSkipSessionsAndCSRF(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	// A session is seen: the organiser gets a 404 for an event that does
	// not exist, not the login page.
	if code, loc, _ := c.do(http.MethodGet, "/admin/orgs/a/events/nope.ics"); code != http.StatusNotFound {
		t.Errorf("GET /admin/orgs/a/events/nope.ics signed in: %d (Location %q), want 404", code, loc)
	}
	// A form post without the CSRF token is refused.
	for _, path := range []string{"/admin/foo.ics", "/admin/orgs/a/events/" + w.A.Event.Slug + ".ics", "/calendar.ics", "/feeds/x.ics"} {
		resp, _ := c.PostRaw(path, url.Values{"title_de": {"x"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without CSRF token: %d, want 403", path, resp.StatusCode)
		}
	}
	// The feeds still set no cookie.
	for _, path := range []string{"/calendar.ics", "/orgs/a/calendar.ics", "/events/" + w.A.Event.Slug + ".ics"} {
		resp, err := http.Get(w.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 {
			t.Errorf("GET %s: %d, cookies %v", path, resp.StatusCode, resp.Cookies())
		}
	}
}

// Invalid UTF-8 or a NUL in any path parameter or query value is answered
// 400 or 404 on every route, before anything reaches the database, and
// logs no ERROR. The test walks the router's own route list.
func TestBadBytesInPathOrQueryNeverAnswer500(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	h, ok := w.Server.Config.Handler.(interface{ Routes() gin.RoutesInfo })
	if !ok {
		t.Fatal("the router does not list its routes")
	}
	adminTok, err := w.Auth.AddAdminToken(context.Background(), w.A.Org.ID, "walk")
	if err != nil {
		t.Fatal(err)
	}
	c := w.client(w.AdminEml)
	good := map[string]string{
		"org": "a", "slug": w.A.Event.Slug, "token": w.A.Confirmed.ManageToken,
		"code": w.A.Confirmed.Tickets[0].Code, "id": "1", "user": "1", "filepath": "/site.css",
	}
	param := regexp.MustCompile(`[:*][a-z_]+`)
	logs := w.CaptureLogs()
	send := func(method, target string) int {
		var body io.Reader
		form := url.Values{"csrf_token": {c.csrf}}
		api := strings.HasPrefix(target, "/api/")
		if method != http.MethodGet && method != http.MethodHead {
			if api {
				body = strings.NewReader(`{}`)
			} else {
				body = strings.NewReader(form.Encode())
			}
		}
		req, err := http.NewRequest(method, w.URL+target, body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		req.Header.Set("Origin", w.URL)
		if api {
			req.Header.Set("Authorization", "Bearer "+adminTok)
			req.Header.Set("Content-Type", "application/json")
		} else if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	n := 0
	for _, r := range h.Routes() {
		var targets []string
		if param.MatchString(r.Path) {
			for _, bad := range []string{"%FF", "%00", "ok%00ok", "%C3%28"} {
				targets = append(targets, param.ReplaceAllStringFunc(r.Path, func(p string) string {
					if p[0] == '*' {
						return "/" + bad
					}
					return bad
				}))
			}
		}
		withGood := param.ReplaceAllStringFunc(r.Path, func(p string) string {
			if v, ok := good[p[1:]]; ok {
				return v
			}
			return "x"
		})
		targets = append(targets, withGood+"?org=%FF", withGood+"?lang=%00&kind=x", withGood+"?%FF=1", withGood+"?q=a%00b")
		for _, target := range targets {
			n++
			if code := send(r.Method, target); code >= 500 {
				t.Errorf("%s %s (route %s): %d", r.Method, target, r.Path, code)
			}
		}
	}
	for _, l := range logs.Lines("ERROR") {
		t.Errorf("ERROR logged: %v", l)
	}
	t.Logf("%d requests on %d routes", n, len(h.Routes()))
}

// Without METRICS_TOKEN, /metrics answers only a peer on the loopback
// interface that no proxy forwarded for someone else; the peer address
// decides, not X-Forwarded-For.
func TestMetricsWithoutTokenOnlyForLoopback(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1", "192.0.2.0/24"} })
	withTok := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.MetricsToken = "s3cret-metrics-token" })
	cases := []struct {
		name      string
		app       *testapp.App
		peer, xff string
		bearer    string
		want      int
	}{
		{"loopback v4", b, "127.0.0.1:5000", "", "", http.StatusOK},
		{"loopback v6", b, "[::1]:5000", "", "", http.StatusOK},
		{"other host", b, "198.51.100.7:5000", "", "", http.StatusNotFound},
		{"other host claiming loopback", b, "198.51.100.7:5000", "127.0.0.1", "", http.StatusNotFound},
		{"trusted remote proxy forwarding loopback", b, "192.0.2.7:5000", "127.0.0.1", "", http.StatusNotFound},
		{"local proxy forwarding a client", b, "127.0.0.1:5000", "198.51.100.7", "", http.StatusNotFound},
		{"token decides when set", withTok, "198.51.100.7:5000", "", "s3cret-metrics-token", http.StatusOK},
		{"token set, none sent", withTok, "127.0.0.1:5000", "", "", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = tc.peer
		if tc.xff != "" {
			req.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		rec := httptest.NewRecorder()
		tc.app.Server.Config.Handler.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.want)
		}
		if tc.want != http.StatusOK && strings.Contains(rec.Body.String(), "treffpunkt_") {
			t.Errorf("%s: the answer carries metrics", tc.name)
		}
	}
}

// A network-admin token issued under an organisation is none of its
// owners' business: they neither see it nor can revoke it. A network admin
// sees and revokes it.
func TestNetworkAdminTokenHiddenFromOrgOwners(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	ctx := context.Background()
	if _, err := w.Auth.AddAdminToken(ctx, w.A.Org.ID, "network-wide"); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := w.DB.Get(&id, `SELECT id::text FROM api_tokens WHERE is_admin`); err != nil {
		t.Fatal(err)
	}
	owner := w.client(w.A.Owner)
	if code, _, body := owner.do(http.MethodGet, "/admin/orgs/a/tokens"); code != http.StatusOK || strings.Contains(body, "network-wide") || strings.Contains(body, "/tokens/"+id+"/revoke") {
		t.Errorf("owner's token list: %d, shows the network-admin token: %v", code, strings.Contains(body, "network-wide"))
	}
	if code, _, _ := owner.do(http.MethodPost, "/admin/orgs/a/tokens/"+id+"/revoke"); code != http.StatusNotFound {
		t.Errorf("owner revokes the network-admin token: %d, want 404", code)
	}
	if n := w.Count(t, `SELECT count(*) FROM api_tokens WHERE is_admin AND revoked_at IS NOT NULL`); n != 0 {
		t.Fatalf("the owner revoked the network-admin token")
	}
	admin := w.client(w.AdminEml)
	if code, _, body := admin.do(http.MethodGet, "/admin/orgs/a/tokens"); code != http.StatusOK || !strings.Contains(body, "network-wide") {
		t.Errorf("network admin's token list: %d, shows the token: %v", code, strings.Contains(body, "network-wide"))
	}
	if code, _, _ := admin.do(http.MethodPost, "/admin/orgs/a/tokens/"+id+"/revoke"); code != http.StatusSeeOther {
		t.Errorf("network admin revokes: %d, want 303", code)
	}
	if n := w.Count(t, `SELECT count(*) FROM api_tokens WHERE is_admin AND revoked_at IS NOT NULL`); n != 1 {
		t.Fatalf("the network admin could not revoke the token")
	}
}
