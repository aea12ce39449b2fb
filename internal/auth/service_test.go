package auth_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/cache"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testdb"
	"treffpunkt/internal/testutil"
)

// mails records the staff mails a service sends.
type mails struct {
	mu   sync.Mutex
	sent []auth.StaffMail
}

func (m *mails) EnqueueStaff(_ context.Context, _ *sqlx.Tx, sm auth.StaffMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sm)
	return nil
}

func (m *mails) last(t *testing.T) auth.StaffMail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no staff mail sent")
	}
	return m.sent[len(m.sent)-1]
}

func (m *mails) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// dbs keeps the database of each service setup made, for the queries that
// look behind the service.
var dbs sync.Map

func dbOf(s *auth.Service) *sqlx.DB {
	db, _ := dbs.Load(s)
	return db.(*sqlx.DB)
}

// setup gives a service on a fresh database, its mail recorder and two
// organisations.
// worked waits until the auth service's worker has taken every queued
// reset request: it deletes a request in the transaction that makes its
// link and mail, so an empty queue means the mail is recorded.
func worked(t *testing.T, s *auth.Service) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() bool {
		var n int
		return dbOf(s).Get(&n, `SELECT count(*) FROM password_reset_requests`) == nil && n == 0
	}, "the reset requests to be worked")
}

func setup(t *testing.T) (*auth.Service, *mails, int64, int64) {
	t.Helper()
	db := testdb.New(t)
	m := &mails{}
	s := auth.New(auth.Options{DB: db, BaseURL: "https://treffpunkt.example", Mailer: m, PasswordCost: bcrypt.MinCost})
	dbs.Store(s, db)
	orgs := org.New(db)
	var ids []int64
	for _, slug := range []string{"kulturverein", "sportverein"} {
		o, err := orgs.Create(context.Background(), org.Org{Slug: slug, Name: "Org " + slug, Email: slug + "@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	return s, m, ids[0], ids[1]
}

const pw = "richtig-langes-passwort"

func TestLoginSucceedsWithTheRightPasswordInAnyLetterCase(t *testing.T) {
	t.Parallel()
	s, _, orgID, _ := setup(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "Ana@Example.org", pw, orgID, auth.Organiser, false); err != nil {
		t.Fatal(err)
	}
	id, err := s.CheckPassword(ctx, " ana@example.ORG ", pw)
	if err != nil || id == 0 {
		t.Fatalf("login: id %d, %v", id, err)
	}
}

func TestLoginFailsAlikeForAWrongPasswordAndAnUnknownAccount(t *testing.T) {
	t.Parallel()
	s, _, orgID, _ := setup(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "ana@example.org", pw, orgID, auth.Organiser, false); err != nil {
		t.Fatal(err)
	}
	_, wrong := s.CheckPassword(ctx, "ana@example.org", pw+"x")
	_, unknown := s.CheckPassword(ctx, "bob@example.org", pw)
	for name, err := range map[string]error{"wrong password": wrong, "unknown account": unknown} {
		if ae := apperr.From(err); ae.Code != apperr.Unauthorized || ae.Msg.ID != "err.login" {
			t.Errorf("%s: %v, want unauthorized err.login", name, err)
		}
	}
}

func TestAddUserChecksAddressPasswordLengthAndRole(t *testing.T) {
	t.Parallel()
	s, _, orgID, _ := setup(t)
	ctx := context.Background()
	err := s.AddUser(ctx, "keine-adresse", "kurz", orgID, "chef", false)
	ae := apperr.From(err)
	if ae.Code != apperr.Invalid || ae.Fields["email"].ID == "" || ae.Fields["password"].ID != "err.password_short" || ae.Fields["role"].ID != "err.choice" {
		t.Fatalf("bad user: %v", err)
	}
	err = s.AddUser(ctx, "ana@example.org", strings.Repeat("x", 73), orgID, auth.Door, false)
	if f := apperr.From(err).Fields["password"].ID; f != "err.password_long" {
		t.Fatalf("73-byte password: %v, want err.password_long (bcrypt ignores the rest)", err)
	}
	if _, err := s.CheckPassword(ctx, "keine-adresse", "kurz"); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("a refused account exists: %v", err)
	}
}

func TestRolesRankOwnerOverOrganiserOverDoor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role string
		can  map[string]bool
	}{
		{auth.Owner, map[string]bool{auth.Owner: true, auth.Organiser: true, auth.Door: true}},
		{auth.Organiser, map[string]bool{auth.Owner: false, auth.Organiser: true, auth.Door: true}},
		{auth.Door, map[string]bool{auth.Owner: false, auth.Organiser: false, auth.Door: true}},
		{"", map[string]bool{auth.Owner: false, auth.Organiser: false, auth.Door: false}},
	}
	for _, c := range cases {
		p := &auth.Principal{Role: c.role}
		for role, want := range c.can {
			if got := p.Can(role); got != want {
				t.Errorf("%q can %q: %v, want %v", c.role, role, got, want)
			}
		}
	}
	var nobody *auth.Principal
	if nobody.Can(auth.Door) {
		t.Error("no principal can act")
	}
	if auth.ValidRole("admin") || !auth.ValidRole(auth.Door) {
		t.Error("ValidRole knows only owner, organiser, door")
	}
}

