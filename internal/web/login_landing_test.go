package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/testapp"
)

// After signing in without a page to return to, door-only staff land at
// the door and everyone else in the organisers' area; a page to return to
// may be in either area, and nowhere else.
func TestLoginSendsDoorStaffToTheCheckin(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	oa, ob := a.Org(t, "a"), a.Org(t, "b")
	door := a.Staff(t, oa, "door@a.example", auth.Door, false)
	a.Staff(t, ob, door, auth.Door, false)
	org := a.Staff(t, oa, "organiser@a.example", auth.Organiser, false)
	mixed := a.Staff(t, oa, "mixed@a.example", auth.Door, false)
	a.Staff(t, ob, mixed, auth.Organiser, false)
	admin := a.Staff(t, oa, "admin@a.example", auth.Door, true)

	for _, tc := range []struct {
		email, next, want string
	}{
		{door, "", "/checkin"},
		{door, "https://evil.example/checkin", "/checkin"},
		{door, "//evil.example", "/checkin"},
		{door, "/checkinx", "/checkin"},
		{door, "/checkin/events/fest?day=2026-07-10", "/checkin/events/fest?day=2026-07-10"},
		{door, "/admin/orgs/a", "/admin/orgs/a"},
		{org, "", "/admin"},
		{org, "/checkin", "/checkin"},
		{mixed, "", "/admin"},
		{admin, "", "/admin"},
		{org, "/admin\r\nX: y", "/admin"},
	} {
		b := a.Browser(t)
		resp, _ := b.Post("/login", "/login", url.Values{"email": {tc.email}, "password": {testapp.StaffPassword}, "next": {tc.next}})
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != tc.want {
			t.Errorf("%s, next %q: %d → %q, want %q", tc.email, tc.next, resp.StatusCode, got, tc.want)
			continue
		}
		// Signed in already, /login sends on the same way.
		resp, err := b.Client.Get(a.URL + "/login?next=" + url.QueryEscape(tc.next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("%s signed in, /login?next=%q → %q, want %q", tc.email, tc.next, got, tc.want)
		}
	}

	// The door's own redirect to the login page comes back to the door.
	b := a.Browser(t)
	resp, err := b.Client.Get(a.URL + "/checkin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Location"); got != "/login?next=%2Fcheckin" {
		t.Fatalf("/checkin signed out → %q", got)
	}
	_, page := b.Get("/login?next=%2Fcheckin")
	if !strings.Contains(page, `name="next" value="/checkin"`) {
		t.Errorf("the login form does not carry next=/checkin")
	}
}

// Everyone who may check in sees the way to the door in the admin area.
func TestAdminNavLinksToTheCheckin(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "a")
	for _, role := range []string{auth.Door, auth.Organiser, auth.Owner} {
		b := a.LoggedIn(t, a.Staff(t, o, role+"@a.example", role, false))
		for _, path := range []string{"/admin", "/admin/orgs/a"} {
			code, page := b.Get(path)
			if role == auth.Door && path != "/admin" {
				continue // not an organisers' page for the door role
			}
			if code != http.StatusOK || !strings.Contains(page, `<a href="/checkin" id="nav-checkin">`) {
				t.Errorf("%s on %s: %d, no link to /checkin", role, path, code)
			}
		}
	}
	// An account without any role may not check in: no link.
	lone := a.Staff(t, o, "lone@a.example", auth.Door, false)
	if _, err := a.DB.Exec(`DELETE FROM staff_roles WHERE user_id = (SELECT id FROM staff_users WHERE email = $1)`, lone); err != nil {
		t.Fatal(err)
	}
	b := a.LoggedIn(t, lone)
	if code, page := b.Get("/admin"); code != http.StatusOK || strings.Contains(page, `href="/checkin"`) {
		t.Errorf("account without a role: %d, link to /checkin shown", code)
	}
}
