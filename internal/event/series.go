package event

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// Series is a template and its dates; each date is an ordinary event
// (own capacity, sign-ups, waitlist, door) with the slug
// {series slug}-{YYYY-MM-DD}.
type Series struct {
	ID      int64  `db:"id"`
	OrgID   int64  `db:"org_id"`
	OrgSlug string `db:"org_slug"`
	Slug    string `db:"slug"`
	// Template is the event input as sent (no slug, no times), merged key
	// by key by every PATCH.
	Template  json.RawMessage `db:"template"`
	RRule     string          `db:"rrule"`
	CreatedAt time.Time       `db:"created_at"`
	UpdatedAt time.Time       `db:"updated_at"`

	// Dates are the series' events in time order; EditedAlone says which of
	// them were changed on their own (the template no longer reaches them).
	Dates       []Event        `db:"-"`
	EditedAlone map[int64]bool `db:"-"`
	template    map[string]json.RawMessage
}

// Span is one date of a series.
type Span struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// SeriesInput creates a series: the dates as a list, or as an RRULE and
// the first date.
type SeriesInput struct {
	Slug     string          `json:"slug"`
	Template json.RawMessage `json:"template"`
	Dates    []Span          `json:"dates"`
	RRule    string          `json:"rrule"`
	First    *Span           `json:"first"`
}

// SeriesPatch changes a series: Template reaches every future date not
// edited on its own; AddDates adds dates.
type SeriesPatch struct {
	Template json.RawMessage `json:"template"`
	AddDates []Span          `json:"add_dates"`
}

