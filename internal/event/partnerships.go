package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// Partnership is one event that names an organisation as partner, as the
// partner's owners see it (docs/access.md, "Partner organisations").
type Partnership struct {
	EventSlug   string     `db:"event_slug" json:"event"`
	Title       Texts      `db:"title" json:"title"`
	DefaultLang string     `db:"default_lang" json:"-"`
	StartsAt    time.Time  `db:"starts_at" json:"starts_at"`
	Timezone    string     `db:"timezone" json:"-"`
	Access      string     `db:"access" json:"access"`
	OrgSlug     string     `db:"org_slug" json:"org"`
	OrgName     string     `db:"org_name" json:"org_name"`
	Status      string     `db:"status" json:"status"`
	DecidedAt   *time.Time `db:"decided_at" json:"decided_at"`
}

const selectPartnership = `
SELECT e.slug AS event_slug, e.title, e.default_lang, e.starts_at, e.timezone, e.access,
       o.slug AS org_slug, o.name AS org_name, ep.status, ep.decided_at
FROM event_partners ep
JOIN events e ON e.id = ep.event_id
JOIN organisations o ON o.id = e.org_id`

// Partnerships returns the events that name partnerOrgID as partner, the
// requests first, then by start.
func (s *Service) Partnerships(ctx context.Context, partnerOrgID int64) ([]Partnership, error) {
	out := []Partnership{}
	err := sqlx.SelectContext(ctx, s.db, &out, selectPartnership+`
WHERE ep.org_id = $1
ORDER BY ep.status <> 'requested', e.starts_at DESC, e.id`, partnerOrgID)
	return out, apperr.Wrap(err, "list partnerships")
}

// DecidePartnership records the answer of partnerOrgID's owner (userID, 0
// for a token) to being named partner of the event slug: accepted, its
// members may sign up; declined (or an acceptance withdrawn), its member
// list is not consulted. Answering twice the same is harmless. Callers
// check that the caller is an owner of partnerOrgID.
func (s *Service) DecidePartnership(ctx context.Context, partnerOrgID int64, slug string, accept bool, userID int64) (*Partnership, error) {
	status := PartnerDeclined
	if accept {
		status = PartnerAccepted
	}
	var by *int64
	if userID != 0 {
		by = &userID
	}
	var p Partnership
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `
UPDATE event_partners ep SET status = $3, decided_at = $4, decided_by = $5
FROM events e WHERE e.id = ep.event_id AND e.slug = $2 AND ep.org_id = $1 AND ep.status <> $3`,
			partnerOrgID, slug, status, s.now(), by)
		if err != nil {
			return fmt.Errorf("decide partnership: %w", err)
		}
		err = tx.GetContext(ctx, &p, selectPartnership+` WHERE ep.org_id = $1 AND e.slug = $2`, partnerOrgID, slug)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "err.event_not_found")
		}
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "decide partnership")
	}
	return &p, nil
}
