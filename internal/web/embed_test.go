package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"treffpunkt/internal/config"
	"treffpunkt/internal/testapp"
)

var embedTokenRE = regexp.MustCompile(`name="embed_token" value="([^"]+)"`)

// embedToken loads the embedded form without any cookie and returns its token.
func embedToken(t *testing.T, a *testapp.App, slug string) string {
	t.Helper()
	resp, err := http.Get(a.URL + "/embed/events/" + slug + "?lang=de")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := embedTokenRE.FindStringSubmatch(string(body))
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("embed page: %d, token found %v\n%.400s", resp.StatusCode, m != nil, body)
	}
	return m[1]
}

// embedPost sends the embedded form with no cookies at all, as Safari does
// in a cross-site frame.
func embedPost(t *testing.T, a *testapp.App, slug, origin string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/embed/events/"+slug+"/register?lang=de", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func signupValues(token, email string) url.Values {
	return url.Values{"embed_token": {token}, "name": {"Lina"}, "email": {email}, "party_size": {"1"}, "consent": {"yes"}, "lang": {"de"}}
}

// The embedded form works without the CSRF cookie: its signed token is
// enough, and the result (with a link to the registration page, outside the
// frame) is shown in the frame.
func TestEmbedSignupNeedsNoCookie(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	code, body := embedPost(t, a, "fest", a.URL, signupValues(embedToken(t, a, "fest"), "lina@example.org"))
	if code != http.StatusOK || !strings.Contains(body, `id="embed-done"`) || !strings.Contains(body, a.URL+"/r/") {
		t.Fatalf("embed sign-up: %d\n%.600s", code, body)
	}
	if strings.Contains(body, `class="site"`) {
		t.Error("embedded result shows the site's header or footer")
	}
	if !strings.Contains(body, `<base target="_blank">`) {
		t.Error("links of the embedded page do not leave the frame")
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'lina@example.org' AND status = 'confirmed'`); got != 1 {
		t.Fatalf("registrations = %d", got)
	}
}

// A missing, forged, foreign or expired token, or a POST from another
// origin, signs nobody up; a bad token shows the form again with the values
// kept and a fresh token.
func TestEmbedSignupRefusesBadTokenAndForeignOrigin(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	a.Event(t, o, "other", nil)
	good := embedToken(t, a, "fest")
	exp, mac, _ := strings.Cut(good, ".")
	nonce, _, _ := strings.Cut(mac, ".")
	cases := map[string]struct {
		token, origin string
		want          int
	}{
		"missing":        {"", a.URL, http.StatusForbidden},
		"forged mac":     {exp + "." + nonce + ".AAAAAAAAAAAAAAAAAAAAAA", a.URL, http.StatusForbidden},
		"later expiry":   {fmt.Sprint(mustAtoi(t, exp)+60) + "." + mac, a.URL, http.StatusForbidden},
		"expired":        {"1000." + mac, a.URL, http.StatusForbidden},
		"other event's":  {embedToken(t, a, "other"), a.URL, http.StatusForbidden},
		"foreign origin": {good, "https://evil.example", http.StatusForbidden},
		"garbage":        {"not-a-token", a.URL, http.StatusForbidden},
	}
	for name, tc := range cases {
		code, body := embedPost(t, a, "fest", tc.origin, signupValues(tc.token, "x@example.org"))
		if code != tc.want {
			t.Errorf("%s: status %d, want %d", name, code, tc.want)
		}
		if tc.origin == a.URL && (!strings.Contains(body, `value="Lina"`) || !embedTokenRE.MatchString(body)) {
			t.Errorf("%s: the form is not shown again with the name kept and a fresh token", name)
		}
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 0 {
		t.Fatalf("registrations = %d, want 0", got)
	}
}

// An embedded sign-up must say where it comes from: a POST without an
// Origin, or with Origin null (a sandboxed frame, a file, a privacy tool
// that hides it), is refused with a page that says why. Real browsers send
// this site's origin from the form (embed_browser_test.go).
func TestEmbedSignupRefusesMissingOrNullOrigin(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	for _, origin := range []string{"", "null"} {
		code, body := embedPost(t, a, "fest", origin, signupValues(embedToken(t, a, "fest"), "x@example.org"))
		if code != http.StatusForbidden || !strings.Contains(body, "Dein Browser hat nicht mitgeteilt, von welcher Website") {
			t.Errorf("Origin %q: %d\n%.600s", origin, code, body)
		}
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 0 {
		t.Fatalf("registrations = %d, want 0", got)
	}
}

// A form token serves one sign-up, on every instance: sent again (a page
// that replays it, or the back button), it signs nobody up and the form
// comes back with the values kept and a fresh token.
func TestEmbedTokenServesOneSignup(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	b := a.Second(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	tok := embedToken(t, a, "fest")
	if code, body := embedPost(t, a, "fest", a.URL, signupValues(tok, "first@example.org")); code != http.StatusOK {
		t.Fatalf("first sign-up: %d\n%.600s", code, body)
	}
	for i, app := range []*testapp.App{a, b} {
		code, body := embedPost(t, app, "fest", app.URL, signupValues(tok, fmt.Sprintf("again%d@example.org", i)))
		if code != http.StatusForbidden || !strings.Contains(body, "schon einmal abgeschickt") {
			t.Errorf("replay on instance %d: %d\n%.600s", i+1, code, body)
		}
		if m := embedTokenRE.FindStringSubmatch(body); m == nil || m[1] == tok || !strings.Contains(body, `value="Lina"`) {
			t.Errorf("replay on instance %d: the form does not come back with the values and a fresh token", i+1)
		}
	}
	if got := a.Count(t, `SELECT count(*) FROM registrations`); got != 1 {
		t.Fatalf("registrations = %d, want 1", got)
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Bad input in the frame is marked in the frame, in the embed layout, with
// a fresh token for the next try.
func TestEmbedSignupBadInputStaysInFrame(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	form := signupValues(embedToken(t, a, "fest"), "not-an-email")
	code, body := embedPost(t, a, "fest", a.URL, form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-email"`) || strings.Contains(body, `class="site"`) || !embedTokenRE.MatchString(body) {
		t.Fatalf("bad email in the frame: %d\n%.600s", code, body)
	}
	if !strings.Contains(body, "<title>Fehler: ") {
		t.Error("the page title does not say that the form has errors")
	}
	if !strings.Contains(body, `action="/embed/events/fest/register?lang=de"`) {
		t.Error("the form in the frame does not post to the embed route")
	}
}