func TestAUserActsOnlyInOrganisationsWhereItHasARoleAndAnAdminInAll(t *testing.T) {
	t.Parallel()
	s, _, orgID, otherID := setup(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "door@example.org", pw, orgID, auth.Door, false); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "admin@example.org", pw, orgID, auth.Door, true); err != nil {
		t.Fatal(err)
	}
	user := func(email string) *auth.User {
		id, err := s.CheckPassword(ctx, email, pw)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	door, admin := user("door@example.org"), user("admin@example.org")
	p, err := s.PrincipalFor(ctx, door, "kulturverein")
	if err != nil || p.Role != auth.Door || p.OrgID != orgID || p.Can(auth.Organiser) {
		t.Fatalf("door in its organisation: %+v, %v", p, err)
	}
	for _, slug := range []string{"sportverein", "gibtsnicht"} {
		if _, err := s.PrincipalFor(ctx, door, slug); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("door in %s: %v, want not found (alike for foreign and missing)", slug, err)
		}
	}
	p, err = s.PrincipalFor(ctx, admin, "sportverein")
	if err != nil || p.Role != auth.Owner || p.OrgID != otherID || !p.Admin {
		t.Fatalf("admin elsewhere: %+v, %v; want owner", p, err)
	}
}

func TestTokenIsShownOnceStoredHashedAndChecksToItsRole(t *testing.T) {
	t.Parallel()
	s, _, orgID, _ := setup(t)
	ctx := context.Background()
	tok, err := s.AddToken(ctx, orgID, auth.Door, "Einlass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "tp_") || len(tok) < 40 {
		t.Fatalf("token %q: want tp_ and enough randomness", tok)
	}
	var plain, hashed int
	if err := dbOf(s).Get(&plain, `SELECT count(*) FROM api_tokens WHERE token_hash = convert_to($1::text, 'UTF8') OR name = $1`, tok); err != nil {
		t.Fatal(err)
	}
	if err := dbOf(s).Get(&hashed, `SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to($1::text, 'UTF8'))`, tok); err != nil {
		t.Fatal(err)
	}
	if plain != 0 || hashed != 1 {
		t.Fatalf("stored as the token itself %d times, as its SHA-256 %d times; want 0 and 1", plain, hashed)
	}
	p, err := s.Authenticate(ctx, tok)
	if err != nil || p.OrgID != orgID || p.Role != auth.Door || p.TokenID == 0 || p.Admin {
		t.Fatalf("authenticate: %+v, %v", p, err)
	}
	list, err := s.Tokens(ctx, &auth.Principal{OrgID: orgID, Role: auth.Owner}, orgID)
	if err != nil || len(list) != 1 || list[0].Name != "Einlass" || list[0].LastUsedAt == nil {
		t.Fatalf("tokens: %+v, %v; want one, used", list, err)
	}
}

func TestTokenCheckRefusesUnknownForeignAndMalformedTokens(t *testing.T) {
	t.Parallel()
	s, _, orgID, _ := setup(t)
	ctx := context.Background()
	tok, err := s.AddToken(ctx, orgID, auth.Organiser, "Skript")
	if err != nil {
		t.Fatal(err)
	}
	// The last character changed (to "B" when it is an "A" already).
	last := "A"
	if strings.HasSuffix(tok, "A") {
		last = "B"
	}
	for name, bad := range map[string]string{
		"changed":   tok[:len(tok)-1] + last,
		"no prefix": strings.TrimPrefix(tok, "tp_"),
		"too long":  tok + strings.Repeat("A", 100),
		"empty":     "",
	} {
		if _, err := s.Authenticate(ctx, bad); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("%s token: %v, want unauthorized", name, err)
		}
	}
	if _, err := s.AddToken(ctx, orgID, "admin", "x"); apperr.From(err).Fields["role"].ID != "err.choice" {
		t.Errorf("token with role admin: %v, want err.choice on role", err)
	}
}

