package event

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
)

// VenueFacts are what a venue offers, and where it is (issue 20). A nil
// fact is unknown, which is not the same as false.
type VenueFacts struct {
	StepFree         *bool    `db:"step_free" json:"step_free"`
	AccessibleToilet *bool    `db:"accessible_toilet" json:"accessible_toilet"`
	HearingLoop      *bool    `db:"hearing_loop" json:"hearing_loop"`
	Lat              *float64 `db:"lat" json:"lat"`
	Lon              *float64 `db:"lon" json:"lon"`
}

// EventFacts are the languages spoken at an event and what it offers
// besides its venue.
type EventFacts struct {
	// Languages are spoken at the event (not the languages of its texts).
	Languages pq.StringArray `db:"languages"`
	// Interpreting lists the languages interpreted into.
	Interpreting pq.StringArray `db:"interpreting"`
	SignLanguage bool           `db:"sign_language"`
	Childcare    bool           `db:"childcare"`
}

// FactsInput is the part of Input that sets EventFacts.
type FactsInput struct {
	Languages    *[]string `json:"languages"`
	Interpreting *[]string `json:"interpreting"`
	SignLanguage *bool     `json:"sign_language"`
	Childcare    *bool     `json:"childcare"`
}

// AccessFacts are the names of the facts a search can ask for
// (access=step_free,childcare): each must be known to be true.
var AccessFacts = []string{"step_free", "accessible_toilet", "hearing_loop", "sign_language", "interpreting", "childcare"}

// accessCondition is each fact as SQL over events e and venues v.
var accessCondition = map[string]string{
	"step_free":         "v.step_free",
	"accessible_toilet": "v.accessible_toilet",
	"hearing_loop":      "v.hearing_loop",
	"sign_language":     "e.sign_language",
	"interpreting":      "(cardinality(e.interpreting) > 0)",
	"childcare":         "e.childcare",
}

// factsColumns are the facts in selectEvent.
const factsColumns = `e.languages, e.interpreting, e.sign_language, e.childcare,
       v.step_free AS "venue.step_free", v.accessible_toilet AS "venue.accessible_toilet",
       v.hearing_loop AS "venue.hearing_loop", v.lat AS "venue.lat", v.lon AS "venue.lon"`

func (in *FactsInput) apply(e *Event) {
	if in.Languages != nil {
		e.Languages = normLangs(*in.Languages)
	}
	if in.Interpreting != nil {
		e.Interpreting = normLangs(*in.Interpreting)
	}
	if in.SignLanguage != nil {
		e.SignLanguage = *in.SignLanguage
	}
	if in.Childcare != nil {
		e.Childcare = *in.Childcare
	}
}

// normLangs trims and lower-cases language codes and drops repeats,
// keeping the order given (the first is the main one).
func normLangs(in []string) pq.StringArray {
	out := pq.StringArray{}
	for _, l := range in {
		l = strings.ToLower(strings.TrimSpace(l))
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// checkFacts: languages are the network's languages; coordinates come as a
// pair, within range.
func checkFacts(f apperr.Fields, e *Event) {
	for _, field := range []struct {
		name  string
		langs []string
	}{{"languages", e.Languages}, {"interpreting", e.Interpreting}} {
		if len(field.langs) > len(config.Languages) {
			f.Add(field.name, "err.lang")
		}
		for _, l := range field.langs {
			if !slices.Contains(config.Languages, l) {
				f.Add(field.name, "err.lang")
			}
		}
	}
	v := e.Venue
	if (v.Lat == nil) != (v.Lon == nil) {
		f.Add("venue.lat", "err.coordinates")
	}
	if v.Lat != nil && (math.IsNaN(*v.Lat) || *v.Lat < -90 || *v.Lat > 90) {
		f.Add("venue.lat", "err.range", "Min", -90, "Max", 90)
	}
	if v.Lon != nil && (math.IsNaN(*v.Lon) || *v.Lon < -180 || *v.Lon > 180) {
		f.Add("venue.lon", "err.range", "Min", -180, "Max", 180)
	}
	if (v.Lat != nil || v.StepFree != nil || v.AccessibleToilet != nil || v.HearingLoop != nil) && v.Name == "" {
		f.Add("venue.name", "err.required")
	}
}

// writeFacts stores the event's facts and its venue's, in the transaction
// that writes the event.
func writeFacts(ctx context.Context, tx *sqlx.Tx, e *Event) error {
	if e.Languages == nil {
		e.Languages = pq.StringArray{}
	}
	if e.Interpreting == nil {
		e.Interpreting = pq.StringArray{}
	}
	_, err := tx.ExecContext(ctx, `
UPDATE events SET languages = $2, interpreting = $3, sign_language = $4, childcare = $5 WHERE id = $1`,
		e.ID, e.Languages, e.Interpreting, e.SignLanguage, e.Childcare)
	if err != nil {
		return fmt.Errorf("save facts of event %d: %w", e.ID, err)
	}
	if e.Venue.ID == nil {
		return nil
	}
	v := e.Venue
	_, err = tx.ExecContext(ctx, `
UPDATE venues SET step_free = $2, accessible_toilet = $3, hearing_loop = $4, lat = $5, lon = $6 WHERE id = $1`,
		*v.ID, v.StepFree, v.AccessibleToilet, v.HearingLoop, v.Lat, v.Lon)
	if err != nil {
		return fmt.Errorf("save facts of venue %d: %w", *v.ID, err)
	}
	return nil
}

// Spoken is the languages spoken at the event: Languages when given, else
// the languages its title is written in, the default language first.
func (e *Event) Spoken() []string {
	if len(e.Languages) > 0 {
		return e.Languages
	}
	out := []string{e.DefaultLang}
	for _, l := range config.Languages {
		if _, ok := e.Title[l]; ok && l != e.DefaultLang {
			out = append(out, l)
		}
	}
	return out
}

// HasCoordinates reports whether the venue's position is known.
func (v Venue) HasCoordinates() bool { return v.Lat != nil && v.Lon != nil }

// accessWhere is the SQL that keeps events offering every fact in facts;
// unknown names are ignored (the faces refuse them first).
func accessWhere(facts []string) string {
	var b strings.Builder
	for _, f := range facts {
		if cond, ok := accessCondition[f]; ok {
			b.WriteString("\n  AND " + cond + " IS TRUE")
		}
	}
	return b.String()
}

// SamePlace reports whether two venues are the same place with the same
// notes, whatever their ids and facts: a new fact or position does not
// move an event (no calendar update, no "the place has changed" mail),
// and facts are pointers, which == would compare by address.
func SamePlace(a, b Venue) bool {
	a.ID, b.ID = nil, nil
	a.VenueFacts, b.VenueFacts = VenueFacts{}, VenueFacts{}
	return a == b
}