// 69 characters, so that "-YYYY-MM-DD" keeps an event slug within 80.
var seriesSlugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,68}$`)

// perDate are event fields each date has on its own, not in the template;
// sessions have times of their own, so they are set date by date.
var perDate = []string{"slug", "starts_at", "ends_at", "sessions"}

// parseTemplate reads a template: an event input without per-date fields.
// Errors name "template.<field>".
func parseTemplate(raw json.RawMessage) (Input, map[string]json.RawMessage, error) {
	var in Input
	fields := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return in, fields, nil
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return in, nil, apperr.Field("template", "err.json_type")
	}
	f := apperr.Fields{}
	for _, k := range perDate {
		if _, ok := fields[k]; ok {
			f.Add("template."+k, "err.unknown_field")
		}
	}
	if err := f.Err(); err != nil {
		return in, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return in, nil, apperr.Field("template."+te.Field, "err.json_type")
		}
		return in, nil, apperr.Field("template", "err.json_type")
	}
	return in, fields, nil
}

// prefixFields names the fields of a validation error as template fields,
// except the times, which are each date's own.
func prefixFields(err error, dateField string) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Fields == nil {
		return err
	}
	f := apperr.Fields{}
	for k, m := range ae.Fields {
		if k == "starts_at" || k == "ends_at" {
			f[dateField+"."+k] = m
		} else {
			f["template."+k] = m
		}
	}
	return &apperr.Error{Code: ae.Code, Msg: ae.Msg, Fields: f, Cause: ae.Cause}
}

// spans checks a list of dates: each ends after it starts, at most
// MaxSeriesDates in all (counting have, the dates a series already has).
func spans(field string, in []Span, have int) error {
	if have+len(in) > MaxSeriesDates {
		return apperr.Field(field, "err.series_too_many", "Max", MaxSeriesDates)
	}
	f := apperr.Fields{}
	for i, d := range in {
		at := field + "[" + strconv.Itoa(i) + "]"
		if d.StartsAt.IsZero() {
			f.Add(at+".starts_at", "err.required")
		}
		if d.EndsAt.IsZero() {
			f.Add(at+".ends_at", "err.required")
		} else if d.EndsAt.Before(d.StartsAt) {
			f.Add(at+".ends_at", "err.ends_before_start")
		}
	}
	return f.Err()
}

// ruleSpans expands an RRULE from first in loc; each date ends at first's
// wall-clock end time, so that 19:00–21:30 stays that in summer and winter.
func ruleSpans(rrule string, first *Span, loc *time.Location) ([]Span, error) {
	if first == nil {
		return nil, apperr.Field("first", "err.required")
	}
	if err := spans("first", []Span{*first}, 0); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			f := apperr.Fields{}
			for k, m := range ae.Fields {
				f["first."+k[len("first[0]."):]] = m
			}
			return nil, f.Err()
		}
		return nil, err
	}
	r, err := parseRule(rrule, loc)
	if err != nil {
		return nil, err
	}
	starts, err := r.expand(first.StartsAt, loc)
	if err != nil {
		return nil, err
	}
	s0 := first.StartsAt.In(loc)
	e0 := first.EndsAt.In(loc)
	days := dayNumber(e0) - dayNumber(s0)
	eh, em, es := e0.Clock()
	out := make([]Span, len(starts))
	for i, t := range starts {
		y, m, d := t.Date()
		out[i] = Span{StartsAt: t, EndsAt: time.Date(y, m, d+days, eh, em, es, 0, loc)}
	}
	return out, nil
}

func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dateEvents builds the events of dates from the template, named
// {slug}-{YYYY-MM-DD} by their day in the event's zone. Two dates on one
// day are refused, since they would share a name.
func dateEvents(orgID int64, slug string, tmpl Input, field string, dates []Span, taken map[string]bool) ([]*Event, error) {
	base := Defaults()
	base.OrgID = orgID
	tmpl.apply(&base)
	loc := base.Location()
	f := apperr.Fields{}
	var out []*Event
	for i, d := range dates {
		e := base
		e.StartsAt, e.EndsAt = d.StartsAt, d.EndsAt
		if e.AllDay {
			e.StartsAt, e.EndsAt = allDay(e.StartsAt, e.EndsAt, loc)
		}
		e.Slug = slug + "-" + e.StartsAt.In(loc).Format("2006-01-02")
		if taken[e.Slug] {
			f.Add(field+"["+strconv.Itoa(i)+"].starts_at", "err.series_same_day")
			continue
		}
		taken[e.Slug] = true
		out = append(out, &e)
	}
	return out, f.Err()
}

// CreateSeries creates a series of orgID and every one of its dates, in one
// transaction: a bad date or rule writes nothing.
func (s *Service) CreateSeries(ctx context.Context, orgID int64, in SeriesInput) (*Series, error) {
	if in.Slug == "" {
		return nil, apperr.Field("slug", "err.required")
	}
	if !seriesSlugRE.MatchString(in.Slug) {
		return nil, apperr.Field("slug", "err.slug")
	}
	tmpl, fields, err := parseTemplate(in.Template)
	if err != nil {
		return nil, err
	}
	probe := Defaults()
	tmpl.apply(&probe)
	if probe.Status == Cancelled {
		return nil, apperr.Field("template.status", "err.create_cancelled")
	}
	var dates []Span
	field := "dates"
	switch {
	case in.RRule != "" && len(in.Dates) > 0:
		return nil, apperr.Field("dates", "err.series_dates_or_rrule")
	case in.RRule != "":
		field = "rrule"
		dates, err = ruleSpans(in.RRule, in.First, probe.Location())
	case len(in.Dates) > 0:
		err = spans("dates", in.Dates, 0)
		dates = in.Dates
	default:
		return nil, apperr.Field("dates", "err.series_dates_or_rrule")
	}
	if err != nil {
		return nil, err
	}
	evs, err := dateEvents(orgID, in.Slug, tmpl, field, dates, map[string]bool{})
	if err != nil {
		return nil, err
	}
	stored, _ := json.Marshal(fields)
	var id int64
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO series (org_id, slug, template, rrule) VALUES ($1, $2, $3, $4) RETURNING id`,
			orgID, in.Slug, stored, in.RRule); err != nil {
			return fmt.Errorf("insert series: %w", err)
		}
		return s.insertDates(ctx, tx, id, orgID, field, evs)
	})
	switch {
	case database.IsUniqueViolation(err, "series_slug_key"), database.IsUniqueViolation(err, "events_slug_key"):
		return nil, apperr.Field("slug", "err.slug_taken")
	case err != nil:
		return nil, apperr.Wrap(err, "create series")
	}
	return s.seriesByID(ctx, id, true)
}

