package registration

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
)

// Figures for funders (docs/organisers.md, "Figures"; docs/api.md, "Figures").
//
// They are read only from what retention keeps (retention.go): a
// registration's status, party size, language, age band, member flag,
// walk-in and released marks, its tickets' check-ins, the event's
// waitlist peak, and the sessions' choices and check-ins (sessionFigures). The age band and the member flag are written with the
// registration, in the same statement (signup_store.go, migration 00023),
// from the birth date and member number that retention later erases; the
// waitlist peak is kept by the trigger that keeps the waitlist's length. So
// the figures are the same before and after the erasure, and the sign-up
// batch pays no statement more for them.

// Age bands, by age at the event's start; registrations without a birth
// date (the event asked none) have none.
const (
	AgeUnder18 = "under_18"
	Age18to21  = "18_21"
	Age22to27  = "22_27"
	Age28Plus  = "28_plus"
	AgeUnknown = "unknown"
)

// AgeBands lists the bands in the order they are shown.
var AgeBands = []string{AgeUnder18, Age18to21, Age22to27, Age28Plus, AgeUnknown}

// ageBand is the band of someone born on birth at the start of e, "" for
// no birth date. The bands follow the funding programmes for young people
// (under 18; 18–21; 22–27, the upper limit of youth work in SGB VIII § 7).
func ageBand(birth *time.Time, e *event.Event) string {
	if birth == nil {
		return ""
	}
	switch age := ageOn(*birth, e.StartsAt.In(e.Location())); {
	case age < 18:
		return AgeUnder18
	case age <= 21:
		return Age18to21
	case age <= 27:
		return Age22to27
	default:
		return Age28Plus
	}
}

// Member breakdown keys.
const (
	MembersKey = "members"
	OthersKey  = "others"
)

// SmallCount is the limit below which a breakdown cell is not shown: a
// count of 1 to 4 is shown as "<5", so that a cell cannot point at a
// person.
const SmallCount = 5

// Cell is one count of a breakdown. It is encoded as the number, or as the
// string "<5" when it is from 1 to SmallCount-1.
type Cell int

// Suppressed reports whether the cell is shown as "<5".
func (c Cell) Suppressed() bool { return c > 0 && c < SmallCount }

// String is the cell as shown and exported.
func (c Cell) String() string {
	if c.Suppressed() {
		return "<" + strconv.Itoa(SmallCount)
	}
	return strconv.Itoa(int(c))
}

// MarshalJSON writes the number, or "<5".
func (c Cell) MarshalJSON() ([]byte, error) {
	if c.Suppressed() {
		return []byte(`"` + c.String() + `"`), nil
	}
	return []byte(strconv.Itoa(int(c))), nil
}

// Breakdown is counts by category; a category without any is left out.
type Breakdown map[string]Cell

