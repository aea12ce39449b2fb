package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// checkinPageRoutes lists every route of the door (docs/checkin.md) with
// who may use it: "public" files, or "door" (door role or higher in the
// event's organisation). A route under /checkin or /api/v1/checkin that is
// missing here fails TestEveryCheckinRouteIsInTheTable.
var checkinPageRoutes = []admRoute{
	{"GET", "/checkin/sw.js", "public", false},
	{"GET", "/checkin/manifest.webmanifest", "public", false},
	{"GET", "/checkin", "user", false},
	{"GET", "/checkin/events/:slug", "door", false},
	{"POST", "/checkin/events/:slug/scan", "door", false},
	{"POST", "/checkin/events/:slug/undo", "door", false},
	{"POST", "/checkin/events/:slug/decode", "door", false},
	{"GET", "/checkin/events/:slug/counts", "door", false},
	{"GET", "/checkin/events/:slug/search", "door", false},
	{"POST", "/checkin/events/:slug/walkin", "door", false},
	{"POST", "/t/:code/checkin", "door", false},
}

var checkinAPIRoutes = []admRoute{
	{"POST", "/api/v1/checkin", "door", false},
	{"POST", "/api/v1/checkin/undo", "door", false},
	{"POST", "/api/v1/checkin/decode", "door", false},
	{"GET", "/api/v1/checkin/counts", "door", false},
	{"GET", "/api/v1/checkin/search", "door", false},
	{"POST", "/api/v1/checkin/walkin", "door", false},
}

func TestEveryCheckinRouteIsInTheTable(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	h := w.Server.Config.Handler.(interface{ Routes() gin.RoutesInfo })
	want := map[string]bool{}
	for _, r := range append(append([]admRoute(nil), checkinPageRoutes...), checkinAPIRoutes...) {
		want[r.method+" "+r.path] = true
	}
	for _, r := range h.Routes() {
		if !strings.HasPrefix(r.Path, "/checkin") && !strings.HasPrefix(r.Path, "/api/v1/checkin") && !strings.HasSuffix(r.Path, "/checkin") {
			continue
		}
		if !want[r.Method+" "+r.Path] {
			t.Errorf("route %s %s has no row in the check-in table", r.Method, r.Path)
		}
		delete(want, r.Method+" "+r.Path)
	}
	for k := range want {
		t.Errorf("table row %s has no route", k)
	}
}

func checkinPath(pattern string, o admOrg) string {
	return strings.NewReplacer(":slug", o.Event.Slug, ":code", o.Confirmed.Tickets[0].Code).Replace(pattern)
}

// Route by route: no session goes to the login page; staff of B (any role)
// get a 404 on A's event; door staff of A, owners of A and a network admin
// get through. The API: no token 401, B's tokens 404, A's door token in.
func TestEveryCheckinRouteIsScopedToTheEventsOrganisation(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	anon := w.client("")
	outsiders := map[string]*admClient{"door of B": w.client(w.B.Door), "owner of B": w.client(w.B.Owner)}
	insiders := map[string]*admClient{"door of A": w.client(w.A.Door), "owner of A": w.client(w.A.Owner), "network admin": w.client(w.AdminEml)}
	for _, r := range checkinPageRoutes {
		p := checkinPath(r.path, w.A)
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			code, loc, _ := anon.do(r.method, p)
			if r.role == "public" {
				if code != http.StatusOK {
					t.Errorf("public file: %d", code)
				}
				return
			}
			if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("no session: %d %q, want a redirect to /login", code, loc)
			}
			if r.role == "door" {
				for name, c := range outsiders {
					if code, _, body := c.do(r.method, p); code != http.StatusNotFound {
						t.Errorf("%s on A: %d, want 404\n%.200s", name, code, body)
					}
				}
			}
			for name, c := range insiders {
				code, loc, body := c.do(r.method, p)
				if code == 401 || code == 403 || code == 404 || code >= 500 || strings.HasPrefix(loc, "/login") {
					t.Errorf("%s: %d %q\n%.300s", name, code, loc, body)
				}
			}
		})
	}
	for _, r := range checkinAPIRoutes {
		p := r.path + "?event=" + w.A.Event.Slug
		body := `{"event":"` + w.A.Event.Slug + `","code":"` + w.A.Confirmed.Tickets[0].Code + `"}`
		if strings.HasSuffix(r.path, "/walkin") {
			body = `{"event":"` + w.A.Event.Slug + `","name":"Gast","party_size":1}`
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			if code, _ := admAPI(t, w.URL, r.method, p, "", "application/json", body); code != http.StatusUnauthorized {
				t.Errorf("no token: %d, want 401", code)
			}
			for _, tok := range []string{w.B.DoorTok, w.B.OwnerTok} {
				if code, b := admAPI(t, w.URL, r.method, p, tok, "application/json", body); code != http.StatusNotFound {
					t.Errorf("token of B: %d, want 404: %s", code, b)
				}
			}
			if code, b := admAPI(t, w.URL, r.method, p, w.A.DoorTok, "application/json", body); code == 401 || code == 403 || code >= 500 || (code == 404 && !strings.HasSuffix(r.path, "/undo")) {
				t.Errorf("door token of A: %d %s", code, b)
			}
		})
	}
}

