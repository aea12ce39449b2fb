// Package testapp starts the real application for tests: real services on a
// fresh PostgreSQL database, the real router, served over real HTTP.
package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"treffpunkt/internal/app"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testdb"
	"treffpunkt/internal/testutil"
)

// App is one running instance: the app (internal/app) on a test database,
// served over real HTTP.
type App struct {
	*app.App
	DBURL  string
	URL    string // the test server's base URL
	Server *httptest.Server
	// StaffMail records the emails to staff (password links,
	// invitations).
	StaffMail *StaffMailRecorder
	// Logs is the app's log; CaptureLogs keeps it.
	Logs *Logs
}

// Option changes how the app is built, for the few tests that need it.
type Option func(*app.Options)

// StaffOutbox sends staff emails (password links, invitations) through the
// app's outbox, as treffpunkt serve does, rather than the StaffMail
// recorder: for tests of the mail itself.
func StaffOutbox(o *app.Options) { o.StaffMailer = nil }

// OnePerTx makes every sign-up a transaction of its own, the baseline of
// the benchmarks.
func OnePerTx(o *app.Options) { o.NoBatch = true }

// New starts an app on a fresh database.
func New(t testing.TB, opts ...Option) *App {
	db, dbURL := testdb.NewWithURL(t)
	a := OnDBWith(t, db, nil, opts...)
	a.DBURL = dbURL
	return a
}

// Second starts another instance of the app with its own connection pool
// on the same database.
func (a *App) Second(t testing.TB) *App {
	t.Helper()
	db, err := sqlx.Open("postgres", a.DBURL)
	if err != nil {
		t.Fatalf("second pool: %v", err)
	}
	db.SetMaxOpenConns(testdb.MaxOpenConns)
	db.SetMaxIdleConns(testdb.MaxOpenConns)
	t.Cleanup(func() { db.Close() })
	b := OnDB(t, db)
	b.DBURL = a.DBURL
	return b
}

// OnDB starts another app instance on an existing database (its own pool),
// as a second server behind a load balancer would be.
func OnDB(t testing.TB, db *sqlx.DB) *App {
	t.Helper()
	return OnDBWith(t, db, nil)
}

// OnDBWith is OnDB with a chance to change the configuration first, and
// options.
func OnDBWith(t testing.TB, db *sqlx.DB, configure func(*config.Config), opts ...Option) *App {
	t.Helper()
	a := &App{Logs: &Logs{}}
	srv := httptest.NewUnstartedServer(nil)
	a.URL = "http://" + srv.Listener.Addr().String()
	cfg := &config.Config{
		BaseURL: a.URL, ListenAddr: srv.Listener.Addr().String(), DefaultLang: "de",
		RetentionDays: 90, SignupRatePerIP: 0, MailFrom: "Treffpunkt <noreply@example.org>",
	}
	if configure != nil {
		configure(cfg)
	}
	cfg.DatabaseURL = testdb.URLOf(t, db)
	a.StaffMail = &StaffMailRecorder{db: db}
	// The app as treffpunkt serve builds it (internal/app), except that
	// staff emails are recorded and passwords hash fast.
	o := app.Options{
		Log:  slog.New(slog.NewJSONHandler(a.Logs, nil)),
		Mail: true, Watch: true,
		StaffMailer: a.StaffMail, PasswordCost: bcrypt.MinCost,
	}
	for _, opt := range opts {
		opt(&o)
	}
	built, err := app.New(cfg, db, o)
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	a.App = built
	// The instance's caches are kept fresh by a change listener of its
	// own, as in treffpunkt serve; the app is returned once it is on.
	t.Cleanup(a.Start())
	testutil.Eventually(t, 10*time.Second, a.Changes.Live, "testapp: the change listener to start")
	h, err := a.Handler()
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	a.Server = srv
	return a
}

// Org creates an organisation.
func (a *App) Org(t testing.TB, slug string) *org.Org {
	t.Helper()
	o, err := a.Orgs.Create(context.Background(), org.Org{Slug: slug, Name: strings.ToUpper(slug) + " e. V.", Email: "info@" + slug + ".example"})
	if err != nil {
		t.Fatalf("create org %s: %v", slug, err)
	}
	return o
}

// Event creates a published event of o starting in a week; change lets the
// test adjust the input first.
func (a *App) Event(t testing.TB, o *org.Org, slug string, change func(*event.Input)) *event.Event {
	t.Helper()
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	end := start.Add(3 * time.Hour)
	pub, kind := event.Published, "workshop"
	in := event.Input{
		Slug: &slug, Kind: &kind, Status: &pub,
		Title:       event.Texts{"de": "Werkstatt " + slug, "en": "Workshop " + slug},
		Description: event.Texts{"de": "Beschreibung.\n\nZweiter Absatz."},
		StartsAt:    &start, EndsAt: &end,
		Venue: &event.Venue{Name: "Kulturzentrum Faust", Street: "Zur Bettfedernfabrik 3", Postcode: "30451", City: "Hannover"},
	}
	if change != nil {
		change(&in)
	}
	e, err := a.Events.Create(context.Background(), o.ID, in)
	if err != nil {
		t.Fatalf("create event %s: %v", slug, err)
	}
	return e
}

// Token creates an API token for o with role.
func (a *App) Token(t testing.TB, o *org.Org, role string) string {
	t.Helper()
	tok, err := a.Auth.AddToken(context.Background(), o.ID, role, "test")
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok
}

// Count runs a count query.
func (a *App) Count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.GetContext(context.Background(), &n, query, args...); err != nil {
		t.Fatalf("count %q: %v", query, err)
	}
	return n
}

// JSON sends a JSON request (body may be nil) with an optional bearer token
// and decodes the answer into out when out is non-nil.
func (a *App) JSON(t testing.TB, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d, undecodable body %.200q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// Browser is an HTTP client with a cookie jar that behaves like a browser
// for forms: it sends Origin and does not follow redirects by itself.
type Browser struct {
	t      testing.TB
	base   string
	Client *http.Client
}

// Browser returns a new cookie-keeping client for the app.
func (a *App) Browser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, base: a.URL, Client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Get fetches a page and returns status and body.
func (b *Browser) Get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.Client.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// CSRF extracts the form token from a page.
func CSRF(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token in page")
	}
	return strings.ReplaceAll(m[1], "&#43;", "+")
}

// Post sends a form as a browser would after loading formPage (for the
// CSRF cookie and token), and returns the response (body read).
func (b *Browser) Post(formPage, action string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	_, page := b.Get(formPage)
	form.Set("csrf_token", CSRF(b.t, page))
	return b.PostRaw(action, form)
}

// PostRaw sends a form as is (with Origin), without fetching a token.
func (b *Browser) PostRaw(action string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", action, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// SettableClock makes the registration service's clock one the test sets:
// it shows the real time until set is called (retention, deadlines), and
// the time set from then on.
func (a *App) SettableClock() (set func(time.Time)) {
	var mu sync.Mutex
	var now time.Time
	a.Registrations.SetClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if now.IsZero() {
			return time.Now()
		}
		return now
	})
	return func(t time.Time) {
		mu.Lock()
		now = t
		mu.Unlock()
	}
}
