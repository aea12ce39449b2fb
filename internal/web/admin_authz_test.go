package web_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/testutil"
)

// admRoute is one route of the organisers' area or the staff API with the
// least role it needs: "user" (any signed-in staff member), "door",
// "organiser", "owner", or "admin" (network admins only: every other
// account, whatever its roles, gets 403). Destructive routes run last in
// the positive checks.
type admRoute struct {
	method, path, role string
	destructive        bool
}

// admPageRoutes lists every route under /admin. A route added to the
// router but not here fails TestEveryStaffRouteIsInTheAuthorisationTable.
var admPageRoutes = []admRoute{
	{"GET", "/admin", "user", false},
	{"GET", "/admin/stats", "admin", false},
	{"GET", "/admin/stats.csv", "admin", false},
	{"GET", "/admin/orgs/:org", "organiser", false},
	{"GET", "/admin/orgs/:org/new-event", "organiser", false},
	{"POST", "/admin/orgs/:org/new-event", "organiser", false},
	{"POST", "/admin/orgs/:org/new-event/preview", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/preview", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/preview", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/cancel", "organiser", true},
	{"POST", "/admin/orgs/:org/events/:slug/image", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/image/delete", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/duplicate", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/questions", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/questions", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/sessions", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/sessions", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/registrations", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/registrations.csv", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/registrations.xlsx", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/registrations/:id/cancel", "organiser", true},
	{"POST", "/admin/orgs/:org/events/:slug/registrations/:id/move-up", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/registrations/:id/resend", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/registrations/:id/erase", "organiser", true},
	{"POST", "/admin/orgs/:org/events/:slug/registrations/:id/approve", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/registrations/:id/decline", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/release-no-shows", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/release-no-shows", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/messages", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/messages/preview", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/messages", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/messages/:id", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/messages.json", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/door-list", "door", false},
	{"GET", "/admin/orgs/:org/events/:slug/badges", "organiser", false},
	{"GET", "/admin/orgs/:org/events/:slug/certificates", "organiser", false},
	{"GET", "/admin/orgs/:org/series", "organiser", false},
	{"POST", "/admin/orgs/:org/series/:slug/dates", "organiser", false},
	{"POST", "/admin/orgs/:org/series/:slug/dates/:date/cancel", "organiser", true},
	{"GET", "/admin/orgs/:org/events/:slug/series", "organiser", false},
	{"POST", "/admin/orgs/:org/events/:slug/series", "organiser", false},
	{"GET", "/admin/orgs/:org/members", "organiser", false},
	{"POST", "/admin/orgs/:org/members", "organiser", false},
	{"GET", "/admin/orgs/:org/embed", "organiser", false},
	{"GET", "/admin/orgs/:org/stats", "organiser", false},
	{"GET", "/admin/orgs/:org/stats.csv", "organiser", false},
	{"GET", "/admin/orgs/:org/staff", "owner", false},
	{"POST", "/admin/orgs/:org/staff", "owner", false},
	{"POST", "/admin/orgs/:org/staff/:user/role", "owner", false},
	{"POST", "/admin/orgs/:org/staff/:user/remove", "owner", true},
	{"GET", "/admin/orgs/:org/tokens", "owner", false},
	{"POST", "/admin/orgs/:org/tokens", "owner", false},
	{"POST", "/admin/orgs/:org/tokens/:id/revoke", "owner", true},
	{"GET", "/admin/orgs/:org/audit", "owner", false},
	{"GET", "/admin/orgs/:org/settings", "owner", false},
	{"POST", "/admin/orgs/:org/settings", "owner", false},
	{"GET", "/admin/orgs/:org/partnerships", "owner", false},
	{"POST", "/admin/orgs/:org/partnerships/:slug/accept", "owner", false},
	{"POST", "/admin/orgs/:org/partnerships/:slug/decline", "owner", false},
}

// admAPIRoutes lists every route under /api/v1/orgs, with a body that
// passes the route's own checks (so that only authorisation decides).
var admAPIRoutes = []struct {
	admRoute
	contentType, body string
}{
	{admRoute{"GET", "/api/v1/orgs/:org/events", "organiser", false}, "", ""},
	{admRoute{"POST", "/api/v1/orgs/:org/events", "organiser", false}, "application/json", `{}`},
	{admRoute{"GET", "/api/v1/orgs/:org/events/:slug", "organiser", false}, "", ""},
	{admRoute{"PATCH", "/api/v1/orgs/:org/events/:slug", "organiser", false}, "application/json", `{}`},
	{admRoute{"POST", "/api/v1/orgs/:org/events/:slug/cancel", "organiser", true}, "", ""},
	{admRoute{"PUT", "/api/v1/orgs/:org/events/:slug/image", "organiser", false}, pictureType, pictureBody},
	{admRoute{"DELETE", "/api/v1/orgs/:org/events/:slug/image", "organiser", false}, "", ""},
	{admRoute{"POST", "/api/v1/orgs/:org/series", "organiser", false}, "application/json", `{}`},
	{admRoute{"GET", "/api/v1/orgs/:org/series/:slug", "organiser", false}, "", ""},
	{admRoute{"PATCH", "/api/v1/orgs/:org/series/:slug", "organiser", false}, "application/json", `{}`},
	{admRoute{"GET", "/api/v1/orgs/:org/events/:slug/registrations", "organiser", false}, "", ""},
	{admRoute{"GET", "/api/v1/orgs/:org/events/:slug/registrations.csv", "organiser", false}, "", ""},
	{admRoute{"PATCH", "/api/v1/orgs/:org/events/:slug/registrations/:id", "organiser", false}, "application/json", `{}`},
	{admRoute{"POST", "/api/v1/orgs/:org/events/:slug/registrations/approve", "organiser", false}, "application/json", `{"ids":[]}`},
	{admRoute{"POST", "/api/v1/orgs/:org/events/:slug/registrations/:id/approve", "organiser", false}, "", ""},
	{admRoute{"POST", "/api/v1/orgs/:org/events/:slug/registrations/:id/decline", "organiser", false}, "", ""},
	{admRoute{"GET", "/api/v1/orgs/:org/events/:slug/sessions/:key/registrations", "organiser", false}, "", ""},
	{admRoute{"GET", "/api/v1/orgs/:org/events/:slug/sessions/:key/registrations.csv", "organiser", false}, "", ""},
	{admRoute{"PUT", "/api/v1/orgs/:org/members", "organiser", false}, "text/csv", "name,email\nAyşe,ayse@example.org\n"},
	{admRoute{"POST", "/api/v1/orgs/:org/events/:slug/messages", "organiser", false}, "application/json", `{"subject":{"de":"Raum"},"body":{"de":"Neuer Raum."},"to":{"status":["confirmed"]}}`},
	{admRoute{"GET", "/api/v1/orgs/:org/events/:slug/messages", "organiser", false}, "", ""},
	{admRoute{"POST", "/api/v1/orgs/:org/events/:slug/release-no-shows", "organiser", true}, "application/json", `{"after_minutes":0}`},
	{admRoute{"GET", "/api/v1/orgs/:org/stats", "organiser", false}, "", ""},
	{admRoute{"GET", "/api/v1/orgs/:org/audit", "owner", false}, "", ""},
	{admRoute{"GET", "/api/v1/orgs/:org", "owner", false}, "", ""},
	{admRoute{"PATCH", "/api/v1/orgs/:org", "owner", false}, "application/json", `{}`},
	{admRoute{"GET", "/api/v1/orgs/:org/partnerships", "owner", false}, "", ""},
	{admRoute{"POST", "/api/v1/orgs/:org/partnerships/:slug/accept", "owner", false}, "", ""},
	{admRoute{"POST", "/api/v1/orgs/:org/partnerships/:slug/decline", "owner", false}, "", ""},
}

// pictureType and pictureBody are a valid picture upload (a small PNG
// with alt text in German).
var pictureType, pictureBody = func() (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("alt_de", "Ein Bild")
	part, _ := w.CreateFormFile("image", "p.png")
	_, _ = part.Write(testutil.PNGWithGPS(40, 30, false))
	_ = w.Close()
	return w.FormDataContentType(), b.String()
}()

// Walks the router: a staff route without a row in the tables above fails,
// and so does a row without a route.
func TestEveryStaffRouteIsInTheAuthorisationTable(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	h, ok := w.Server.Config.Handler.(interface{ Routes() gin.RoutesInfo })
	if !ok {
		t.Fatal("the router does not list its routes")
	}
	want := map[string]bool{}
	for _, r := range admPageRoutes {
		want[r.method+" "+r.path] = true
	}
	for _, r := range admAPIRoutes {
		want[r.method+" "+r.path] = true
	}
	seen := map[string]bool{}
	for _, r := range h.Routes() {
		if !strings.HasPrefix(r.Path, "/admin") && !strings.HasPrefix(r.Path, "/api/v1/orgs") {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		if !want[key] {
			t.Errorf("route %s has no row in the authorisation table", key)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("table row %s has no route", key)
		}
	}
}

// admPath fills a route pattern: org, the event slug, and the ids of a
// registration (the waitlisted one for move-up, else the confirmed one), a
// staff member and a token.
func admPath(pattern string, org string, o admOrg) string {
	regID := o.Confirmed.ID
	if strings.HasSuffix(pattern, "/move-up") {
		regID = o.Waitlisted.ID
	}
	id := strconv.FormatInt(regID, 10)
	if strings.Contains(pattern, "/tokens/") {
		id = strconv.FormatInt(o.TokenID, 10)
	}
	if strings.Contains(pattern, "/messages/") {
		id = strconv.FormatInt(o.MessageID, 10)
	}
	slug := o.Event.Slug
	if strings.Contains(pattern, "/partnerships/") {
		slug = o.PartnerEvent
	}
	if strings.Contains(pattern, "/series/") {
		slug = admSeries(o)
	}
	return strings.NewReplacer(
		":org", org, ":slug", slug, ":id", id,
		":user", strconv.FormatInt(o.OrganiserID, 10), ":key", "ws", ":date", o.SeriesDate,
	).Replace(pattern)
}

// admSeries names the series admGiveSeries gives each organisation.
func admSeries(o admOrg) string { return "reihe-" + o.Org.Slug }

// admGiveSeries gives A and B a series of one date each, for the routes
// of a series.
func admGiveSeries(t *testing.T, w *admWorld) {
	t.Helper()
	for _, x := range []*admOrg{&w.A, &w.B} {
		start := time.Now().AddDate(0, 1, 0).Truncate(time.Hour)
		sr, err := w.Events.CreateSeries(t.Context(), x.Org.ID, event.SeriesInput{Slug: admSeries(*x), Template: json.RawMessage(`{"title":{"de":"Reihe"}}`),
			Dates: []event.Span{{StartsAt: start, EndsAt: start.Add(time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		x.SeriesDate = sr.Dates[0].Slug
	}
}

func hasNested(pattern string) bool {
	return strings.Contains(pattern, ":slug") || strings.Contains(pattern, ":id") || strings.Contains(pattern, ":user")
}

// Route by route: no session is sent to the login page; staff of B get a
// 404 on A's organisation and on A's events, registrations, staff and
// tokens reached through B's own organisation; door staff get 403 on
// organiser routes and organisers 403 on owner routes; the right role (and
// a network admin) gets through.
func TestEveryAdminRouteIsScopedToTheCallersOrganisation(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	admGiveSeries(t, w)
	anon := w.client("")
	door := w.client(w.A.Door)
	organiser := w.client(w.A.Organiser)
	ownerB := w.client(w.B.Owner)
	organiserB := w.client(w.B.Organiser)

	for _, r := range admPageRoutes {
		pathA := admPath(r.path, "a", w.A)
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			if code, loc, _ := anon.do(r.method, pathA); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("no session: %d %q, want a redirect to /login", code, loc)
			}
			if r.role == "user" {
				return
			}
			if r.role == "admin" {
				for name, c := range map[string]*admClient{"door staff of A": door, "organiser of A": organiser, "owner of B": ownerB} {
					if code, _, _ := c.do(r.method, pathA); code != http.StatusForbidden {
						t.Errorf("%s on a network admins' route: %d, want 403", name, code)
					}
				}
				return
			}
			if r.role == "door" {
				if code, loc, _ := door.do(r.method, pathA); code == http.StatusForbidden || code == http.StatusNotFound || code >= 500 || strings.HasPrefix(loc, "/login") {
					t.Errorf("door staff of A on a door route: %d %q", code, loc)
				}
			} else if code, _, _ := door.do(r.method, pathA); code != http.StatusForbidden {
				t.Errorf("door staff of A: %d, want 403", code)
			}
			if r.role == "owner" {
				if code, _, _ := organiser.do(r.method, pathA); code != http.StatusForbidden {
					t.Errorf("organiser of A on an owner route: %d, want 403", code)
				}
			}
			for name, c := range map[string]*admClient{"owner of B": ownerB, "organiser of B": organiserB} {
				if r.role == "owner" && c == organiserB {
					continue
				}
				if code, _, _ := c.do(r.method, pathA); code != http.StatusNotFound {
					t.Errorf("%s on A: %d, want 404", name, code)
				}
				if hasNested(r.path) {
					// B's own organisation in the path, A's objects after it.
					if code, _, _ := c.do(r.method, admPath(r.path, "b", w.A)); code != http.StatusNotFound {
						t.Errorf("%s on A's objects under B: %d, want 404", name, code)
					}
				}
			}
			if strings.Contains(r.path, ":id") && strings.Contains(r.path, "/registrations/") {
				// B's event, A's registration.
				p := strings.Replace(admPath(r.path, "b", w.B), "/registrations/"+strconv.FormatInt(w.B.Confirmed.ID, 10), "/registrations/"+strconv.FormatInt(w.A.Confirmed.ID, 10), 1)
				p = strings.Replace(p, "/registrations/"+strconv.FormatInt(w.B.Waitlisted.ID, 10), "/registrations/"+strconv.FormatInt(w.A.Waitlisted.ID, 10), 1)
				if code, _, _ := ownerB.do(r.method, p); code != http.StatusNotFound {
					t.Errorf("owner of B on A's registration under B's event: %d, want 404", code)
				}
			}
		})
	}

	// The right role gets through: anything but 401/403/404 or the login
	// page (a 422 for an empty form counts: it was let in). Destructive
	// routes go last so that the others still find their objects.
	owner := w.client(w.A.Owner)
	admin := w.client(w.AdminEml)
	routes := append([]admRoute(nil), admPageRoutes...)
	sort.SliceStable(routes, func(i, j int) bool { return !routes[i].destructive && routes[j].destructive })
	for _, r := range routes {
		pathA := admPath(r.path, "a", w.A)
		who := map[string]*admClient{"owner": owner}
		if r.role != "owner" {
			who["organiser"] = organiser
		}
		if r.role == "admin" {
			who = map[string]*admClient{}
		}
		if !r.destructive {
			who["network admin"] = admin
		}
		for name, c := range who {
			code, loc, body := c.do(r.method, pathA)
			if code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound ||
				code >= 500 || strings.HasPrefix(loc, "/login") {
				t.Errorf("%s %s as %s: %d %q\n%.300s", r.method, r.path, name, code, loc, body)
			}
		}
	}
}

// The staff API, route by route: no token is 401, a token of B is 404 on
// A's organisation and on A's events through B's, a door token is 403, an
// organiser token and a network-admin token get through.
func TestEveryStaffAPIRouteIsScopedToTheTokensOrganisation(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	adminTok, err := w.Auth.AddAdminToken(t.Context(), w.B.Org.ID, "network")
	if err != nil {
		t.Fatal(err)
	}
	admGiveSeries(t, w)
	// A's event has a session "ws", for the routes of a session (:key).
	start := w.A.Event.StartsAt
	if _, err := w.Events.Update(t.Context(), w.A.Org.ID, w.A.Event.Slug, event.Input{Sessions: &[]event.SessionInput{
		{Key: "ws", Title: event.Texts{"de": "Workshop"}, StartsAt: &start, EndsAt: &start}}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range admAPIRoutes {
		pathA := admPath(r.path, "a", w.A)
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			call := func(path, tok string) int {
				code, _ := admAPI(t, w.URL, r.method, path, tok, r.contentType, r.body)
				return code
			}
			if code := call(pathA, ""); code != http.StatusUnauthorized {
				t.Errorf("no token: %d, want 401", code)
			}
			if code := call(pathA, "tp_"+strings.Repeat("A", 52)); code != http.StatusUnauthorized {
				t.Errorf("unknown token: %d, want 401", code)
			}
			for name, tok := range map[string]string{"owner token of B": w.B.OwnerTok, "organiser token of B": w.B.OrganiserTok} {
				if code := call(pathA, tok); code != http.StatusNotFound {
					t.Errorf("%s on A: %d, want 404", name, code)
				}
				// On an owners' route B's organiser is refused by role first.
				if hasNested(r.path) && (r.role != "owner" || tok != w.B.OrganiserTok) {
					if code := call(admPath(r.path, "b", w.A), tok); code != http.StatusNotFound {
						t.Errorf("%s on A's event under B: %d, want 404", name, code)
					}
				}
			}
			if code := call(pathA, w.A.DoorTok); code != http.StatusForbidden {
				t.Errorf("door token of A: %d, want 403", code)
			}
			if !r.destructive {
				if code := call(pathA, adminTok); code == 401 || code == 403 || code == 404 || code >= 500 {
					t.Errorf("network-admin token: %d", code)
				}
			}
			allowed := w.A.OrganiserTok
			if r.role == "owner" {
				if code := call(pathA, w.A.OrganiserTok); code != http.StatusForbidden {
					t.Errorf("organiser token of A on an owners' route: %d, want 403", code)
				}
				allowed = w.A.OwnerTok
			}
			if code := call(pathA, allowed); code == 401 || code == 403 || code == 404 || code >= 500 {
				t.Errorf("%s token of A: %d", r.role, code)
			}
		})
	}
	// A revoked token is refused at once.
	if err := w.Auth.RevokeToken(t.Context(), &auth.Principal{}, w.A.Org.ID, w.A.TokenID); err != nil {
		t.Fatal(err)
	}
	if code, _ := admAPI(t, w.URL, "GET", "/api/v1/orgs/a/events", w.A.DoorTok, "", ""); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", code)
	}
}
