package calendar

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
)

// Windows of all feeds (docs/calendar.md): an event stays 90 days after its
// end, so that people can look back; a cancelled event or registration stays
// 30 days after the cancellation, marked as cancelled, so that every
// subscribed calendar sees the cancellation before the entry drops out.
var window = event.Window{PastDays: 90, CancelledDays: 30}

// Service answers calendar feeds and keeps the personal feeds' links.
type Service struct {
	db *sqlx.DB
	// baseURL (BASE_URL) starts every link and names the UIDs' host.
	baseURL string
	// catalogue holds the calendar's words (calendar names, SUMMARY
	// markers, kinds); its default language should be DefaultLang.
	catalogue *i18n.Catalogue
	// defaultLang (DEFAULT_LANG) speaks for feeds asked for without ?lang=.
	defaultLang string
	// secretKey (SECRET_KEY) derives the personal feeds' tokens; when
	// empty, a secret is generated once and kept in the database.
	secretKey string

	keys   keyCache
	stamps stampCache
}

// Options are what a Service is built from (New).
type Options struct {
	DB          *sqlx.DB
	BaseURL     string
	Catalogue   *i18n.Catalogue
	DefaultLang string
	SecretKey   string
}

// New builds the calendar service.
func New(o Options) *Service {
	return &Service{db: o.DB, baseURL: o.BaseURL, catalogue: o.Catalogue, defaultLang: o.DefaultLang, secretKey: o.SecretKey}
}

// stampTTL is how long an instance answers conditional requests for a
// public feed from the stamp it last read. Public feeds say
// "max-age=300", so any cache may serve them five minutes old anyway; one
// second more lets one instance answer well over 10,000 conditional
// requests a second with a database query per second and feed.
const stampTTL = time.Second

type stampCache struct {
	mu sync.Mutex
	m  map[string]cachedStamp
}

type cachedStamp struct {
	st Stamp
	at time.Time
}

func (c *stampCache) get(key string, now time.Time) (Stamp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) >= stampTTL || now.Before(e.at) {
		return Stamp{}, false
	}
	return e.st, true
}

func (c *stampCache) put(key string, st Stamp, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Keys are feeds that exist (organisation, event, kind, language):
	// bounded, but not small; start over rather than grow without end.
	if c.m == nil || len(c.m) >= 10_000 {
		c.m = map[string]cachedStamp{}
	}
	if e, ok := c.m[key]; !ok || !at.Before(e.at) {
		c.m[key] = cachedStamp{st: st, at: at}
	}
}

// Query names a public feed: the network's (no Org, no Event), one
// organisation's, or one event's, optionally of one kind, in one language.
type Query struct {
	OrgSlug, OrgName string
	EventSlug        string
	Kind             string
	Lang             string
	// SeriesSlug: the dates of one series, one VEVENT (and UID) each.
	SeriesSlug string
}

// Stamp holds a feed's HTTP validators.
type Stamp struct {
	// ETag is strong and quoted. It is a hash of everything the body is
	// made of, so it changes when, and only when, the body does.
	ETag string
	// LastModified is the latest change of what the feed shows, including
	// an event dropping out; zero when nothing ever was in it.
	LastModified time.Time
}

// CheckQuery refuses a kind or language that does not exist.
func CheckQuery(kind, lang string) error {
	if kind != "" && !slices.Contains(event.Kinds, kind) {
		return apperr.New(apperr.BadRequest, "err.invalid")
	}
	if lang != "" && !slices.Contains(config.Languages, lang) {
		return apperr.New(apperr.BadRequest, "err.invalid")
	}
	return nil
}

func (q Query) scope() event.FeedScope {
	return event.FeedScope{OrgSlug: q.OrgSlug, Slug: q.EventSlug, Kind: q.Kind, Series: q.SeriesSlug, Window: window}
}

// Stamp gives a public feed's validators for a conditional request: from
// one small query, without reading or rendering the events, or from the
// stamp this instance read less than stampTTL ago. An event feed of an
// unknown or draft event is not found.
func (s *Service) Stamp(ctx context.Context, q Query) (Stamp, error) {
	key := strings.Join(q.key(), "\x00")
	start := time.Now()
	if st, ok := s.stamps.get(key, start); ok {
		return st, nil
	}
	fs, err := event.FeedStampOf(ctx, s.db, q.scope())
	if err != nil {
		return Stamp{}, apperr.Wrap(err, "calendar stamp")
	}
	if err := q.notFound(fs.Count); err != nil {
		return Stamp{}, err
	}
	st := s.stamp(q.key(), fs)
	s.stamps.put(key, st, start)
	return st, nil
}

