// Package member holds the member lists of the organisations: uploaded as a
// CSV file (or JSON through the API), replaced or merged, and listed for
// organisers, and matched against sign-ups for members-only events (Match).
package member

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// Member is one entry of an organisation's member list.
type Member struct {
	ID           int64      `db:"id"`
	Name         string     `db:"name"`
	Email        string     `db:"email"`
	MemberNumber string     `db:"member_number"`
	ValidUntil   *time.Time `db:"valid_until"`
	UpdatedAt    time.Time  `db:"updated_at"`
}

// Modes of an upload.
const (
	// Replace makes the list exactly the upload: members not in it are
	// removed.
	Replace = "replace"
	// Merge adds the upload's new members and updates known ones (same
	// member number, or same email when there is no number); no one is
	// removed.
	Merge = "merge"
)

// Result says what an upload changed.
type Result struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Removed   int `json:"removed"`
	Unchanged int `json:"unchanged"`
	Total     int `json:"total"` // members on the list afterwards
}

// Service stores member lists.
type Service struct {
	db *sqlx.DB
}

// New builds the member lists' service.
func New(db *sqlx.DB) *Service { return &Service{db: db} }

// Store writes checked rows (ParseCSV, CheckRows) to the organisation's
// list in one transaction; mode is Replace or Merge.
func (s *Service) Store(ctx context.Context, orgID int64, rows []Row, mode string) (*Result, error) {
	if mode != Replace && mode != Merge {
		return nil, apperr.Field("mode", "err.choice")
	}
	n := len(rows)
	names, emails, numbers, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	until := make([]sql.NullString, n)
	for i, r := range rows {
		names[i], emails[i], numbers[i], keys[i] = r.Name, r.Email, r.MemberNumber, key(r.Email, r.MemberNumber)
		if r.ValidUntil != nil {
			until[i] = sql.NullString{String: r.ValidUntil.Format(time.DateOnly), Valid: true}
		}
	}
	var res Result
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// One upload at a time per organisation, so that the counts are true
		// and two replaces cannot interleave.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM organisations WHERE id = $1 FOR NO KEY UPDATE`, orgID); err != nil {
			return fmt.Errorf("lock organisation: %w", err)
		}
		if mode == Replace {
			r, err := tx.ExecContext(ctx, `DELETE FROM members WHERE org_id = $1 AND NOT (member_key = ANY($2))`, orgID, pq.Array(keys))
			if err != nil {
				return fmt.Errorf("remove members: %w", err)
			}
			removed, _ := r.RowsAffected()
			res.Removed = int(removed)
		}
		// xmax = 0 tells an inserted row from an updated one; a row whose
		// values did not change is not touched at all.
		var outcome []bool
		err := tx.SelectContext(ctx, &outcome, `
INSERT INTO members AS m (org_id, name, email, member_number, valid_until, member_key)
SELECT $1, u.name, u.email, u.member_number, u.valid_until::date, u.member_key
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
     AS u(name, email, member_number, valid_until, member_key)
ON CONFLICT (org_id, member_key) DO UPDATE
SET name = EXCLUDED.name, email = EXCLUDED.email, member_number = EXCLUDED.member_number,
    valid_until = EXCLUDED.valid_until, updated_at = now()
WHERE (m.name, m.email, m.member_number, m.valid_until) IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.email, EXCLUDED.member_number, EXCLUDED.valid_until)
RETURNING (xmax = 0)`, orgID, pq.Array(names), pq.Array(emails), pq.Array(numbers), pq.Array(until), pq.Array(keys))
		if err != nil {
			return fmt.Errorf("save members: %w", err)
		}
		for _, inserted := range outcome {
			if inserted {
				res.Added++
			} else {
				res.Updated++
			}
		}
		res.Unchanged = n - res.Added - res.Updated
		return tx.GetContext(ctx, &res.Total, `SELECT count(*) FROM members WHERE org_id = $1`, orgID)
	})
	if err != nil {
		return nil, apperr.Wrap(err, "store members")
	}
	return &res, nil
}

