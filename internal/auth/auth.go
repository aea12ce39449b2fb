// Package auth holds staff accounts, their roles per organisation, and the
// API tokens that scripts and scanners use.
package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/cache"
	"treffpunkt/internal/database"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/text"
)

// Roles, from most to least powerful.
const (
	Owner     = "owner"
	Organiser = "organiser"
	Door      = "door"
)

var rank = map[string]int{Owner: 3, Organiser: 2, Door: 1}

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool { return rank[r] > 0 }

// Principal is who is calling: a staff session or an API token, acting for
// one organisation with one role.
type Principal struct {
	OrgID   int64  `db:"org_id"`
	OrgSlug string `db:"org_slug"`
	OrgName string `db:"org_name"`
	Role    string `db:"role"`
	TokenID int64  `db:"token_id"`
	// UserID is the staff account of a session (0 for a token).
	UserID int64 `db:"user_id"`
	// Admin marks a network admin (account or token): it acts as owner of
	// every organisation.
	Admin bool `db:"is_admin"`
}

// Can reports whether the principal's role reaches at least role.
func (p *Principal) Can(role string) bool { return p != nil && rank[p.Role] >= rank[role] }

// Service manages staff and tokens.
type Service struct {
	db *sqlx.DB
	// baseURL starts the one-time links of password resets and invitations.
	baseURL string
	// mailer sends those links; nil logs that a mail could not be sent (never
	// the link). See staff_mail.go.
	mailer StaffMailer
	log    *slog.Logger
	// passwordCost is bcrypt's cost, 0 for bcrypt.DefaultCost. Tests lower
	// it: under the race detector one hash at the default cost takes a
	// second.
	passwordCost int
	// changes, when set, lets the service keep the tokens it has checked
	// in memory until they change (internal/cache); nil checks every call
	// against the database.
	changes *cache.Watcher

	dummyOnce sync.Once
	dummy     []byte

	// resetKick wakes the worker of password-reset requests
	// (password_link.go), started with the first request.
	resetOnce sync.Once
	resetKick chan struct{}

	tokenMu    sync.Mutex
	tokenStmt  *sqlx.Stmt
	tokenCache *cache.Cache[string, Principal]
}

// Options are what a Service is built from (New).
type Options struct {
	DB *sqlx.DB
	// BaseURL (BASE_URL) starts the one-time links.
	BaseURL string
	// Mailer sends staff emails; nil logs that one could not be sent.
	Mailer StaffMailer
	Log    *slog.Logger
	// PasswordCost is bcrypt's cost, 0 for the default (tests lower it).
	PasswordCost int
	// Changes keeps checked tokens in memory until they change; nil checks
	// every call against the database.
	Changes *cache.Watcher
}

// New builds the staff accounts' service.
func New(o Options) *Service {
	return &Service{db: o.DB, baseURL: o.BaseURL, mailer: o.Mailer, log: o.Log, passwordCost: o.PasswordCost, changes: o.Changes}
}

func (s *Service) cost() int {
	if s.passwordCost == 0 {
		return bcrypt.DefaultCost
	}
	return s.passwordCost
}

// dummyHash is compared against when an account does not exist, so that
// timing tells nothing; it has the cost real hashes have.
func (s *Service) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user"), s.cost())
	})
	return s.dummy
}

// tokenPrefix marks Treffpunkt tokens so that secret scanners can find leaks.
const tokenPrefix = "tp_"