// Keys are the breakdown's categories in order: those of order first, the
// rest alphabetically.
func (b Breakdown) Keys(order []string) []string {
	var out, rest []string
	for _, k := range order {
		if _, ok := b[k]; ok {
			out = append(out, k)
		}
	}
	for k := range b {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func (b Breakdown) add(k string, n int) {
	if n > 0 {
		b[k] += Cell(n)
	}
}

// SessionFigures are the figures of one session of an event (a workshop,
// forum or group: DESIGN.md, "Session"). They are a breakdown of the
// event's, so each count from 1 to 4 is shown as "<5". Like the event's,
// they are read only from what retention keeps: the choices
// (registration_sessions) and the session check-ins, which name a
// registration and a ticket by id only, and the party sizes.
type SessionFigures struct {
	Key      string    `json:"key"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	// Cancelled marks a session the organisers cancelled.
	Cancelled bool `json:"cancelled,omitempty"`
	// PersonsConfirmed: places held in it by confirmed registrations, and
	// those released with their registration as no-shows.
	PersonsConfirmed Cell `json:"persons_confirmed"`
	// PersonsCheckedIn: tickets checked in at its door.
	PersonsCheckedIn Cell `json:"persons_checked_in"`
	// Waitlisted: persons still waiting for a place in it (at and after
	// the event: those who never got one).
	Waitlisted Cell `json:"waitlisted"`
	// TitleLang is the language of Title (the event's default).
	TitleLang string `json:"-"`
}

// Figures are the counts of one event or of all of them.
//
// Registrations counts sign-ups that were accepted (confirmed, waitlisted,
// or cancelled later), walk-ins included; unconfirmed and lapsed holds
// (pending, expired) are not. The breakdowns count those registrations,
// not persons.
type Figures struct {
	Registrations int `json:"registrations"`
	// PersonsConfirmed: seats of the registrations that are confirmed or
	// were released as no-shows; walk-ins included.
	PersonsConfirmed int `json:"persons_confirmed"`
	// PersonsCheckedIn: tickets checked in (at least once).
	PersonsCheckedIn int `json:"persons_checked_in"`
	// NoShowRate: of the persons confirmed in advance (walk-ins not), the
	// share not checked in, rounded to three places; null before the event
	// starts or when nobody was confirmed in advance.
	NoShowRate *float64 `json:"no_show_rate"`
	// WalkIns: persons let in at the door without a sign-up.
	WalkIns int `json:"walk_ins"`
	// WaitlistPeak: the most registrations on the waitlist at once (in a
	// total: the sum of the events' peaks).
	WaitlistPeak int       `json:"waitlist_peak"`
	ByLang       Breakdown `json:"by_lang"`
	// ByAgeBand only for events that asked for birth dates (an age range).
	ByAgeBand Breakdown `json:"by_age_band,omitempty"`
	Members   Breakdown `json:"members"`
	// Sessions are an event's sessions in its order (empty in a total:
	// sessions belong to one event).
	Sessions []SessionFigures `json:"sessions"`

	// advance and advanceIn are the persons confirmed in advance and how
	// many of them were checked in: the no-show rate's base.
	advance, advanceIn int
	started            bool
}

func newFigures() Figures {
	return Figures{ByLang: Breakdown{}, Members: Breakdown{}, Sessions: []SessionFigures{}}
}

func (f *Figures) rate() {
	f.NoShowRate = nil
	if f.started && f.advance > 0 {
		r := math.Round(float64(f.advance-f.advanceIn)/float64(f.advance)*1000) / 1000
		f.NoShowRate = &r
	}
}

func (f *Figures) addAll(g *Figures) {
	f.Registrations += g.Registrations
	f.PersonsConfirmed += g.PersonsConfirmed
	f.PersonsCheckedIn += g.PersonsCheckedIn
	f.WalkIns += g.WalkIns
	f.WaitlistPeak += g.WaitlistPeak
	f.advance += g.advance
	f.advanceIn += g.advanceIn
	f.started = f.started || g.started
	for k, n := range g.ByLang {
		f.ByLang.add(k, int(n))
	}
	if g.ByAgeBand != nil {
		if f.ByAgeBand == nil {
			f.ByAgeBand = Breakdown{}
		}
		for k, n := range g.ByAgeBand {
			f.ByAgeBand.add(k, int(n))
		}
	}
	for k, n := range g.Members {
		f.Members.add(k, int(n))
	}
}

// EventFigures are one event's figures.
type EventFigures struct {
	Slug     string    `json:"slug"`
	Org      string    `json:"org"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	// TitleLang is the language of Title (the event's default);
	// Timezone the event's zone.
	TitleLang string `json:"-"`
	Timezone  string `json:"-"`
	Figures
}

// Stats are the figures of the events that start from From to To
// (inclusive, days in each event's own time zone).
type Stats struct {
	From   string         `json:"from"`
	To     string         `json:"to"`
	Events []EventFigures `json:"events"`
	Total  Figures        `json:"total"`
}

// StatsRange is the period asked for, as YYYY-MM-DD; empty means the
// current calendar year.
type StatsRange struct {
	From, To string
}

// maxStatsDays bounds a period: ten years.
const maxStatsDays = 3660

func (s *Service) statsPeriod(r StatsRange) (from, to time.Time, err error) {
	f := apperr.Fields{}
	year := s.now().In(event.Zone(event.DefaultTimezone)).Year()
	from = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	to = time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
	if r.From != "" {
		if from, err = time.Parse(time.DateOnly, r.From); err != nil {
			f.Add("from", "err.stats_date")
		}
	}
	if r.To != "" {
		if to, err = time.Parse(time.DateOnly, r.To); err != nil {
			f.Add("to", "err.stats_date")
		}
	}
	if len(f) == 0 {
		if to.Before(from) {
			f.Add("to", "err.stats_to_before_from")
		} else if to.Sub(from) > maxStatsDays*24*time.Hour {
			f.Add("to", "err.stats_range", "Max", maxStatsDays/366)
		}
	}
	return from, to, f.Err()
}

// Stats returns the figures of the organisation orgID's events (every
// organisation's when orgID is 0: the network's) in the period.
func (s *Service) Stats(ctx context.Context, orgID int64, r StatsRange) (*Stats, error) {
	from, to, err := s.statsPeriod(r)
	if err != nil {
		return nil, err
	}
	var evs []struct {
		ID           int64     `db:"id"`
		Slug         string    `db:"slug"`
		Org          string    `db:"org"`
		Title        string    `db:"title"`
		TitleLang    string    `db:"default_lang"`
		StartsAt     time.Time `db:"starts_at"`
		WaitlistPeak int       `db:"waitlist_peak"`
		AsksAge      bool      `db:"asks_age"`
		Timezone     string    `db:"timezone"`
	}
	err = s.db.SelectContext(ctx, &evs, `
SELECT e.id, e.slug, o.slug AS org, COALESCE(e.title->>e.default_lang, '') AS title, e.default_lang,
       e.starts_at, e.timezone, e.waitlist_peak, (e.min_age IS NOT NULL OR e.max_age IS NOT NULL) AS asks_age
FROM events e JOIN organisations o ON o.id = e.org_id
WHERE ($1 = 0 OR e.org_id = $1) AND e.status <> 'draft'
  AND (e.starts_at AT TIME ZONE e.timezone)::date BETWEEN $2::date AND $3::date
ORDER BY e.starts_at, e.id
LIMIT 5000`, orgID, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, apperr.Wrap(err, "stats events")
	}
	out := &Stats{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Events: []EventFigures{}, Total: newFigures()}
	if len(evs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(evs))
	byID := make(map[int64]*EventFigures, len(evs))
	out.Events = make([]EventFigures, len(evs))
	now := s.now()
	for i, e := range evs {
		ids[i] = e.ID
		ef := &out.Events[i]
		*ef = EventFigures{Slug: e.Slug, Org: e.Org, Title: e.Title, TitleLang: e.TitleLang, Timezone: e.Timezone, StartsAt: e.StartsAt, Figures: newFigures()}
		ef.WaitlistPeak, ef.started = e.WaitlistPeak, !now.Before(e.StartsAt)
		if e.AsksAge {
			ef.ByAgeBand = Breakdown{}
		}
		byID[e.ID] = ef
	}
	rows, err := s.db.QueryxContext(ctx, `
SELECT r.event_id, r.lang, COALESCE(r.age_band, '') AS age_band, r.member, r.walk_in,
       (r.status = 'confirmed' OR r.released_at IS NOT NULL) AS had_place,
       count(*) AS n, sum(r.party_size) AS persons, COALESCE(sum(t.n), 0) AS checked_in
FROM registrations r
LEFT JOIN LATERAL (SELECT count(*) AS n FROM tickets t
                   WHERE t.registration_id = r.id AND t.checked_in_at IS NOT NULL) t ON true
WHERE r.event_id = ANY($1) AND r.status IN ('confirmed', 'waitlisted', 'cancelled')
GROUP BY 1, 2, 3, 4, 5, 6`, pq.Array(ids))
	if err != nil {
		return nil, apperr.Wrap(err, "stats registrations")
	}
	defer rows.Close()
	for rows.Next() {
		var g struct {
			EventID   int64  `db:"event_id"`
			Lang      string `db:"lang"`
			AgeBand   string `db:"age_band"`
			Member    bool   `db:"member"`
			WalkIn    bool   `db:"walk_in"`
			HadPlace  bool   `db:"had_place"`
			N         int    `db:"n"`
			Persons   int    `db:"persons"`
			CheckedIn int    `db:"checked_in"`
		}
		if err := rows.StructScan(&g); err != nil {
			return nil, apperr.Wrap(err, "stats registrations")
		}
		f := &byID[g.EventID].Figures
		f.Registrations += g.N
		f.PersonsCheckedIn += g.CheckedIn
		if g.HadPlace {
			f.PersonsConfirmed += g.Persons
			if g.WalkIn {
				f.WalkIns += g.Persons
			} else {
				f.advance += g.Persons
				f.advanceIn += g.CheckedIn
			}
		}
		f.ByLang.add(g.Lang, g.N)
		if f.ByAgeBand != nil {
			band := g.AgeBand
			if band == "" {
				band = AgeUnknown
			}
			f.ByAgeBand.add(band, g.N)
		}
		key := OthersKey
		if g.Member {
			key = MembersKey
		}
		f.Members.add(key, g.N)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Wrap(err, "stats registrations")
	}
	if err := s.sessionFigures(ctx, ids, byID); err != nil {
		return nil, err
	}
	for i := range out.Events {
		f := &out.Events[i].Figures
		f.rate()
		out.Total.addAll(f)
	}
	out.Total.rate()
	return out, nil
}

// sessionFigures sets the figures of the sessions of the events ids.
func (s *Service) sessionFigures(ctx context.Context, ids []int64, byID map[int64]*EventFigures) error {
	var rows []struct {
		EventID   int64     `db:"event_id"`
		Key       string    `db:"key"`
		Title     string    `db:"title"`
		TitleLang string    `db:"default_lang"`
		StartsAt  time.Time `db:"starts_at"`
		Status    string    `db:"status"`
		Confirmed int       `db:"confirmed"`
		Waiting   int       `db:"waiting"`
		CheckedIn int       `db:"checked_in"`
	}
	err := s.db.SelectContext(ctx, &rows, `
SELECT s.event_id, s.key, COALESCE(s.title->>e.default_lang, '') AS title, e.default_lang, s.starts_at, s.status,
       COALESCE(sum(r.party_size) FILTER (WHERE rs.status = 'confirmed' OR rs.released), 0) AS confirmed,
       COALESCE(sum(r.party_size) FILTER (WHERE rs.status = 'waitlisted'), 0) AS waiting,
       (SELECT count(*) FROM session_checkins c WHERE c.session_id = s.id) AS checked_in
FROM event_sessions s
JOIN events e ON e.id = s.event_id
LEFT JOIN registration_sessions rs ON rs.session_id = s.id
LEFT JOIN registrations r ON r.id = rs.registration_id
WHERE s.event_id = ANY($1)
GROUP BY s.id, e.default_lang
ORDER BY s.event_id, s.position`, pq.Array(ids))
	if err != nil {
		return apperr.Wrap(err, "stats sessions")
	}
	for _, r := range rows {
		f := &byID[r.EventID].Figures
		f.Sessions = append(f.Sessions, SessionFigures{
			Key: r.Key, Title: r.Title, TitleLang: r.TitleLang, StartsAt: r.StartsAt, Cancelled: r.Status == event.SessionCancelled,
			PersonsConfirmed: Cell(r.Confirmed), PersonsCheckedIn: Cell(r.CheckedIn), Waitlisted: Cell(r.Waiting),
		})
	}
	return nil
}

// LangOrder is the order languages are listed in: the network's.
var LangOrder = config.Languages

// Month is the persons of the events that start in one month (by the
// event's own time zone): a breakdown of the total, so its cells are
// suppressed like the others.
type Month struct {
	Month     string // YYYY-MM
	Confirmed Cell
	CheckedIn Cell
}

// ByMonth returns every month of the period, in order, with the persons of
// its events.
func (st *Stats) ByMonth() []Month {
	from, err1 := time.Parse(time.DateOnly, st.From)
	to, err2 := time.Parse(time.DateOnly, st.To)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []Month
	idx := map[string]int{}
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		idx[m.Format("2006-01")] = len(out)
		out = append(out, Month{Month: m.Format("2006-01")})
	}
	for i := range st.Events {
		e := &st.Events[i]
		if k, ok := idx[e.StartsAt.In(event.Zone(e.Timezone)).Format("2006-01")]; ok {
			out[k].Confirmed += Cell(e.PersonsConfirmed)
			out[k].CheckedIn += Cell(e.PersonsCheckedIn)
		}
	}
	return out
}

// StatsColumns are the columns of the figures' CSV: one row per figure, so
// that breakdowns of any width fit. scope is "event" or "total".
var StatsColumns = []string{"scope", "event", "org", "title", "starts_on", "figure", "category", "value"}

// Table is the figures as rows for a spreadsheet: each event's, the
// total's, and the total by month; suppressed cells as "<5".
func (st *Stats) Table() *Table {
	t := &Table{Header: append([]string(nil), StatsColumns...)}
	add := func(scope string, e *EventFigures, f *Figures) {
		var slug, org, title, on any
		if e != nil {
			slug, org, title = e.Slug, e.Org, e.Title
			on = e.StartsAt.In(event.Zone(e.Timezone)).Format(time.DateOnly)
		}
		row := func(figure, category string, v any) {
			var cat any
			if category != "" {
				cat = category
			}
			t.Rows = append(t.Rows, []any{scope, slug, org, title, on, figure, cat, v})
		}
		row("registrations", "", f.Registrations)
		row("persons_confirmed", "", f.PersonsConfirmed)
		row("persons_checked_in", "", f.PersonsCheckedIn)
		if f.NoShowRate != nil {
			row("no_show_rate", "", strconv.FormatFloat(*f.NoShowRate, 'f', 3, 64))
		} else {
			row("no_show_rate", "", nil)
		}
		row("walk_ins", "", f.WalkIns)
		row("waitlist_peak", "", f.WaitlistPeak)
		cell := func(c Cell) any {
			if c.Suppressed() {
				return c.String()
			}
			return int(c)
		}
		for _, k := range f.ByLang.Keys(LangOrder) {
			row("by_lang", k, cell(f.ByLang[k]))
		}
		for _, k := range f.ByAgeBand.Keys(AgeBands) {
			row("by_age_band", k, cell(f.ByAgeBand[k]))
		}
		for _, k := range f.Members.Keys([]string{MembersKey, OthersKey}) {
			row("members", k, cell(f.Members[k]))
		}
		// A session's figures name it in the category column.
		for _, ses := range f.Sessions {
			row("session_persons_confirmed", ses.Key, cell(ses.PersonsConfirmed))
			row("session_persons_checked_in", ses.Key, cell(ses.PersonsCheckedIn))
			row("session_waitlisted", ses.Key, cell(ses.Waitlisted))
		}
	}
	for i := range st.Events {
		add("event", &st.Events[i], &st.Events[i].Figures)
	}
	add("total", nil, &st.Total)
	for _, m := range st.ByMonth() {
		for _, x := range []struct {
			figure string
			c      Cell
		}{{"persons_confirmed_by_month", m.Confirmed}, {"persons_checked_in_by_month", m.CheckedIn}} {
			var v any = int(x.c)
			if x.c.Suppressed() {
				v = x.c.String()
			}
			t.Rows = append(t.Rows, []any{"total", nil, nil, nil, nil, x.figure, m.Month, v})
		}
	}
	return t
}

// String makes Stats printable in test failures.
func (st *Stats) String() string {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Sprint(err)
	}
	return string(b)
}
