package event

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// Venues returns the organisation's venues by name, for the editor to
// reuse: with their facts and position, which an event picking the venue
// writes back as they are.
func (s *Service) Venues(ctx context.Context, orgID int64) ([]Venue, error) {
	var out []Venue
	err := s.db.SelectContext(ctx, &out, `
SELECT id, name, street, postcode, city, accessibility_notes,
       step_free, accessible_toilet, hearing_loop, lat, lon
FROM venues WHERE org_id = $1 ORDER BY lower(name), street, id`, orgID)
	return out, apperr.Wrap(err, "list venues")
}

// Preview is the event as it would be after in is applied: to the event slug
// of orgID, or to a new event's defaults when slug is empty. Nothing is
// saved; the answer is validated like Create and Update would.
func (s *Service) Preview(ctx context.Context, orgID int64, slug string, in Input) (*Event, error) {
	var e *Event
	if slug == "" {
		e = new(Defaults())
		e.OrgID = orgID
		err := s.db.GetContext(ctx, e, `SELECT slug AS org_slug, name AS org_name FROM organisations WHERE id = $1`, orgID)
		if err != nil {
			return nil, apperr.Wrap(err, "preview event")
		}
	} else {
		var err error
		if e, err = s.GetForOrg(ctx, orgID, slug); err != nil {
			return nil, err
		}
	}
	in.apply(e)
	if err := check(ctx, s.db, e); err != nil {
		return nil, apperr.Wrap(err, "preview event")
	}
	return e, nil
}

// copySuffix is the "-2" of a copy's slug.
var copySuffix = regexp.MustCompile(`-[0-9]{1,3}$`)

// Duplicate copies the event slug of orgID into a new draft with a new
// slug (slug-2, slug-3, …): same texts, times, venue and rules, no
// registrations. Organisers then change what differs, usually the date.
func (s *Service) Duplicate(ctx context.Context, orgID int64, slug string) (*Event, error) {
	var id int64
	err := database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		src, err := BySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		if src.OrgID != orgID {
			return apperr.New(apperr.NotFound, "err.event_not_found")
		}
		base := copySuffix.ReplaceAllString(src.Slug, "")
		if len(base) > 75 {
			base = base[:75]
		}
		e := *src
		e.Status = Draft
		if err := tx.GetContext(ctx, &e.Slug, `
SELECT s FROM generate_series(2, 999) AS n, LATERAL (SELECT $1 || '-' || n AS s) x
WHERE NOT EXISTS (SELECT 1 FROM events WHERE slug = x.s)
ORDER BY n LIMIT 1`, base); err != nil {
			return fmt.Errorf("find a slug for the copy of %q: %w", slug, err)
		}
		id, err = insert(ctx, tx, &e)
		return err
	})
	if database.IsUniqueViolation(err, "events_slug_key") {
		// Another copy took the slug in the meantime.
		return nil, apperr.New(apperr.Conflict, "err.try_again")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "duplicate event")
	}
	return s.getByID(ctx, id)
}