// ImportCSV parses a CSV member list and stores it.
func (s *Service) ImportCSV(ctx context.Context, orgID int64, csvData []byte, mode string) (*Result, error) {
	if mode != Replace && mode != Merge {
		return nil, apperr.Field("mode", "err.choice")
	}
	rows, err := ParseCSV(bytes.NewReader(csvData))
	if err != nil {
		return nil, err
	}
	return s.Store(ctx, orgID, rows, mode)
}

// Input is one member as the JSON API takes it.
type Input struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	MemberNumber string `json:"member_number"`
	ValidUntil   string `json:"valid_until"`
}

// ImportJSON checks members given as JSON (errors are named
// "members.<n>.<field>", n counting from 1) and stores them.
func (s *Service) ImportJSON(ctx context.Context, orgID int64, in []Input, mode string) (*Result, error) {
	if mode != Replace && mode != Merge {
		return nil, apperr.Field("mode", "err.choice")
	}
	if len(in) > MaxRows {
		return nil, apperr.Field("members", "err.member_too_many", "Max", MaxRows)
	}
	f := apperr.Fields{}
	rows := make([]Row, len(in))
	seen := map[string]int{}
	for i, m := range in {
		rows[i] = Row{Line: i + 1, Name: m.Name, Email: m.Email, MemberNumber: m.MemberNumber}
		checkRow(f, fmt.Sprintf("members.%d.", i+1), &rows[i], m.ValidUntil, seen)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return s.Store(ctx, orgID, rows, mode)
}

// List returns the organisation's members whose name, email or member
// number contains q (all when q is empty), by name, at most limit, and how
// many match in all.
func (s *Service) List(ctx context.Context, orgID int64, q string, limit int) ([]Member, int, error) {
	pattern := "%" + likeEscape(strings.ToValidUTF8(strings.TrimSpace(q), "")) + "%"
	var out []Member
	err := s.db.SelectContext(ctx, &out, `
SELECT id, name, email, member_number, valid_until, updated_at FROM members
WHERE org_id = $1 AND (name ILIKE $2 OR email ILIKE $2 OR member_number ILIKE $2)
ORDER BY lower(name), id
LIMIT $3`, orgID, pattern, limit)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list members")
	}
	var total int
	err = s.db.GetContext(ctx, &total, `
SELECT count(*) FROM members
WHERE org_id = $1 AND (name ILIKE $2 OR email ILIKE $2 OR member_number ILIKE $2)`, orgID, pattern)
	return out, total, apperr.Wrap(err, "count members")
}

// likeEscape makes s match literally in LIKE (backslash is the default
// escape character).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Match finds the member that a sign-up names on the member lists of
// orgIDs (a members-only event's presenting organisation and its partners,
// event.MemberOrgIDs), by email (trimmed, any case) or by member number
// (trimmed, exact), whose membership is valid on day (a valid_until on or
// after day's date, or none). It runs in the caller's transaction (the
// sign-up's) and returns nil when nobody matches. A member listed without
// an email address cannot receive the confirmation link and so does not
// match. When both match different members, the member-number match wins:
// the number is what a member types to be recognised under a listed
// address. Among equal matches the list named first in orgIDs wins.
func Match(ctx context.Context, q sqlx.QueryerContext, orgIDs []int64, email, number string, day time.Time) (*Member, error) {
	var ms []Member
	err := sqlx.SelectContext(ctx, q, &ms, `
SELECT id, name, email, member_number, valid_until, updated_at FROM members
WHERE org_id = ANY($1) AND email <> ''
  AND (($2 <> '' AND lower(email) = lower($2)) OR ($3 <> '' AND member_number = $3))
  AND (valid_until IS NULL OR valid_until >= $4::date)
ORDER BY (member_number = $3 AND $3 <> '') DESC, array_position($1, org_id), id
LIMIT 1`, pq.Array(orgIDs), strings.TrimSpace(email), strings.TrimSpace(number), day.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("match member: %w", err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return &ms[0], nil
}
