package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/config"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testdb"
)

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "treffpunkt_session") {
			return c
		}
	}
	return nil
}

// Login gives a new session token (a token planted before is worthless),
// the cookie is HttpOnly and SameSite=Lax, the table holds only its hash,
// and logout ends the session on the server.
func TestLoginRenewsTheSessionAndLogoutEndsIt(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "a")
	email := a.Staff(t, o, "organiser@a.example", auth.Organiser, false)
	b := a.Browser(t)

	resp, err := b.Client.Get(a.URL + "/admin/orgs/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fadmin%2Forgs%2Fa" {
		t.Fatalf("no session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, _ := url.Parse(a.URL)
	planted := &http.Cookie{Name: "treffpunkt_session", Value: "planted-by-an-attacker", Path: "/"}
	b.Client.Jar.SetCookies(u, []*http.Cookie{planted})

	resp, _ = b.Post("/login?next=/admin/orgs/a", "/login", url.Values{"email": {"ORGANISER@a.example"}, "password": {testapp.StaffPassword}, "next": {"/admin/orgs/a"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/orgs/a" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := sessionCookie(resp)
	if c == nil || c.Value == "" || c.Value == planted.Value {
		t.Fatalf("login did not set a new session cookie: %+v", c)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie flags: HttpOnly %v SameSite %v Path %q Secure %v", c.HttpOnly, c.SameSite, c.Path, c.Secure)
	}
	if n := a.Count(t, `SELECT count(*) FROM sessions WHERE token = $1`, c.Value); n != 0 {
		t.Errorf("the session table holds the cookie's token in the clear")
	}
	if n := a.Count(t, `SELECT count(*) FROM sessions`); n != 1 {
		t.Errorf("sessions = %d, want 1", n)
	}
	code, page := b.Get("/admin/orgs/a")
	if code != http.StatusOK || !strings.Contains(page, "A e. V.") {
		t.Fatalf("after login as %s: %d", email, code)
	}
	if !strings.Contains(page, `action="/logout"`) {
		t.Fatalf("no logout form")
	}

	resp, _ = b.Post("/admin", "/logout", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("sessions after logout = %d, want 0", n)
	}
	// The old cookie, replayed, is worthless.
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "treffpunkt_session", Value: c.Value, Path: "/"}})
	if code, _ := b.Get("/admin"); code != http.StatusSeeOther {
		t.Errorf("old session cookie after logout: %d, want a redirect to /login", code)
	}
}

// Behind https the cookie is Secure and carries the __Host- prefix.
func TestSessionCookieIsSecureWhenServedOverHTTPS(t *testing.T) {
	t.Parallel()
	a := testapp.OnDBWith(t, testdb.New(t), func(c *config.Config) { c.BaseURL = "https://treffpunkt.example" })
	o := a.Org(t, "a")
	a.Staff(t, o, "organiser@a.example", auth.Organiser, false)
	b := a.Browser(t)
	resp, err := b.Client.Get(a.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	var csrfCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "csrf_token" {
			csrfCookie = c
		}
	}
	page := admRead(t, resp)
	form := url.Values{"email": {"organiser@a.example"}, "password": {testapp.StaffPassword}, "csrf_token": {testapp.CSRF(t, page)}}
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://treffpunkt.example")
	req.Header.Set("Referer", "https://treffpunkt.example/login")
	req.AddCookie(csrfCookie)
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("login over https: %d, cookie %v", resp.StatusCode, c)
	}
	if !c.Secure || !c.HttpOnly || c.Name != "__Host-treffpunkt_session" {
		t.Errorf("cookie %s Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
	}
}

func TestLoginWithAWrongPasswordOrUnknownAccountSaysSoWithoutASession(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "a")
	a.Staff(t, o, "organiser@a.example", auth.Organiser, false)
	for _, form := range []url.Values{
		{"email": {"organiser@a.example"}, "password": {"wrong password"}},
		{"email": {"nobody@a.example"}, "password": {testapp.StaffPassword}},
		{"email": {""}, "password": {""}},
	} {
		b := a.Browser(t)
		resp, body := b.Post("/login", "/login", form)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="problem"`) || !strings.Contains(body, "E-Mail oder Passwort ist falsch") {
			t.Errorf("%v: status %d", form, resp.StatusCode)
		}
		if sessionCookie(resp) != nil {
			t.Errorf("%v: a failed login set a session cookie", form)
		}
		if code, _ := b.Get("/admin"); code != http.StatusSeeOther {
			t.Errorf("%v: /admin after a failed login: %d", form, code)
		}
	}
}

// LOGIN_ATTEMPTS_PER_ACCOUNT (here 3) wrong passwords for one account, then
// even the right one is a 429 with a clear message and Retry-After; other
// accounts are not affected. One client address gets
// LOGIN_ATTEMPTS_PER_IP (here 8) attempts over all accounts.
func TestLoginIsRateLimitedPerAccountAndPerIP(t *testing.T) {
	t.Parallel()
	const accountBurst, ipBurst = 3, 8
	a := testapp.OnDBWith(t, testdb.New(t), func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1", "::1"}
		c.LoginAttemptsPerAccount, c.LoginAttemptsPerIP = accountBurst, ipBurst
	})
	o := a.Org(t, "a")
	a.Staff(t, o, "victim@a.example", auth.Organiser, false)
	a.Staff(t, o, "other@a.example", auth.Organiser, false)
	attempt := func(ip, email, password string) (int, string, string) {
		b := a.Browser(t)
		_, page := b.Get("/login")
		form := url.Values{"email": {email}, "password": {password}, "csrf_token": {testapp.CSRF(t, page)}}
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", a.URL)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After"), admRead(t, resp)
	}
	for i := range accountBurst {
		if code, _, _ := attempt("192.0.2."+string(rune('1'+i)), "victim@a.example", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, code)
		}
	}
	code, retry, body := attempt("198.51.100.7", "Victim@a.example", testapp.StaffPassword)
	if code != http.StatusTooManyRequests || retry == "" || !strings.Contains(body, "Zu viele Anmeldeversuche") {
		t.Fatalf("attempt %d on the account: %d, Retry-After %q", accountBurst+1, code, retry)
	}
	if code, _, _ := attempt("198.51.100.8", "other@a.example", testapp.StaffPassword); code != http.StatusSeeOther {
		t.Fatalf("another account: %d, want a login", code)
	}

	ip := "203.0.113.9"
	n, began := 0, time.Now()
	for ; n < 100; n++ {
		code, _, _ := attempt(ip, "nobody"+string(rune('a'+n%26))+string(rune('a'+n/26))+"@a.example", "guess")
		if code == http.StatusTooManyRequests {
			break
		}
	}
	// The bucket refills while the attempts run (slowly under -race).
	refilled := int(time.Since(began) / auth.DefaultIPLimit.Every)
	if n < ipBurst || n > ipBurst+refilled {
		t.Fatalf("one address got %d attempts before 429, want %d (+%d refilled)", n, ipBurst, refilled)
	}
	// The throttle refuses before the password is checked: the right
	// password from that address is refused too.
	if code, _, _ := attempt(ip, "other@a.example", testapp.StaffPassword); code != http.StatusTooManyRequests {
		t.Fatalf("right password from a throttled address: %d, want 429", code)
	}
}

// Every admin form needs the session's CSRF token and a same-site origin;
// a refused post changes nothing.
func TestAdminFormsRefusePostsWithoutCSRFToken(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	organiser := w.client(w.A.Organiser)
	other := w.client(w.A.Owner)
	form := func() url.Values {
		return url.Values{"slug": {"csrf-test"}, "kind": {"other"}, "default_lang": {"de"}, "access": {"public"}, "title_de": {"CSRF"}, "starts_at": {"2030-07-06T15:00"}, "ends_at": {"2030-07-06T18:00"}, "timezone": {"Europe/Berlin"}, "action": {"publish"}}
	}
	post := func(f url.Values, origin string) int {
		req, _ := http.NewRequest(http.MethodPost, w.URL+"/admin/orgs/a/new-event", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		resp, err := organiser.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	noToken := form()
	otherToken := form()
	otherToken.Set("csrf_token", other.csrf)
	ownToken := form()
	ownToken.Set("csrf_token", organiser.csrf)
	for name, code := range map[string]int{
		"no token":                   post(noToken, w.URL),
		"token of another session":   post(otherToken, w.URL),
		"own token, foreign origin":  post(ownToken, "https://evil.example"),
		"own token, no origin match": post(ownToken, "http://localhost:1"),
	} {
		if code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	if n := w.Count(t, `SELECT count(*) FROM events WHERE slug = 'csrf-test'`); n != 0 {
		t.Fatalf("a refused post created an event")
	}
	if code := post(ownToken, w.URL); code != http.StatusSeeOther {
		t.Fatalf("the real form: %d, want 303", code)
	}
	// Logout is a form too.
	req, _ := http.NewRequest(http.MethodPost, w.URL+"/logout", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.URL)
	resp, err := organiser.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token: %d, want 403", resp.StatusCode)
	}
}

// A reset link is mailed only for a known address (the page says the same
// either way), is stored as a hash, works once within the hour, and the new
// password ends the account's other sessions.
func TestPasswordResetLinkWorksOnceAndEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "a")
	email := a.Staff(t, o, "organiser@a.example", auth.Organiser, false)
	other := a.LoggedIn(t, email)

	b := a.Browser(t)
	_, known := b.Post("/login/reset", "/login/reset", url.Values{"email": {"Organiser@a.example"}})
	_, unknown := b.Post("/login/reset", "/login/reset", url.Values{"email": {"nobody@a.example"}})
	if !strings.Contains(known, `id="notice"`) || !strings.Contains(unknown, `id="notice"`) {
		t.Fatalf("the answer differs or is missing")
	}
	if len(a.StaffMail.Mails()) != 1 {
		t.Fatalf("mails = %d, want 1 (none for an unknown address)", len(a.StaffMail.Mails()))
	}
	m := a.StaffMail.Last(t, auth.MailPasswordReset, email)
	link := strings.TrimPrefix(m.URL, a.URL)
	tok := strings.TrimPrefix(link, "/login/reset/")
	if !strings.HasPrefix(link, "/login/reset/") || len(tok) < 40 {
		t.Fatalf("link %q", m.URL)
	}
	if n := a.Count(t, `SELECT count(*) FROM password_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, tok); n != 1 {
		t.Fatalf("the token is not stored as its SHA-256 (%d rows)", n)
	}
	if d := time.Until(m.Expires); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("link expires in %v, want an hour", d)
	}

	resp, body := b.Post(link, link, url.Values{"password": {"short"}, "password_confirm": {"short"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-password"`) {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	resp, body = b.Post(link, link, url.Values{"password": {"a new long password"}, "password_confirm": {"a new long passwort"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-password_confirm"`) {
		t.Fatalf("mismatch: %d", resp.StatusCode)
	}
	resp, _ = b.Post(link, link, url.Values{"password": {"a new long password"}, "password_confirm": {"a new long password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?done=password" {
		t.Fatalf("set password: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := other.Get("/admin"); code != http.StatusSeeOther {
		t.Errorf("a session from before the reset still works: %d", code)
	}
	if resp, _ := a.Browser(t).Post("/login", "/login", url.Values{"email": {email}, "password": {testapp.StaffPassword}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d, want 401", resp.StatusCode)
	}
	a.Browser(t).Login(email, "a new long password")

	if code, page := b.Get(link); code != http.StatusNotFound || !strings.Contains(page, "abgelaufen oder wurde schon benutzt") {
		t.Errorf("used link: %d", code)
	}
	// A second link expires after an hour.
	_, _ = b.Post("/login/reset", "/login/reset", url.Values{"email": {email}})
	link2 := strings.TrimPrefix(a.StaffMail.Last(t, auth.MailPasswordReset, email).URL, a.URL)
	if _, err := a.DB.Exec(`UPDATE password_tokens SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	_, form := b.Get("/login/reset")
	if resp, _ := b.PostRaw(link2, url.Values{"password": {"yet another password"}, "password_confirm": {"yet another password"}, "csrf_token": {testapp.CSRF(t, form)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired link: %d, want 404", resp.StatusCode)
	}
}

// An owner invites a new address: it gets an account without a usable
// password and a one-time link; after setting a password it works in the
// organisation with the role given. The last owner cannot be removed.
func TestOwnerInvitesStaffWhoSetTheirPasswordByLink(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	owner := w.client(w.A.Owner)
	resp, body := owner.post("/admin/orgs/a/staff", url.Values{"email": {"neu@a.example"}, "role": {"door"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d\n%.400s", resp.StatusCode, body)
	}
	m := w.StaffMail.Last(t, auth.MailStaffInvite, "neu@a.example")
	if m.OrgName != "A e. V." || m.Role != "door" {
		t.Errorf("invitation %+v", m)
	}
	_, page := owner.Get("/admin/orgs/a/staff")
	if !strings.Contains(page, "neu@a.example") || !strings.Contains(page, "eingeladen") {
		t.Errorf("the staff page does not list the invitation")
	}
	if resp, _ := w.Browser(t).Post("/login", "/login", url.Values{"email": {"neu@a.example"}, "password": {""}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login before the password is set: %d", resp.StatusCode)
	}
	// Re-invited with another role: the role changes, a fresh link goes out.
	owner.post("/admin/orgs/a/staff", url.Values{"email": {"neu@a.example"}, "role": {"organiser"}})
	link := strings.TrimPrefix(w.StaffMail.Last(t, auth.MailStaffInvite, "neu@a.example").URL, w.URL)
	if link == strings.TrimPrefix(m.URL, w.URL) {
		t.Fatalf("no fresh link")
	}
	b := w.Browser(t)
	if _, page := b.Get(link); !strings.Contains(page, "Willkommen") {
		t.Fatalf("invitation page")
	}
	b.Post(link, link, url.Values{"password": {"my own good password"}, "password_confirm": {"my own good password"}})
	b.Login("neu@a.example", "my own good password")
	if code, _ := b.Get("/admin/orgs/a"); code != http.StatusOK {
		t.Fatalf("invited organiser on the organisation: %d", code)
	}
	if code, _ := b.Get("/admin/orgs/a/staff"); code != http.StatusForbidden {
		t.Fatalf("invited organiser on owner pages: %d", code)
	}
	// An existing account invited to a second organisation is told so.
	ownerB := w.client(w.B.Owner)
	ownerB.post("/admin/orgs/b/staff", url.Values{"email": {w.A.Organiser}, "role": {"organiser"}})
	w.StaffMail.Last(t, auth.MailStaffAdded, w.A.Organiser)

	var ownerID int64
	if err := w.DB.Get(&ownerID, `SELECT id FROM staff_users WHERE email = $1`, w.A.Owner); err != nil {
		t.Fatal(err)
	}
	resp, body = owner.post("/admin/orgs/a/staff/"+strconv.FormatInt(ownerID, 10)+"/remove", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "mindestens eine") {
		t.Fatalf("removing the last owner: %d", resp.StatusCode)
	}
	resp, _ = owner.post("/admin/orgs/a/staff/"+strconv.FormatInt(ownerID, 10)+"/role", url.Values{"role": {"organiser"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("demoting the last owner: %d", resp.StatusCode)
	}
	resp, _ = owner.post("/admin/orgs/a/staff/"+strconv.FormatInt(w.A.OrganiserID, 10)+"/remove", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if n := w.Count(t, `SELECT count(*) FROM staff_roles WHERE user_id = $1`, w.A.OrganiserID); n != 1 {
		t.Fatalf("roles of the removed organiser = %d, want 1 (in B)", n)
	}
}