// insertDates writes the events of a series; the first one that fails
// validation names its fields (template.… or dates[i].…).
func (s *Service) insertDates(ctx context.Context, tx *sqlx.Tx, seriesID, orgID int64, field string, evs []*Event) error {
	var venue *int64
	for i, e := range evs {
		if err := check(ctx, tx, e); err != nil {
			return prefixFields(err, field+"["+strconv.Itoa(i)+"]")
		}
		if i == 0 {
			var err error
			if venue, err = upsertVenue(ctx, tx, orgID, e.Venue); err != nil {
				return err
			}
		}
		e.Venue.ID = venue
		if _, err := insert(ctx, tx, e); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO series_events (series_id, event_id) VALUES ($1, $2)`, seriesID, e.ID); err != nil {
			return fmt.Errorf("link event %d to series %d: %w", e.ID, seriesID, err)
		}
	}
	return nil
}

// UpdateSeries changes the template for every date still to come that was
// not edited on its own (each through the event's own rules: capacity,
// waitlist, participants told of a move), and adds dates, in one
// transaction.
func (s *Service) UpdateSeries(ctx context.Context, orgID int64, slug string, p SeriesPatch) (*Series, error) {
	tmpl, fields, err := parseTemplate(p.Template)
	if err != nil {
		return nil, err
	}
	if err := spans("add_dates", p.AddDates, 0); err != nil {
		return nil, err
	}
	var id int64
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		sr, err := lockSeries(ctx, tx, slug)
		if err != nil {
			return err
		}
		if sr.OrgID != orgID {
			return apperr.New(apperr.NotFound, "err.series_not_found")
		}
		id = sr.ID
		if err := s.loadDates(ctx, tx, sr, true); err != nil {
			return err
		}
		if len(sr.Dates)+len(p.AddDates) > MaxSeriesDates {
			return apperr.Field("add_dates", "err.series_too_many", "Max", MaxSeriesDates)
		}
		now := s.now()
		if len(fields) > 0 {
			maps.Copy(sr.template, fields)
			merged, _ := json.Marshal(sr.template)
			if _, err := tx.ExecContext(ctx, `UPDATE series SET template = $2, updated_at = now() WHERE id = $1`, sr.ID, merged); err != nil {
				return fmt.Errorf("update series %d: %w", sr.ID, err)
			}
			for i := range sr.Dates {
				d := &sr.Dates[i]
				if sr.EditedAlone[d.ID] || d.Status == Cancelled || !d.StartsAt.After(now) {
					continue
				}
				e, err := LockByID(ctx, tx, d.ID)
				if err != nil {
					return err
				}
				// Asked again under the event's lock: an edit of the date
				// alone that committed since loadDates wins.
				var alone bool
				if err := tx.GetContext(ctx, &alone, `SELECT edited_alone FROM series_events WHERE event_id = $1`, d.ID); err != nil {
					return fmt.Errorf("edited alone %d: %w", d.ID, err)
				}
				if alone {
					continue
				}
				if err := s.updateLocked(ctx, tx, e, tmpl); err != nil {
					return prefixFields(err, "template")
				}
			}
		}
		if len(p.AddDates) == 0 {
			return nil
		}
		all, _, err := parseTemplate(mustJSON(sr.template))
		if err != nil {
			return err
		}
		taken := map[string]bool{}
		for _, d := range sr.Dates {
			taken[d.Slug] = true
		}
		evs, err := dateEvents(orgID, sr.Slug, all, "add_dates", p.AddDates, taken)
		if err != nil {
			return err
		}
		return s.insertDates(ctx, tx, sr.ID, orgID, "add_dates", evs)
	})
	switch {
	case database.IsUniqueViolation(err, "events_slug_key"):
		return nil, apperr.Field("add_dates", "err.slug_taken")
	case err != nil:
		return nil, apperr.Wrap(err, "update series")
	}
	return s.seriesByID(ctx, id, true)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// GetSeries returns a series with its dates; drafts only when staff is set
// (the organisation's own view: also which dates were edited alone).
func (s *Service) GetSeries(ctx context.Context, slug string, staff bool) (*Series, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, `SELECT id FROM series WHERE slug = $1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.series_not_found")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "get series")
	}
	sr, err := s.seriesByID(ctx, id, staff)
	if err == nil && !staff && len(sr.Dates) == 0 {
		// A series whose dates are all drafts is not public yet.
		return nil, apperr.New(apperr.NotFound, "err.series_not_found")
	}
	return sr, err
}

