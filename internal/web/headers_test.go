package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/config"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
	"treffpunkt/web"
)

func get(t *testing.T, rawURL string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Every answer, whoever writes it (pages, errors, API, static files, the
// body limit, the CSRF check), carries the security headers.
func TestSecurityHeadersEverywhere(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	res, err := a.Registrations.SignUp(t.Context(), "fest", registration.SignupInput{Name: "Ayşe", Email: "ayse@example.org", PartySize: 1, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]int{
		"/":                                  200,
		"/events/fest":                       200,
		"/static/site.css":                   200,
		"/static/site.js":                    200,
		"/api/v1/events":                     200,
		"/api/v1/nope":                       404,
		"/nope":                              404,
		"/r/" + res.Registration.ManageToken: 200,
		"/t/" + res.Registration.Tickets[0].Code + "/qr.svg": 200,
		"/healthz": 200,
		"/metrics": 200,
		"/login":   200,
	}
	for p, want := range paths {
		resp := get(t, a.URL+p, nil)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", p, resp.StatusCode, want)
		}
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if !strings.HasPrefix(p, "/api/") && !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP without script-src 'self': %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: nosniff %q, X-Frame-Options %q", p, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
		}
		wantRef := "strict-origin-when-cross-origin"
		if strings.HasPrefix(p, "/r/") || strings.HasPrefix(p, "/t/") {
			wantRef = "no-referrer" // the URL holds a secret
		}
		if h.Get("Referrer-Policy") != wantRef {
			t.Errorf("%s: Referrer-Policy %q, want %q", p, h.Get("Referrer-Policy"), wantRef)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over http", p)
		}
	}
	// Answers written outside the router: body too large, CSRF refused.
	resp, _ := a.Browser(t).PostRaw("/events/fest/register", url.Values{"name": {strings.Repeat("x", 70<<10)}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("413: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	resp, _ = a.Browser(t).PostRaw("/events/fest/register", url.Values{"name": {"x"}})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("CSRF refusal: %d, nosniff %q", resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
	}
}

// /embed/ pages may be framed by this site and FRAME_ANCESTORS, nothing else.
func TestEmbedFrameAncestors(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) {
		c.FrameAncestors = []string{"https://miso.example", "https://kargah.example"}
	})
	h := get(t, b.URL+"/embed/events/fest", nil).Header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'self' https://miso.example https://kargah.example") || strings.Contains(csp, "'none'; frame") ||
		h.Get("X-Frame-Options") != "" || !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("embed: CSP %q, X-Frame-Options %q", csp, h.Get("X-Frame-Options"))
	}
	if csp := get(t, b.URL+"/events/fest", nil).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("non-embed page may be framed: %q", csp)
	}
}

// Under an https BASE_URL: HSTS, and every cookie (language, CSRF, session)
// Secure, HttpOnly and SameSite.
func TestHTTPSHeadersAndCookies(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	email := a.Staff(t, o, "owner@miso.example", auth.Owner, false)
	const base = "https://treffpunkt.example"
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.BaseURL = base })

	resp := get(t, b.URL+"/login?lang=en", nil)
	if resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Fatalf("HSTS %q", resp.Header.Get("Strict-Transport-Security"))
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		cookies[c.Name] = c
	}
	// The login form's CSRF token, then a login that sets the session.
	var csrfCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name != "lang" {
			csrfCookie = c
		}
	}
	if cookies["lang"] == nil || csrfCookie == nil {
		t.Fatalf("cookies %v", resp.Cookies())
	}
	req, _ := http.NewRequest(http.MethodGet, b.URL+"/login", nil)
	req.AddCookie(csrfCookie)
	lr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(lr)
	form := url.Values{"email": {email}, "password": {testapp.StaffPassword}, "csrf_token": {testapp.CSRF(t, body)}}
	req, _ = http.NewRequest(http.MethodPost, b.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.AddCookie(csrfCookie)
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		cookies[c.Name] = c
	}
	cookies["csrf"] = csrfCookie
	if cookies["__Host-treffpunkt_session"] == nil {
		t.Fatalf("no session cookie: %v", resp.Cookies())
	}
	for name, c := range cookies {
		if !c.Secure || !c.HttpOnly || c.SameSite == http.SameSiteDefaultMode || c.SameSite == 0 {
			t.Errorf("cookie %s: Secure %v HttpOnly %v SameSite %v", name, c.Secure, c.HttpOnly, c.SameSite)
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The templates hold nothing a CSP without 'unsafe-inline' would block:
// no inline <script> or <style>, no on…= handlers, no style= attributes,
// no javascript: URLs.
func TestTemplatesNeedNoUnsafeInline(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]|<style|\son[a-z]+\s*=|\sstyle\s*=|javascript:`)
	// A JSON-LD block is data, never run: script-src does not govern it.
	dataBlock := regexp.MustCompile(`(?s)<script type="application/ld\+json">.*?</script>`)
	n := 0
	err := fs.WalkDir(web.FS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.FS, p)
		if err != nil {
			return err
		}
		n++
		if m := bad.Find(dataBlock.ReplaceAll(b, nil)); m != nil {
			t.Errorf("%s: %q needs 'unsafe-inline'; move it to a file under web/static", p, m)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d templates: %v", n, err)
	}
}