// The per-IP sign-up limit holds for the embedded form too.
func TestEmbedSignupKeepsRateLimit(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	b := testapp.OnDBWith(t, a.DB, func(c *config.Config) { c.SignupRatePerIP = 2 })
	var codes []int
	for i := range 3 {
		code, _ := embedPost(t, b, "fest", b.URL, signupValues(embedToken(t, b, "fest"), fmt.Sprintf("p%d@example.org", i)))
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Fatalf("codes %v, want [200 200 429]", codes)
	}
}

// The organisation's embedded list links to the embedded forms and stays in
// the frame; an unknown organisation is a 404.
func TestEmbedOrgListsUpcomingEvents(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	code, body := a.Browser(t).Get("/embed/orgs/miso?lang=de")
	if code != http.StatusOK || !strings.Contains(body, `href="/embed/events/fest?lang=de" target="_self"`) || strings.Contains(body, `class="site"`) {
		t.Fatalf("embed org: %d\n%.600s", code, body)
	}
	if code, _ := a.Browser(t).Get("/embed/orgs/nobody"); code != http.StatusNotFound {
		t.Fatalf("unknown org: %d", code)
	}
}

// Organisers find a snippet to copy for the organisation and each event.
func TestAdminEmbedPageShowsSnippets(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "fest", nil)
	b := a.LoggedIn(t, a.Staff(t, o, "orga@example.org", "organiser", false))
	code, body := b.Get("/admin/orgs/miso/embed")
	for _, want := range []string{
		`id="snippet-org"`, `id="snippet-fest"`,
		`&lt;iframe src=&#34;` + a.URL + `/embed/events/fest?lang=de&#34;`,
		a.URL + `/static/embed.js`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("admin embed page (%d) lacks %s", code, want)
		}
	}
}