// Feed renders a public feed with its validators, read in one snapshot so
// that the ETag belongs to the body.
func (s *Service) Feed(ctx context.Context, q Query) (Stamp, []byte, error) {
	var (
		st  event.FeedStamp
		evs []event.Event
	)
	start := time.Now()
	err := s.snapshot(ctx, func(tx *sqlx.Tx) error {
		var err error
		if st, err = event.FeedStampOf(ctx, tx, q.scope()); err != nil {
			return err
		}
		evs, err = event.FeedEvents(ctx, tx, q.scope())
		return err
	})
	if err != nil {
		return Stamp{}, nil, apperr.Wrap(err, "calendar feed")
	}
	if err := q.notFound(len(evs)); err != nil {
		return Stamp{}, nil, err
	}
	d := doc{Lang: q.Lang, BaseURL: s.baseURL, Entries: make([]entry, len(evs))}
	for i := range evs {
		d.Entries[i] = entry{Event: &evs[i]}
	}
	l := s.localizer(q.Lang)
	switch {
	case q.EventSlug != "", q.SeriesSlug != "":
		d.Name, _ = evs[0].Title.In(q.Lang, evs[0].DefaultLang)
		d.Desc = l.T("event.ics_event_desc", map[string]any{"Org": evs[0].OrgName})
	case q.OrgSlug != "":
		d.Name = l.T("event.ics_org_name", map[string]any{"Org": q.OrgName})
		d.Desc = l.T("event.ics_org_desc", map[string]any{"Org": q.OrgName})
	default:
		d.Name = l.T("event.ics_network_name", nil)
		d.Desc = l.T("event.ics_network_desc", nil)
	}
	if q.Kind != "" {
		d.Name = l.T("event.ics_kind", map[string]any{"Name": d.Name, "Kind": l.T("kind."+q.Kind, nil)})
	}
	body, err := render(s.catalogue, d)
	if err != nil {
		return Stamp{}, nil, apperr.Wrap(err, "calendar feed")
	}
	stamp := s.stamp(q.key(), st)
	s.stamps.put(strings.Join(q.key(), "\x00"), stamp, start)
	return stamp, body, nil
}

// key is everything besides the events that a public feed's body depends on.
func (q Query) key() []string {
	k := []string{"public", q.OrgSlug, q.OrgName, q.EventSlug, q.Kind, q.Lang}
	if q.SeriesSlug != "" {
		// Only then: the other feeds keep their ETags.
		k = append(k, "series", q.SeriesSlug)
	}
	return k
}

// notFound: an event's or a series' feed with nothing in it does not exist
// (unknown, a draft, or every date past the window).
func (q Query) notFound(n int) error {
	switch {
	case n > 0:
		return nil
	case q.EventSlug != "":
		return apperr.New(apperr.NotFound, "err.event_not_found")
	case q.SeriesSlug != "":
		return apperr.New(apperr.NotFound, "err.series_not_found")
	}
	return nil
}

// stamp turns the database's summary into HTTP validators.
func (s *Service) stamp(key []string, st event.FeedStamp) Stamp {
	h := sha256.New()
	for _, p := range append(key, formatVersion, s.baseURL, s.defaultLang, strconv.Itoa(st.Count), st.Digest) {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	out := Stamp{ETag: `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`}
	for _, t := range []*time.Time{st.Changed, st.Left} {
		if t != nil && t.After(out.LastModified) {
			out.LastModified = *t
		}
	}
	return out
}

// snapshot runs fn in a read-only transaction that sees one state of the
// database throughout.
func (s *Service) snapshot(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return fn(tx)
}

// localizer speaks lang, or the default language for feeds without one.
func (s *Service) localizer(lang string) *i18n.Localizer {
	if lang == "" || !s.catalogue.Has(lang) {
		lang = s.defaultLang
	}
	return s.catalogue.For(lang)
}