// The service worker is served under /checkin with a JavaScript type, so
// that its scope covers the door's pages; the manifest with its own type.
func TestCheckinAppFilesHaveTheirTypes(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	for path, want := range map[string]string{
		"/checkin/sw.js":                "text/javascript",
		"/checkin/manifest.webmanifest": "application/manifest+json",
		"/static/checkin/checkin.js":    "text/javascript",
		"/static/checkin/checkin.css":   "text/css",
	} {
		resp, err := http.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: %d %q, want %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
}

// The QR code opens /t/{code}; door staff of the event's organisation see a
// check-in button there, everybody else does not.
func TestTicketPageOffersCheckInToDoorStaff(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	w.Checkins.SetClock(func() time.Time { return w.A.Event.StartsAt.Add(time.Hour) })
	p := "/t/" + w.A.Confirmed.Tickets[0].Code
	for name, c := range map[string]*admClient{"anonymous": w.client(""), "door of B": w.client(w.B.Door)} {
		if _, body := c.Get(p); strings.Contains(body, `id="ticket-checkin"`) {
			t.Errorf("%s sees the check-in button", name)
		}
	}
	door := w.client(w.A.Door)
	if _, body := door.Get(p); !strings.Contains(body, `id="ticket-checkin"`) {
		t.Fatalf("door staff of A see no check-in button")
	}
	resp, _ := door.post(p+"/checkin", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("check in from the ticket page: %d", resp.StatusCode)
	}
	if _, body := door.Get(p); !strings.Contains(body, "Eingelassen") {
		t.Errorf("the ticket page does not say the ticket was checked in")
	}
	if n := w.Count(t, `SELECT count(*) FROM checkins`); n != 1 {
		t.Errorf("%d check-ins, want 1", n)
	}
}

// Door staff on a phone: sign in, open the door of today's event, type a
// code into the scanner field: green; the same code again: amber.
func TestBrowserDoorScanGreenThenAmber(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	ev := a.Event(t, o, "hirnschmalz-battle", func(in *event.Input) {
		in.Title = event.Texts{"de": "Hirnschmalz-Battle"}
		in.Capacity = event.Some(40)
	})
	code := a.Signed(t, ev.Slug, "Ayşe Yılmaz", 1).Tickets[0].Code
	a.Staff(t, o, "door@miso.example", auth.Door, false)
	a.Checkins.SetClock(func() time.Time { return ev.StartsAt.Add(time.Hour) })
	ctx := newBrowser(t)
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	must("sign in", chromedp.Do(ctx, append(signIn(a, "door@miso.example"),
		chromedp.Navigate(a.URL+"/checkin"),
		chromedp.WaitVisible(`#checkin-events`),
	)...))
	must("open the door", chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/checkin/events/"+ev.Slug),
		chromedp.WaitVisible(`#scan-form[data-ready] #f-code`),
	))
	scan := func(step, wantResult string) {
		t.Helper()
		must(step, chromedp.Do(ctx,
			chromedp.SendKeys(`#f-code`, code+"\r"),
			chromedp.WaitVisible(`#result.door-result[data-result="`+wantResult+`"]`),
		))
	}
	scan("first scan", "ok")
	name, err := chromedp.Run(ctx, chromedp.Text(`#result-name`))
	must("read the name", err)
	if !strings.Contains(name, "Ayşe Yılmaz") {
		t.Errorf("green result names %q", name)
	}
	cls, err := chromedp.Run(ctx, chromedp.AttributeValue(`#result`, "class"))
	must("read the colour", err)
	if !strings.Contains(cls.Value, "ok") {
		t.Errorf("first result has class %q, want ok (green)", cls.Value)
	}
	scan("second scan", "already_checked_in")
	cls, err = chromedp.Run(ctx, chromedp.AttributeValue(`#result`, "class"))
	must("read the colour", err)
	detail, err := chromedp.Run(ctx, chromedp.Text(`#result-detail`))
	must("read the detail", err)
	if !strings.Contains(cls.Value, "warn") || !strings.Contains(detail, "door@miso.example") {
		t.Errorf("second result: class %q, detail %q; want amber, by door@miso.example", cls.Value, detail)
	}
}