// GetSeriesForOrg returns a series only when orgID presents it.
func (s *Service) GetSeriesForOrg(ctx context.Context, orgID int64, slug string) (*Series, error) {
	sr, err := s.GetSeries(ctx, slug, true)
	if err != nil {
		return nil, err
	}
	if sr.OrgID != orgID {
		return nil, apperr.New(apperr.NotFound, "err.series_not_found")
	}
	return sr, nil
}

// SeriesOf is the series an event is a date of, with its public dates, or
// nil when the event stands alone.
func (s *Service) SeriesOf(ctx context.Context, eventID int64) (*Series, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, `SELECT series_id FROM series_events WHERE event_id = $1`, eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "series of event")
	}
	return s.seriesByID(ctx, id, false)
}

const selectSeries = `SELECT s.id, s.org_id, o.slug AS org_slug, s.slug, s.template, s.rrule, s.created_at, s.updated_at
FROM series s JOIN organisations o ON o.id = s.org_id`

func (s *Service) seriesByID(ctx context.Context, id int64, staff bool) (*Series, error) {
	var sr Series
	if err := s.db.GetContext(ctx, &sr, selectSeries+` WHERE s.id = $1`, id); err != nil {
		return nil, apperr.Wrap(err, "get series")
	}
	if err := s.loadDates(ctx, s.db, &sr, staff); err != nil {
		return nil, apperr.Wrap(err, "get series")
	}
	return &sr, nil
}

func lockSeries(ctx context.Context, tx *sqlx.Tx, slug string) (*Series, error) {
	var sr Series
	err := tx.GetContext(ctx, &sr, selectSeries+` WHERE s.slug = $1 FOR UPDATE OF s`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.series_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("lock series %q: %w", slug, err)
	}
	return &sr, nil
}

func (s *Service) loadDates(ctx context.Context, q sqlx.QueryerContext, sr *Series, staff bool) error {
	sr.template = map[string]json.RawMessage{}
	if err := json.Unmarshal(sr.Template, &sr.template); err != nil {
		return fmt.Errorf("series %d template: %w", sr.ID, err)
	}
	statuses := []string{Published, Cancelled}
	if staff {
		statuses = append(statuses, Draft)
	}
	err := sqlx.SelectContext(ctx, q, &sr.Dates, selectEvent+`
WHERE e.id IN (SELECT event_id FROM series_events WHERE series_id = $1) AND e.status = ANY($2)
ORDER BY e.starts_at, e.id`, sr.ID, pq.Array(statuses))
	if err != nil {
		return fmt.Errorf("dates of series %d: %w", sr.ID, err)
	}
	var edited []int64
	if err := sqlx.SelectContext(ctx, q, &edited, `SELECT event_id FROM series_events WHERE series_id = $1 AND edited_alone`, sr.ID); err != nil {
		return fmt.Errorf("edited dates of series %d: %w", sr.ID, err)
	}
	sr.EditedAlone = map[int64]bool{}
	for _, id := range edited {
		sr.EditedAlone[id] = true
	}
	return nil
}

