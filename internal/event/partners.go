package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
)

// MaxPartners is how many partner organisations an event may name.
const MaxPartners = 20

// Partner is an organisation an event names as partner: on a members-only
// event its members may sign up too (docs/access.md).
type Partner struct {
	ID    int64  `json:"id"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Status is PartnerRequested until an owner of the partner
	// organisation accepts (or declines) being named: only an accepted
	// partner's member list is consulted.
	Status string `json:"status"`
}

// Partnership states (event_partners.status).
const (
	PartnerRequested = "requested"
	PartnerAccepted  = "accepted"
	PartnerDeclined  = "declined"
)

// Partners are an event's partner organisations in the order the organiser
// gave, stored in event_partners and read as one jsonb array.
type Partners []Partner

// Scan implements sql.Scanner.
func (p *Partners) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*p = nil
		return nil
	default:
		return errors.New("partners: unsupported type")
	}
	return json.Unmarshal(b, (*[]Partner)(p))
}

// Slugs are the partners' slugs, in order.
func (p Partners) Slugs() []string {
	out := make([]string, len(p))
	for i, o := range p {
		out[i] = o.Slug
	}
	return out
}

// Accepted are the partners that have accepted being named, in order.
func (p Partners) Accepted() Partners {
	var out Partners
	for _, o := range p {
		if o.Status == PartnerAccepted {
			out = append(out, o)
		}
	}
	return out
}

// Names are the partners' names joined for a sentence.
func (p Partners) Names() string {
	names := make([]string, len(p))
	for i, o := range p {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// MemberOrgIDs are the organisations whose member lists a members-only
// sign-up is matched against: the presenting organisation first, then the
// partners that have accepted. A partnership one organisation merely
// requested must not open another's member list to its sign-ups.
func (e *Event) MemberOrgIDs() []int64 {
	ids := make([]int64, 0, 1+len(e.Partners))
	ids = append(ids, e.OrgID)
	for _, p := range e.Partners.Accepted() {
		ids = append(ids, p.ID)
	}
	return ids
}

// partnersColumn reads an event's partners in selectEvent.
const partnersColumn = `COALESCE((SELECT jsonb_agg(jsonb_build_object('id', po.id, 'slug', po.slug, 'name', po.name, 'email', po.email, 'status', ep.status) ORDER BY ep.position)
        FROM event_partners ep JOIN organisations po ON po.id = ep.org_id WHERE ep.event_id = e.id), '[]') AS partners`

// partnerSlugs takes the slugs an organiser gave (trimmed, any case) as
// unresolved partners.
func partnerSlugs(slugs []string) Partners {
	out := make(Partners, len(slugs))
	for i, s := range slugs {
		out[i] = Partner{Slug: strings.ToLower(strings.TrimSpace(s))}
	}
	return out
}

// resolvePartners looks the partners' slugs up and fills in their ids,
// names and addresses; an unknown slug, the presenting organisation itself,
// a slug named twice or too many are errors on "partner_orgs".
func resolvePartners(ctx context.Context, q sqlx.QueryerContext, e *Event, f apperr.Fields) error {
	if len(e.Partners) == 0 {
		return nil
	}
	if len(e.Partners) > MaxPartners {
		f.Add("partner_orgs", "err.partner_org_too_many", "Max", MaxPartners)
		return nil
	}
	var found []Partner
	err := sqlx.SelectContext(ctx, q, &found, `SELECT id, slug, name, email FROM organisations WHERE slug = ANY($1)`, pq.Array(e.Partners.Slugs()))
	if err != nil {
		return fmt.Errorf("find partner organisations: %w", err)
	}
	bySlug := make(map[string]Partner, len(found))
	for _, o := range found {
		bySlug[o.Slug] = o
	}
	seen := map[string]bool{}
	for i, p := range e.Partners {
		o, ok := bySlug[p.Slug]
		switch {
		case !ok:
			f.Add("partner_orgs", "err.partner_org_unknown", "Slug", p.Slug)
		case o.ID == e.OrgID:
			f.Add("partner_orgs", "err.partner_org_self")
		case seen[p.Slug]:
			f.Add("partner_orgs", "err.partner_org_twice", "Slug", p.Slug)
		}
		seen[p.Slug] = true
		e.Partners[i] = o
	}
	return nil
}

// check validates a complete event, its partners included, and names
// every bad field.
func check(ctx context.Context, q sqlx.QueryerContext, e *Event) error {
	f := apperr.Fields{}
	if err := resolvePartners(ctx, q, e, f); err != nil {
		return err
	}
	if err := validate(e); err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			return err
		}
		for k, m := range ae.Fields {
			f[k] = m
		}
	}
	return f.Err()
}

// writePartners makes the event's partner list exactly e.Partners. A
// partner named again keeps its answer (an editor saving the event must not
// undo an acceptance, nor turn a refusal into a fresh request); a newly
// named one is requested.
func writePartners(ctx context.Context, tx *sqlx.Tx, e *Event) error {
	ids := make([]int64, len(e.Partners))
	for i, p := range e.Partners {
		ids[i] = p.ID
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM event_partners WHERE event_id = $1 AND NOT org_id = ANY($2)`, e.ID, pq.Array(ids)); err != nil {
		return fmt.Errorf("clear partners of event %d: %w", e.ID, err)
	}
	if len(e.Partners) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO event_partners (event_id, org_id, position)
SELECT $1, u.org_id, u.position FROM unnest($2::bigint[]) WITH ORDINALITY AS u(org_id, position)
ON CONFLICT (event_id, org_id) DO UPDATE SET position = EXCLUDED.position`, e.ID, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("save partners of event %d: %w", e.ID, err)
	}
	return nil
}