func TestRevokedTokenIsRefusedAtOnceAndOnlyByItsOrganisation(t *testing.T) {
	t.Parallel()
	s, _, orgID, otherID := setup(t)
	ctx := context.Background()
	// With the cache on, as in serve: a revocation must not wait for it.
	db := dbOf(s)
	w := cache.NewWatcher(testdb.URLOf(t, db), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(w.Start())
	testutil.Eventually(t, 10*time.Second, w.Live, "the change listener to start")
	s = auth.New(auth.Options{DB: db, PasswordCost: bcrypt.MinCost, Changes: w})
	tok, err := s.AddToken(ctx, orgID, auth.Door, "Einlass")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, tok) // now cached
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, &auth.Principal{OrgID: otherID, Role: auth.Owner}, otherID, p.TokenID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revoking another organisation's token: %v, want not found", err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("a foreign revocation ended the token: %v", err)
	}
	if err := s.RevokeToken(ctx, &auth.Principal{OrgID: orgID, Role: auth.Owner}, orgID, p.TokenID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("revoked token: %v, want unauthorized", err)
	}
	if err := s.RevokeToken(ctx, &auth.Principal{OrgID: orgID, Role: auth.Owner}, orgID, p.TokenID); err != nil {
		t.Fatalf("revoking twice: %v, want harmless", err)
	}
}

func TestResetLinkWorksOnceAndEndsTheOldPasswordAndSessions(t *testing.T) {
	t.Parallel()
	s, m, orgID, _ := setup(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "ana@example.org", pw, orgID, auth.Organiser, false); err != nil {
		t.Fatal(err)
	}
	id, _ := s.CheckPassword(ctx, "ana@example.org", pw)
	before, _ := s.User(ctx, id)
	if err := s.RequestReset(ctx, "ANA@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	worked(t, s)
	mail := m.last(t)
	if mail.Kind != auth.MailPasswordReset || mail.To != "ana@example.org" || mail.Lang != "en" {
		t.Fatalf("mail %+v", mail)
	}
	tok, ok := strings.CutPrefix(mail.URL, "https://treffpunkt.example/login/reset/")
	if !ok {
		t.Fatalf("link %q", mail.URL)
	}
	if l, err := s.CheckPasswordLink(ctx, tok); err != nil || l.UserID != id || l.Purpose != auth.PurposeReset {
		t.Fatalf("check link: %+v, %v", l, err)
	}
	const newPW = "ein-ganz-neues-passwort"
	if err := s.SetPasswordWithLink(ctx, tok, newPW); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckPassword(ctx, "ana@example.org", pw); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("old password after reset: %v, want refused", err)
	}
	if _, err := s.CheckPassword(ctx, "ana@example.org", newPW); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if after, _ := s.User(ctx, id); after.SessionVersion <= before.SessionVersion {
		t.Fatalf("session version %d → %d: sessions survive a reset", before.SessionVersion, after.SessionVersion)
	}
	if err := s.SetPasswordWithLink(ctx, tok, "noch-ein-passwort!"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("link used twice: %v, want invalid", err)
	}
	if _, err := s.CheckPasswordLink(ctx, tok); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("used link still checks: %v", err)
	}
}

func TestOnlyTheNewestResetLinkIsValidAndUnknownAddressesGetNoMail(t *testing.T) {
	t.Parallel()
	s, m, orgID, _ := setup(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "ana@example.org", pw, orgID, auth.Organiser, false); err != nil {
		t.Fatal(err)
	}
	link := func() string {
		if err := s.RequestReset(ctx, "ana@example.org", "de"); err != nil {
			t.Fatal(err)
		}
		worked(t, s)
		return strings.TrimPrefix(m.last(t).URL, "https://treffpunkt.example/login/reset/")
	}
	first, second := link(), link()
	if _, err := s.CheckPasswordLink(ctx, first); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the older link: %v, want invalid", err)
	}
	if _, err := s.CheckPasswordLink(ctx, second); err != nil {
		t.Fatalf("the newest link: %v", err)
	}
	n := m.count()
	if err := s.RequestReset(ctx, "niemand@example.org", "de"); err != nil {
		t.Fatalf("unknown address: %v, want the same answer as a known one", err)
	}
	worked(t, s)
	if m.count() != n {
		t.Fatal("a mail went to an address without an account")
	}
	if err := s.SetPasswordWithLink(ctx, second, "kurz"); apperr.From(err).Fields["password"].ID != "err.password_short" {
		t.Fatalf("short password with a link: %v", err)
	}
	if _, err := s.CheckPasswordLink(ctx, second); err != nil {
		t.Fatalf("a refused password used the link up: %v", err)
	}
}
