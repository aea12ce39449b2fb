package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"treffpunkt/internal/app"
	"treffpunkt/internal/config"
	"treffpunkt/internal/testdb"
)

// The app mounts the two faces side by side: /api/… reaches the API, which
// answers its own errors as JSON with its own headers; everything else
// reaches the pages, which answer with an error page. The route list holds
// both, for the authorisation tables.
func TestEachFaceAnswersItsOwnPaths(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a, err := app.New(&config.Config{BaseURL: "http://localhost:8080", DefaultLang: "de", RetentionDays: 90}, db, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	get := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept-Language", "en")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	resp, body := get("/api/v1/nope")
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "not_found" || e.Error.Message == "" {
		t.Fatalf("GET /api/v1/nope: %d %.200q, want a JSON 404 not_found", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != "default-src 'none'; frame-ancestors 'none'" {
		t.Fatalf("API answer's CSP %q", csp)
	}
	if resp.Header.Get("X-Request-ID") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("API answer lacks the shared headers: %v", resp.Header)
	}

	resp, body = get("/nope")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<html") {
		t.Fatalf("GET /nope: %d %s, want an error page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("page's CSP %q", csp)
	}

	if resp, body := get("/api/v1/events"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "{") {
		t.Fatalf("GET /api/v1/events: %d %.100q", resp.StatusCode, body)
	}

	seen := map[string]bool{}
	for _, r := range h.Routes() {
		seen[r.Method+" "+r.Path] = true
	}
	for _, want := range []string{"POST /api/v1/events/:slug/registrations", "POST /events/:slug/register", "GET /healthz"} {
		if !seen[want] {
			t.Errorf("Routes() lacks %s", want)
		}
	}
}
