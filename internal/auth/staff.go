package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// User is a staff account as a session sees it.
type User struct {
	ID             int64  `db:"id"`
	Email          string `db:"email"`
	Admin          bool   `db:"is_admin"`
	SessionVersion int    `db:"session_version"`
}

// Membership is a user's role in one organisation.
type Membership struct {
	OrgID   int64  `db:"org_id"`
	OrgSlug string `db:"org_slug"`
	OrgName string `db:"org_name"`
	Role    string `db:"role"`
}

// StaffMember is one person with a role in an organisation.
type StaffMember struct {
	UserID      int64  `db:"user_id"`
	Email       string `db:"email"`
	Role        string `db:"role"`
	PasswordSet bool   `db:"password_set"`
}

// User loads a staff account; a missing one is NotFound.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT id, email, is_admin, session_version FROM staff_users WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.page_not_found")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "load user")
	}
	return &u, nil
}

// Memberships lists the organisations a user may work on, by name. A network
// admin is owner of every organisation.
func (s *Service) Memberships(ctx context.Context, u *User) ([]Membership, error) {
	var out []Membership
	err := s.db.SelectContext(ctx, &out, `
SELECT o.id AS org_id, o.slug AS org_slug, o.name AS org_name,
       CASE WHEN $2 THEN 'owner' ELSE r.role END AS role
FROM organisations o
LEFT JOIN staff_roles r ON r.org_id = o.id AND r.user_id = $1
WHERE $2 OR r.role IS NOT NULL
ORDER BY o.name`, u.ID, u.Admin)
	return out, apperr.Wrap(err, "list memberships")
}

// PrincipalFor is what u may do in the organisation orgSlug. An organisation
// where u has no role is NotFound, the same as one that does not exist, so
// that staff cannot probe which organisations exist.
func (s *Service) PrincipalFor(ctx context.Context, u *User, orgSlug string) (*Principal, error) {
	var p Principal
	err := s.db.GetContext(ctx, &p, `
SELECT o.id AS org_id, o.slug AS org_slug, o.name AS org_name, COALESCE(r.role, '') AS role
FROM organisations o
LEFT JOIN staff_roles r ON r.org_id = o.id AND r.user_id = $2
WHERE o.slug = $1`, orgSlug, u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.org_not_found")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "principal")
	}
	p.UserID, p.Admin = u.ID, u.Admin
	if u.Admin {
		p.Role = Owner
	}
	if p.Role == "" {
		return nil, apperr.New(apperr.NotFound, "err.org_not_found")
	}
	return &p, nil
}

// Staff lists the people with a role in the organisation, by email.
func (s *Service) Staff(ctx context.Context, orgID int64) ([]StaffMember, error) {
	var out []StaffMember
	err := s.db.SelectContext(ctx, &out, `
SELECT u.id AS user_id, u.email, r.role, u.password_set
FROM staff_roles r JOIN staff_users u ON u.id = r.user_id
WHERE r.org_id = $1
ORDER BY lower(u.email)`, orgID)
	return out, apperr.Wrap(err, "list staff")
}

// RemoveStaff takes a person's role in the organisation away. The account
// stays (it may have roles elsewhere). The last owner cannot be removed, so
// that an organisation always has someone who can manage its staff.
func (s *Service) RemoveStaff(ctx context.Context, orgID, userID int64) error {
	return apperr.Wrap(database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockStaff(ctx, tx, orgID); err != nil {
			return err
		}
		var role string
		err := tx.GetContext(ctx, &role, `SELECT role FROM staff_roles WHERE org_id = $1 AND user_id = $2`, orgID, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "err.staff_not_found")
		}
		if err != nil {
			return fmt.Errorf("read role: %w", err)
		}
		if role == Owner {
			if err := keepAnOwner(ctx, tx, orgID, userID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM staff_roles WHERE org_id = $1 AND user_id = $2`, orgID, userID)
		if err != nil {
			return fmt.Errorf("remove role: %w", err)
		}
		return nil
	}), "remove staff")
}

// lockStaff serialises changes of one organisation's staff, so that two
// owners removing each other at once cannot leave it without an owner.
func lockStaff(ctx context.Context, tx *sqlx.Tx, orgID int64) error {
	_, err := tx.ExecContext(ctx, `SELECT 1 FROM organisations WHERE id = $1 FOR NO KEY UPDATE`, orgID)
	if err != nil {
		return fmt.Errorf("lock organisation %d: %w", orgID, err)
	}
	return nil
}

// keepAnOwner refuses when userID is the organisation's only owner.
func keepAnOwner(ctx context.Context, tx *sqlx.Tx, orgID, userID int64) error {
	var others int
	err := tx.GetContext(ctx, &others, `SELECT count(*) FROM staff_roles WHERE org_id = $1 AND role = 'owner' AND user_id <> $2`, orgID, userID)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if others == 0 {
		return apperr.New(apperr.Conflict, "err.last_owner")
	}
	return nil
}
