package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// The door page's walk-in form (CSRF like every form): a party let in is
// registered, checked in and marked in the attendee list; a bad field is
// re-rendered with its message and writes nothing; a full hall says so.
func TestDoorPageWalkInForm(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	ev := a.Event(t, o, "fest", func(in *event.Input) {
		in.Capacity = event.Some(2)
		two := 2
		in.MaxPartySize = &two
	})
	a.Registrations.SetClock(func() time.Time { return ev.StartsAt.Add(time.Hour) })
	b := a.LoggedIn(t, a.Staff(t, o, "door@miso.example", auth.Door, false))
	const page = "/checkin/events/fest"
	code, body := b.Get(page)
	if code != http.StatusOK || !strings.Contains(body, `id="walkin-form"`) || !strings.Contains(body, `action="/checkin/events/fest/walkin"`) {
		t.Fatalf("door page %d without the walk-in form", code)
	}
	// Without the CSRF token: refused.
	if res, _ := b.PostRaw(page+"/walkin", url.Values{"name": {"Ayşe"}, "party_size": {"1"}}); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
		t.Fatalf("without token: %d", res.StatusCode)
	}
	res, body := b.Post(page, page+"/walkin", url.Values{"name": {""}, "party_size": {"0"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-walkin-name"`) || !strings.Contains(body, `id="e-walkin-party"`) {
		t.Fatalf("bad fields: %d\n%.2000s", res.StatusCode, body)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
		t.Fatalf("a refused form wrote %d registrations", n)
	}
	res, _ = b.Post(page, page+"/walkin", url.Values{"name": {"Ayşe Yılmaz"}, "party_size": {"2"}, "lang": {"tr"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("walk-in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := b.Get(page); !strings.Contains(body, `id="walkin-done"`) {
		t.Fatal("no confirmation after the walk-in")
	}
	if n := a.Count(t, `SELECT count(*) FROM checkins c JOIN tickets t ON t.id = c.ticket_id JOIN registrations r ON r.id = t.registration_id WHERE r.walk_in AND r.lang = 'tr' AND r.status = 'confirmed'`); n != 2 {
		t.Fatalf("%d check-ins of the walk-in, want 2", n)
	}
	res, body = b.Post(page, page+"/walkin", url.Values{"name": {"Иван"}, "party_size": {"1"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, `id="walkin-problem"`) {
		t.Fatalf("full: %d", res.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_log a JOIN registrations r ON r.id = (a.details->>'registration_id')::bigint
WHERE a.action = 'walk_in.create' AND r.walk_in`); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
	org := a.LoggedIn(t, a.Staff(t, o, "organiser@miso.example", auth.Organiser, false))
	if _, body := org.Get("/admin/orgs/miso/events/fest/registrations"); !strings.Contains(body, `data-walk-in="true"`) {
		t.Fatal("the attendee list does not mark the walk-in")
	}
	if _, body := org.Get("/admin/orgs/miso/events/fest/registrations.csv"); !strings.Contains(body, ",walk_in") || !strings.Contains(body, ",yes") {
		t.Fatalf("the CSV does not mark the walk-in:\n%s", body)
	}
}

// statsWorld is an organisation with an event this year: three German
// sign-ups (a cell under 5) and seven Turkish ones, and an organiser's
// browser.
func statsWorld(t *testing.T) (*testapp.App, *testapp.Browser, int) {
	a := testapp.New(t)
	o := a.Org(t, "miso")
	ev := a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(50) })
	for i := range 10 {
		lang := "tr"
		if i < 3 {
			lang = "de"
		}
		if _, err := a.Registrations.SignUp(t.Context(), "fest", registration.SignupInput{
			Name: fmt.Sprintf("P %d", i), Email: fmt.Sprintf("p%d@example.org", i), PartySize: 1, Lang: lang, Consent: true}); err != nil {
			t.Fatal(err)
		}
	}
	return a, a.LoggedIn(t, a.Staff(t, o, "organiser@miso.example", auth.Organiser, false)), ev.StartsAt.In(ev.Location()).Year()
}

// The year at a glance: bar charts drawn as SVG on the server, each with a
// table for screen readers, "<5" for small cells, laid out right to left
// in Arabic and left to right in German; no chart script.
func TestStatsPageDrawsSVGChartsInGermanAndArabic(t *testing.T) {
	t.Parallel()
	_, b, year := statsWorld(t)
	for _, tc := range []struct{ lang, dir, labelAnchor string }{{"de", "ltr", "end"}, {"ar", "rtl", "start"}} {
		t.Run(tc.lang, func(t *testing.T) {
			code, body := b.Get(fmt.Sprintf("/admin/orgs/miso/stats?year=%d&lang=%s", year, tc.lang))
			if code != http.StatusOK {
				t.Fatalf("%d", code)
			}
			for _, want := range []string{
				`lang="` + tc.lang + `"`, `dir="` + tc.dir + `"`,
				`id="chart-months"`, `id="chart-langs"`, `<svg class="bars"`, `<div class="visually-hidden"><table>`,
				`text-anchor="` + tc.labelAnchor + `" font-size="12" font-weight="bold"`,
				`<td>&lt;5</td>`, `<td>7</td>`, `id="stats-csv"`, `data-event="fest"`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %s", want)
				}
			}
			if strings.Count(body, "<figure") != strings.Count(body, `<div class="visually-hidden"><table>`) {
				t.Error("a chart without its table")
			}
			if strings.Contains(body, "chart.js") || strings.Contains(body, "<canvas") {
				t.Error("a chart script")
			}
		})
	}
	if code, _ := b.Get("/admin/orgs/miso/stats?year=zwei"); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad year: %d", code)
	}
}

// The CSV has the page's figures, one per row, with "<5" for small cells.
func TestStatsCSVDownload(t *testing.T) {
	t.Parallel()
	a, b, year := statsWorld(t)
	res, err := b.Client.Get(fmt.Sprintf("%s/admin/orgs/miso/stats.csv?year=%d", a.URL, year))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), fmt.Sprintf(`attachment; filename="miso-figures-%d.csv"`, year)) {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimPrefix(strings.Join(rows[0], ","), "\uFEFF"); got != strings.Join(registration.StatsColumns, ",") {
		t.Fatalf("header %q", got)
	}
	for _, want := range [][]string{
		{"event", "fest", "miso", "Werkstatt fest", "", "registrations", "", "10"},
		{"event", "fest", "miso", "Werkstatt fest", "", "by_lang", "de", "<5"},
		{"total", "", "", "", "", "by_lang", "tr", "7"},
		{"total", "", "", "", "", "registrations", "", "10"},
	} {
		found := slices.ContainsFunc(rows, func(r []string) bool {
			return len(r) == 8 && r[0] == want[0] && r[1] == want[1] && r[5] == want[5] && r[6] == want[6] && r[7] == want[7] && (want[3] == "" || r[3] == want[3])
		})
		if !found {
			t.Errorf("no row %v", want)
		}
	}
	if code, _ := b.Get(fmt.Sprintf("/admin/orgs/miso/stats.csv?year=%d&sep=semicolon", year)); code != http.StatusOK {
		t.Fatalf("semicolon: %d", code)
	}
}

// The network's figures page (/admin/stats) is the organisations' page over
// every organisation's events, with the same numbers as GET /api/v1/stats
// (the total's registrations there, in its CSV here) and a table per
// session; the admin area links it for network admins only, and anyone
// else signed in is refused the page and its CSV.
func TestNetworkStatsPageIsForNetworkAdminsOnly(t *testing.T) {
	t.Parallel()
	a, organiser, year := statsWorld(t)
	faust := a.Org(t, "faust")
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	if start.Year() != year {
		start = time.Now().Add(time.Hour).Truncate(time.Hour)
	}
	end := start.Add(3 * time.Hour)
	a.Event(t, faust, "quiz", func(in *event.Input) {
		in.StartsAt, in.EndsAt = &start, &end
		in.Sessions = &[]event.SessionInput{{Key: "runde", Title: event.Texts{"de": "Erste Runde"}, StartsAt: &start, EndsAt: &end}}
	})
	for i := range 6 {
		if _, err := a.Registrations.SignUp(t.Context(), "quiz", registration.SignupInput{
			Name: fmt.Sprintf("Q %d", i), Email: fmt.Sprintf("q%d@example.org", i), PartySize: 1, Lang: "ar", Consent: true, Sessions: []string{"runde"}}); err != nil {
			t.Fatal(err)
		}
	}
	admin := a.LoggedIn(t, a.Staff(t, faust, "admin@network.example", auth.Owner, true))

	if _, home := admin.Get("/admin"); !strings.Contains(home, `id="nav-network-stats"`) || !strings.Contains(home, `href="/admin/stats"`) {
		t.Error("the admin area does not link the network's figures for a network admin")
	}
	if _, home := organiser.Get("/admin"); strings.Contains(home, `id="nav-network-stats"`) {
		t.Error("the admin area links the network's figures for an organiser")
	}
	for _, path := range []string{"/admin/stats", "/admin/stats.csv", fmt.Sprintf("/admin/stats?year=%d", year)} {
		if code, _ := organiser.Get(path); code != http.StatusForbidden {
			t.Errorf("organiser on %s: %d, want 403", path, code)
		}
	}

	code, page := admin.Get(fmt.Sprintf("/admin/stats?year=%d&lang=de", year))
	if code != http.StatusOK {
		t.Fatalf("network page: %d", code)
	}
	for _, want := range []string{
		"Zahlen des Netzwerks", `data-event="fest"`, `data-event="quiz"`, `<td dir="ltr">faust</td>`, `<td dir="ltr">miso</td>`,
		`id="stats-sessions"`, `data-session="runde"`, `id="chart-langs"`, fmt.Sprintf(`href="/admin/stats.csv?year=%d"`, year),
		`aria-current="page">Zahlen des Netzwerks`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("network page lacks %s", want)
		}
	}

	tok, err := a.Auth.AddAdminToken(t.Context(), faust.ID, "network")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/stats?from=%d-01-01&to=%d-12-31", a.URL, year, year), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var api struct {
		Total struct {
			Registrations int `json:"registrations"`
		} `json:"total"`
	}
	err = json.NewDecoder(res.Body).Decode(&api)
	res.Body.Close()
	if err != nil || api.Total.Registrations != 16 {
		t.Fatalf("API total %+v %v, want 16 registrations", api, err)
	}
	code, body := admin.Get(fmt.Sprintf("/admin/stats.csv?year=%d", year))
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != http.StatusOK || err != nil {
		t.Fatalf("network CSV: %d %v", code, err)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool {
		return len(r) == 8 && r[0] == "total" && r[5] == "registrations" && r[7] == fmt.Sprint(api.Total.Registrations)
	}) {
		t.Errorf("the network CSV's total differs from the API's %d", api.Total.Registrations)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool {
		return len(r) == 8 && r[1] == "quiz" && r[5] == "session_persons_confirmed" && r[6] == "runde" && r[7] == "6"
	}) {
		t.Error("the network CSV lacks the session's figures")
	}
}
