package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/text"
)

// Invite gives the person at email a role in the organisation. A new
// address gets an account without a password and a one-time link to set
// one (valid InviteTTL); an account that has a password is told by email
// that it has a new role. Inviting someone again changes their role (and
// sends a fresh link while they have not set a password yet).
func (s *Service) Invite(ctx context.Context, orgID int64, email, role, lang string) error {
	addr, p := text.Email(email)
	f := apperr.Fields{}
	if p != "" {
		f.Add("email", p)
	}
	if !ValidRole(role) {
		f.Add("role", "err.choice")
	}
	if err := f.Err(); err != nil {
		return err
	}
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockStaff(ctx, tx, orgID); err != nil {
			return err
		}
		var orgName string
		if err := tx.GetContext(ctx, &orgName, `SELECT name FROM organisations WHERE id = $1`, orgID); err != nil {
			return fmt.Errorf("read organisation: %w", err)
		}
		userID, passwordSet, err := findOrCreateInvitee(ctx, tx, addr, s.cost())
		if err != nil {
			return err
		}
		if err := setRole(ctx, tx, orgID, userID, role); err != nil {
			return err
		}
		m := StaffMail{Kind: MailStaffAdded, To: addr, Lang: lang, URL: s.baseURL + "/login", OrgName: orgName, Role: role}
		if !passwordSet {
			if _, err := tx.ExecContext(ctx, `DELETE FROM password_tokens WHERE user_id = $1 AND purpose = 'invite'`, userID); err != nil {
				return fmt.Errorf("drop old invitations: %w", err)
			}
			tok, expires, err := insertLink(ctx, tx, userID, PurposeInvite, InviteTTL)
			if err != nil {
				return err
			}
			m.Kind, m.URL, m.Expires = MailStaffInvite, s.linkURL(tok), expires
		}
		return s.sendStaffMail(ctx, tx, m)
	})
	return apperr.Wrap(err, "invite staff")
}

// findOrCreateInvitee returns the account of addr, creating one whose
// password hash matches no password (a hash of random bytes, so that a
// login attempt takes as long as for any account).
func findOrCreateInvitee(ctx context.Context, tx *sqlx.Tx, addr string, cost int) (int64, bool, error) {
	var u struct {
		ID          int64 `db:"id"`
		PasswordSet bool  `db:"password_set"`
	}
	err := tx.GetContext(ctx, &u, `SELECT id, password_set FROM staff_users WHERE lower(email) = lower($1) FOR UPDATE`, addr)
	if err == nil {
		return u.ID, u.PasswordSet, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("find account: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		return 0, false, fmt.Errorf("hash: %w", err)
	}
	err = tx.GetContext(ctx, &u.ID, `
INSERT INTO staff_users (email, password_hash, password_set) VALUES ($1, $2, false) RETURNING id`, addr, string(hash))
	if err != nil {
		return 0, false, fmt.Errorf("create account: %w", err)
	}
	return u.ID, false, nil
}

// setRole gives userID role in the organisation, refusing to demote the
// last owner. The caller holds lockStaff.
func setRole(ctx context.Context, tx *sqlx.Tx, orgID, userID int64, role string) error {
	var old string
	err := tx.GetContext(ctx, &old, `SELECT role FROM staff_roles WHERE org_id = $1 AND user_id = $2`, orgID, userID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read role: %w", err)
	}
	if old == Owner && role != Owner {
		if err := keepAnOwner(ctx, tx, orgID, userID); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO staff_roles (user_id, org_id, role) VALUES ($1, $2, $3)
ON CONFLICT (user_id, org_id) DO UPDATE SET role = EXCLUDED.role`, userID, orgID, role)
	if err != nil {
		return fmt.Errorf("save role: %w", err)
	}
	return nil
}

// SetRole changes the role of someone who already is staff of the
// organisation.
func (s *Service) SetRole(ctx context.Context, orgID, userID int64, role string) error {
	return apperr.Wrap(database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockStaff(ctx, tx, orgID); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM staff_roles WHERE org_id = $1 AND user_id = $2`, orgID, userID); err != nil {
			return fmt.Errorf("find role: %w", err)
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "err.staff_not_found")
		}
		if !ValidRole(role) {
			return apperr.Field("role", "err.choice")
		}
		return setRole(ctx, tx, orgID, userID, role)
	}), "set role")
}