// markEditedAlone records that an event was changed on its own; nothing
// for an event that is no date of a series.
func markEditedAlone(ctx context.Context, tx *sqlx.Tx, eventID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE series_events SET edited_alone = true WHERE event_id = $1 AND NOT edited_alone`, eventID); err != nil {
		return fmt.Errorf("mark event %d edited alone: %w", eventID, err)
	}
	return nil
}

// Upcoming are the dates that have not ended at now.
func (sr *Series) Upcoming(now time.Time) []Event {
	i := slices.IndexFunc(sr.Dates, func(e Event) bool { return e.EndsAt.After(now) })
	if i < 0 {
		return nil
	}
	return sr.Dates[i:]
}

// Membership is a date's place in its series, for the editor.
type Membership struct {
	Series      string `db:"slug"`
	EditedAlone bool   `db:"edited_alone"`
}

// MembershipOf says which series an event is a date of, and whether it was
// edited on its own; nil when it stands alone.
func (s *Service) MembershipOf(ctx context.Context, eventID int64) (*Membership, error) {
	var m Membership
	err := s.db.GetContext(ctx, &m, `SELECT s.slug, se.edited_alone FROM series_events se JOIN series s ON s.id = se.series_id WHERE se.event_id = $1`, eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "series of event")
	}
	return &m, nil
}

// OrgSeries are the series orgID presents, by slug, each with every date
// (drafts included), for the organisers' area.
func (s *Service) OrgSeries(ctx context.Context, orgID int64) ([]*Series, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM series WHERE org_id = $1 ORDER BY slug`, orgID); err != nil {
		return nil, apperr.Wrap(err, "list series")
	}
	out := make([]*Series, 0, len(ids))
	for _, id := range ids {
		sr, err := s.seriesByID(ctx, id, true)
		if err != nil {
			return nil, err
		}
		out = append(out, sr)
	}
	return out, nil
}

// CreateSeriesFrom creates a series of orgID whose template is the event
// eventSlug as it is now (texts, place, rules, questions, facts; not its
// times, sessions or registration window, which belong to one date), with
// the dates of in. The event itself stays as it is, no date of the series.
func (s *Service) CreateSeriesFrom(ctx context.Context, orgID int64, eventSlug string, in SeriesInput) (*Series, error) {
	e, err := s.GetForOrg(ctx, orgID, eventSlug)
	if err != nil {
		return nil, err
	}
	in.Template = templateOf(e)
	return s.CreateSeries(ctx, orgID, in)
}

// templateOf is e as a series template: the fields of Input that every
// date shares. A cancelled event's dates start as drafts.
func templateOf(e *Event) json.RawMessage {
	status := e.Status
	if status == Cancelled {
		status = Draft
	}
	v := e.Venue
	v.ID = nil
	t := map[string]any{
		"kind": e.Kind, "default_lang": e.DefaultLang, "title": e.Title, "description": e.Description,
		"all_day": e.AllDay, "timezone": e.Timezone, "venue": v, "status": status,
		"capacity": e.Capacity, "waitlist": e.Waitlist, "max_party_size": e.MaxPartySize,
		"access": e.Access, "min_age": e.MinAge, "max_age": e.MaxAge, "price_note": e.PriceNote,
		"confirm_email": e.ConfirmEmail, "approval": e.Approval, "questions": e.Questions,
		"partner_orgs": e.Partners.Slugs(), "languages": e.Languages, "interpreting": e.Interpreting,
		"sign_language": e.SignLanguage, "childcare": e.Childcare,
	}
	return mustJSON(t)
}

// CancelSeriesDate cancels one date of the series slug of orgID through
// Cancel, as the API's cancel of that event does; a date of another series
// is not found.
func (s *Service) CancelSeriesDate(ctx context.Context, orgID int64, slug, dateSlug string) (*Event, error) {
	sr, err := s.GetSeriesForOrg(ctx, orgID, slug)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(sr.Dates, func(e Event) bool { return e.Slug == dateSlug }) {
		return nil, apperr.New(apperr.NotFound, "err.series_date_not_found")
	}
	return s.Cancel(ctx, orgID, dateSlug)
}
