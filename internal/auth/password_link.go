package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/text"
)

// How long one-time password links live. A reset is asked for by the person
// who is about to use it; an invitation may wait in an inbox over a weekend.
const (
	ResetTTL  = time.Hour
	InviteTTL = 7 * 24 * time.Hour
)

// Purposes of a password link.
const (
	PurposeReset  = "reset"
	PurposeInvite = "invite"
)

// PasswordLink is what a valid one-time link stands for.
type PasswordLink struct {
	UserID  int64     `db:"user_id"`
	Email   string    `db:"email"`
	Purpose string    `db:"purpose"`
	Expires time.Time `db:"expires_at"`
}

// newLinkToken returns a token of 260 random bits and its stored hash.
func newLinkToken() (string, []byte) {
	tok := rand.Text() + rand.Text()
	return tok, secret.Hash(tok)
}

func (s *Service) linkURL(tok string) string { return s.baseURL + "/login/reset/" + tok }

// checkNewPassword applies the password rules to field "password".
func checkNewPassword(f apperr.Fields, password string) {
	switch {
	case len(password) < 10:
		f.Add("password", "err.password_short")
	case len(password) > 72: // bcrypt ignores what follows
		f.Add("password", "err.password_long")
	case text.Problem(password, 72) != "":
		f.Add("password", "err.text.control")
	}
}

// RequestReset asks for a one-time link for a new password to email, sent
// when an account has that address. An unknown address gets the same
// answer (nil) after the same work: the request is written to
// password_reset_requests for every well-formed address, and the service's
// worker (ProcessResets) does what only a known account causes — the link,
// the mail — after the answer. Only the newest reset link of an account is
// valid.
func (s *Service) RequestReset(ctx context.Context, email, lang string) error {
	addr, p := text.Email(email)
	if p != "" {
		return apperr.Field("email", p)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO password_reset_requests (email, lang) VALUES ($1, $2)`, addr, lang); err != nil {
		return apperr.Wrap(err, "request password reset")
	}
	s.resetOnce.Do(func() {
		s.resetKick = make(chan struct{}, 1)
		go s.resetWorker()
	})
	select {
	case s.resetKick <- struct{}{}:
	default: // the worker is already due to look
	}
	return nil
}

// resetWorker works through the waiting requests whenever RequestReset
// wrote one. It lives as long as the process; requests left by a crash or
// a failure are picked up by the next request or by ProcessResets in the
// sweeper (cmd).
func (s *Service) resetWorker() {
	for range s.resetKick {
		if err := s.ProcessResets(context.Background()); err != nil && s.log != nil {
			s.log.Error("password reset requests", "error", err.Error())
		}
	}
}

// ProcessResets does the work of the waiting password-reset requests, one
// transaction each, until none is due. Several instances may run it at once.
func (s *Service) ProcessResets(ctx context.Context) error {
	for {
		id, err := s.processReset(ctx)
		if err != nil {
			if id != 0 {
				// Try it again later, behind the others.
				_, _ = s.db.ExecContext(ctx, `UPDATE password_reset_requests SET not_before = now() + interval '1 minute' WHERE id = $1`, id)
			}
			return err
		}
		if id == 0 {
			return nil
		}
	}
}

// processReset takes the oldest due request and, for a known account,
// replaces its reset link and writes the mail to the outbox; the request is
// gone when the transaction commits. It returns the request's id (0 when
// none was due).
func (s *Service) processReset(ctx context.Context) (int64, error) {
	var id int64
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var r struct {
			ID    int64  `db:"id"`
			Email string `db:"email"`
			Lang  string `db:"lang"`
		}
		err := tx.GetContext(ctx, &r, `
DELETE FROM password_reset_requests WHERE id = (
  SELECT id FROM password_reset_requests WHERE not_before <= now()
  ORDER BY not_before, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, email, lang`)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("take reset request: %w", err)
		}
		id = r.ID
		var u struct {
			ID    int64  `db:"id"`
			Email string `db:"email"`
		}
		err = tx.GetContext(ctx, &u, `SELECT id, email FROM staff_users WHERE lower(email) = lower($1) FOR UPDATE`, r.Email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_tokens WHERE user_id = $1 AND purpose = 'reset'`, u.ID); err != nil {
			return fmt.Errorf("drop old reset links: %w", err)
		}
		tok, expires, err := insertLink(ctx, tx, u.ID, PurposeReset, ResetTTL)
		if err != nil {
			return err
		}
		return s.sendStaffMail(ctx, tx, StaffMail{Kind: MailPasswordReset, To: u.Email, Lang: r.Lang, URL: s.linkURL(tok), Expires: expires})
	})
	return id, apperr.Wrap(err, "password reset request")
}

