package testapp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/org"
)

// StaffPassword is the password of the accounts Staff creates.
const StaffPassword = "correct horse battery"

// StaffMailRecorder stands in for the outbox of staff emails (password
// links and invitations) and keeps them for the test to read.
type StaffMailRecorder struct {
	mu    sync.Mutex
	mails []auth.StaffMail
	// db, when set, is where password-reset requests wait for the auth
	// service's worker; Mails waits until they are done.
	db *sqlx.DB
}

// EnqueueStaff implements auth.StaffMailer.
func (r *StaffMailRecorder) EnqueueStaff(_ context.Context, _ *sqlx.Tx, m auth.StaffMail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mails = append(r.mails, m)
	return nil
}

// Mails returns the recorded emails, oldest first.
func (r *StaffMailRecorder) Mails() []auth.StaffMail {
	r.settle()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]auth.StaffMail(nil), r.mails...)
}

// Last returns the newest email of kind to the address, failing the test
// when there is none.
func (r *StaffMailRecorder) Last(t testing.TB, kind, to string) auth.StaffMail {
	t.Helper()
	ms := r.Mails()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind == kind && strings.EqualFold(ms[i].To, to) {
			return ms[i]
		}
	}
	t.Fatalf("no %s mail to %s among %d", kind, to, len(ms))
	return auth.StaffMail{}
}

// Staff creates the account email (password StaffPassword) with role in o
// and returns the email; admin makes it a network admin.
func (a *App) Staff(t testing.TB, o *org.Org, email, role string, admin bool) string {
	t.Helper()
	if err := a.Auth.AddUser(context.Background(), email, StaffPassword, o.ID, role, admin); err != nil {
		t.Fatalf("staff %s: %v", email, err)
	}
	return email
}

// Login signs the browser in through the login form and fails the test
// unless it lands in the organisers' area (or, door-only staff, at the door).
func (b *Browser) Login(email, password string) {
	b.t.Helper()
	resp, body := b.Post("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin") && resp.Header.Get("Location") != "/checkin" {
		b.t.Fatalf("login %s: status %d, location %q\n%.500s", email, resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// LoggedIn returns a browser signed in as email (password StaffPassword).
func (a *App) LoggedIn(t testing.TB, email string) *Browser {
	t.Helper()
	b := a.Browser(t)
	b.Login(email, StaffPassword)
	return b
}

// settle waits (up to 10 s) until no password-reset request waits: the
// auth service writes their mails after answering.
func (r *StaffMailRecorder) settle() {
	if r.db == nil {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		var n int
		if err := r.db.Get(&n, `SELECT count(*) FROM password_reset_requests`); err != nil || n == 0 {
			return
		}
	}
}