// AddUser creates a staff account (or updates its password) and gives it a
// role in the organisation orgID; admin makes it a network admin.
func (s *Service) AddUser(ctx context.Context, email, password string, orgID int64, role string, admin bool) error {
	email, p := text.Email(email)
	f := apperr.Fields{}
	if p != "" {
		f.Add("email", p)
	}
	if len(password) < 10 {
		f.Add("password", "err.password_short")
	}
	if len(password) > 72 {
		f.Add("password", "err.password_long")
	}
	if !ValidRole(role) {
		f.Add("role", "err.choice")
	}
	if err := f.Err(); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost())
	if err != nil {
		return apperr.Wrap(err, "hash password")
	}
	return apperr.Wrap(database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var userID int64
		err := tx.GetContext(ctx, &userID, `
INSERT INTO staff_users (email, password_hash, is_admin) VALUES ($1, $2, $3)
ON CONFLICT (lower(email)) DO UPDATE
SET password_hash = EXCLUDED.password_hash, is_admin = staff_users.is_admin OR EXCLUDED.is_admin,
    password_set = true, session_version = staff_users.session_version + 1
RETURNING id`, email, string(hash), admin)
		if err != nil {
			return fmt.Errorf("save user: %w", err)
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO staff_roles (user_id, org_id, role) VALUES ($1, $2, $3)
ON CONFLICT (user_id, org_id) DO UPDATE SET role = EXCLUDED.role`, userID, orgID, role)
		if err != nil {
			return fmt.Errorf("save role: %w", err)
		}
		return nil
	}), "add user")
}

// CheckPassword returns the user's id when email and password match.
func (s *Service) CheckPassword(ctx context.Context, email, password string) (int64, error) {
	var u struct {
		ID   int64  `db:"id"`
		Hash string `db:"password_hash"`
	}
	// Accounts are stored as text.Email returns them (punycode domain):
	// look up what was typed in that form, so that an internationalised
	// domain signs in however it is typed.
	email = strings.TrimSpace(email)
	if addr, p := text.Email(email); p == "" {
		email = addr
	}
	err := s.db.GetContext(ctx, &u, `SELECT id, password_hash FROM staff_users WHERE lower(email) = lower($1)`, email)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check so that timing tells nothing.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return 0, apperr.New(apperr.Unauthorized, "err.login")
	}
	if err != nil {
		return 0, apperr.Wrap(err, "check password")
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) != nil {
		return 0, apperr.New(apperr.Unauthorized, "err.login")
	}
	return u.ID, nil
}

// AddToken creates an API token for an organisation and returns it; only its
// hash is stored, so this is the one time it can be seen.
func (s *Service) AddToken(ctx context.Context, orgID int64, role, name string) (string, error) {
	if role != Organiser && role != Door && role != Owner {
		return "", apperr.Field("role", "err.choice")
	}
	if p := text.Problem(name, 100); p != "" {
		return "", apperr.Field("name", p, "Max", 100)
	}
	tok := tokenPrefix + rand.Text() + rand.Text()
	_, err := s.db.ExecContext(ctx, `
INSERT INTO api_tokens (org_id, role, name, token_hash) VALUES ($1, $2, $3, $4)`,
		orgID, role, name, secret.Hash(tok))
	if err != nil {
		return "", apperr.Wrap(err, "add token")
	}
	return tok, nil
}

// tokenSQL finds a live token. last_used_at is refreshed at most once a
// minute, and only when the token is not in the cache (so it is at most a
// few minutes old): a scanner or script calling many times a second must
// not cost a commit per call.
const tokenSQL = `
WITH t AS (
    SELECT t.id, t.org_id, o.slug, o.name, t.role, t.is_admin, t.last_used_at
    FROM api_tokens t JOIN organisations o ON o.id = t.org_id
    WHERE t.token_hash = $1 AND t.revoked_at IS NULL
), touched AS (
    UPDATE api_tokens SET last_used_at = now()
    WHERE id IN (SELECT id FROM t WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
)
SELECT org_id, slug AS org_slug, name AS org_name, role, id AS token_id, is_admin FROM t`

// tokenQuery prepares tokenSQL once (planned once per connection instead of
// per call: API tokens authenticate every request, e.g. every door scan)
// and sets up the token cache, keyed by the token's hash.
func (s *Service) tokenQuery(ctx context.Context) (*sqlx.Stmt, *cache.Cache[string, Principal], error) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	if s.tokenStmt == nil {
		st, err := s.db.PreparexContext(context.WithoutCancel(ctx), tokenSQL)
		if err != nil {
			return nil, nil, apperr.Wrap(err, "prepare token check")
		}
		s.tokenStmt = st
		s.tokenCache = cache.New[string, Principal](s.changes, "api_tokens", 10_000, tokenTTL, "api_tokens", "organisations")
	}
	return s.tokenStmt, s.tokenCache, nil
}

// Authenticate returns the principal of a bearer token. The lookup is by the
// token's SHA-256, so no comparison of secrets happens in Go.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return nil, apperr.New(apperr.Unauthorized, "err.token")
	}
	stmt, tokens, err := s.tokenQuery(ctx)
	if err != nil {
		return nil, err
	}
	hash := secret.Hash(token)
	if p, ok := tokens.Get(string(hash)); ok {
		return &p, nil
	}
	gen := tokens.Gen()
	var p Principal
	err = stmt.GetContext(ctx, &p, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Unauthorized, "err.token")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "authenticate")
	}
	tokens.Add(gen, string(hash), p)
	return &p, nil
}

// tokenTTL bounds how long a checked token is believed without asking the
// database; a change (revocation, a new role) ends it at once.
const tokenTTL = time.Minute