func insertLink(ctx context.Context, tx *sqlx.Tx, userID int64, purpose string, ttl time.Duration) (string, time.Time, error) {
	tok, hash := newLinkToken()
	var expires time.Time
	err := tx.GetContext(ctx, &expires, `
INSERT INTO password_tokens (token_hash, user_id, purpose, expires_at)
VALUES ($1, $2, $3, now() + $4 * interval '1 second')
RETURNING expires_at`, hash, userID, purpose, ttl.Seconds())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("save password link: %w", err)
	}
	return tok, expires, nil
}

func linkInvalid() error { return apperr.New(apperr.NotFound, "err.password_link_invalid") }

// CheckPasswordLink returns what a link stands for while it is unused and
// not expired.
func (s *Service) CheckPasswordLink(ctx context.Context, tok string) (*PasswordLink, error) {
	if !plausibleLink(tok) {
		return nil, linkInvalid()
	}
	var l PasswordLink
	err := s.db.GetContext(ctx, &l, `
SELECT t.user_id, u.email, t.purpose, t.expires_at
FROM password_tokens t JOIN staff_users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()`, secret.Hash(tok))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, linkInvalid()
	}
	if err != nil {
		return nil, apperr.Wrap(err, "check password link")
	}
	return &l, nil
}

func plausibleLink(tok string) bool {
	return len(tok) >= 26 && len(tok) <= 100 && strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

// SetPasswordWithLink sets the password of the link's account and uses the
// link up. Every other link of the account dies, and so does every session
// (the session version rises), because whoever asked for a reset may have
// lost control of one.
func (s *Service) SetPasswordWithLink(ctx context.Context, tok, password string) error {
	f := apperr.Fields{}
	checkNewPassword(f, password)
	if err := f.Err(); err != nil {
		return err
	}
	if !plausibleLink(tok) {
		return linkInvalid()
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost())
	if err != nil {
		return apperr.Wrap(err, "hash password")
	}
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var userID int64
		err := tx.GetContext(ctx, &userID, `
UPDATE password_tokens SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING user_id`, secret.Hash(tok))
		if errors.Is(err, sql.ErrNoRows) {
			return linkInvalid()
		}
		if err != nil {
			return fmt.Errorf("use password link: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE staff_users SET password_hash = $2, password_set = true, session_version = session_version + 1
WHERE id = $1`, userID, string(hash)); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_tokens WHERE user_id = $1 AND token_hash <> $2`, userID, secret.Hash(tok)); err != nil {
			return fmt.Errorf("drop other links: %w", err)
		}
		return nil
	})
	return apperr.Wrap(err, "set password")
}

// DeleteExpired removes expired sessions and password links that expired a
// day ago or more; the session store's own sweeper is off (cmd runs this).
func (s *Service) DeleteExpired(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < now()`); err != nil {
		return apperr.Wrap(err, "delete expired sessions")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM password_tokens WHERE expires_at < now() - interval '1 day'`); err != nil {
		return apperr.Wrap(err, "delete expired password links")
	}
	// A reset request that failed for a day is of no use any more: whoever
	// asked has asked again or given up.
	_, err := s.db.ExecContext(ctx, `DELETE FROM password_reset_requests WHERE created_at < now() - interval '1 day'`)
	return apperr.Wrap(err, "delete stale reset requests")
}
