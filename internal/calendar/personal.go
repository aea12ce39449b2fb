package calendar

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
)

// A personal feed holds the registrations whose manage links were used to
// add them, all made with one email address: "one participant" is whoever
// holds both the feed's link and those manage links. Anybody can sign up
// with anybody's address, so registrations are never gathered by address
// alone (docs/calendar.md).
//
// Its token is HMAC-SHA256(key, nonce), cut to 160 bits: the registration
// page can show the link again at any time, while the database holds only
// the nonce and the token's SHA-256, and a stolen database without the key
// yields no working link. "New link" draws a new nonce, so the old token
// stops working at once.

const tokenBytes = 20

// tokenEncoding is lower-case base32 without padding: 32 characters that
// survive being typed, copied and put into URLs.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

var tokenLen = tokenEncoding.EncodedLen(tokenBytes)

type keyCache struct {
	mu  sync.Mutex
	src *secret.Source
}

// key is the HMAC key of the feed tokens, derived from SECRET_KEY, or from a
// secret generated on first use and kept in the database when SECRET_KEY is
// empty (development; internal/secret). Changing SECRET_KEY invalidates
// every personal link; registration pages then offer a new one.
func (s *Service) key(ctx context.Context) ([]byte, error) {
	s.keys.mu.Lock()
	if s.keys.src == nil {
		s.keys.src = secret.New(s.db, s.secretKey)
	}
	src := s.keys.src
	s.keys.mu.Unlock()
	return src.Key(ctx, feedPurpose)
}

// feedPurpose derives the feed tokens' key; it predates internal/secret.
const feedPurpose = "treffpunkt calendar feed tokens v1"

func tokenFor(key, nonce []byte) string {
	return tokenEncoding.EncodeToString(secret.MAC(key, nonce)[:tokenBytes])
}

// wellFormed spares the database tokens that cannot exist.
func wellFormed(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	_, err := tokenEncoding.DecodeString(token)
	return err == nil
}

type feedRow struct {
	ID        int64         `db:"id"`
	Nonce     []byte        `db:"nonce"`
	TokenHash []byte        `db:"token_hash"`
	Members   pq.Int64Array `db:"members"`
}

const selectFeed = `
SELECT f.id, f.nonce, f.token_hash,
       COALESCE(array_agg(m.registration_id ORDER BY m.registration_id)
                FILTER (WHERE m.registration_id IS NOT NULL), '{}') AS members
FROM calendar_feeds f
LEFT JOIN calendar_feed_registrations m ON m.feed_id = f.id`

// feedByToken finds a feed by its token's hash; nil when there is none.
func feedByToken(ctx context.Context, q sqlx.QueryerContext, token string) (*feedRow, error) {
	if !wellFormed(token) {
		return nil, nil
	}
	h := secret.Hash(token)
	var f feedRow
	err := sqlx.GetContext(ctx, q, &f, selectFeed+` WHERE f.token_hash = $1 GROUP BY f.id`, h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find feed: %w", err)
	}
	// The index lookup compared hashes, which tell nothing about the
	// token; compare once more in constant time all the same.
	if subtle.ConstantTimeCompare(h, f.TokenHash) != 1 {
		return nil, nil
	}
	return &f, nil
}

// feedOf finds the feed a registration is in; nil when it is in none.
func feedOf(ctx context.Context, q sqlx.QueryerContext, regID int64) (*feedRow, error) {
	var f feedRow
	err := sqlx.GetContext(ctx, q, &f, selectFeed+`
WHERE f.id = (SELECT feed_id FROM calendar_feed_registrations WHERE registration_id = $1)
GROUP BY f.id`, regID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find feed of registration: %w", err)
	}
	return &f, nil
}

func notFound() error { return apperr.New(apperr.NotFound, "err.feed_not_found") }

// PersonalStamp is Stamp for a personal feed; an unknown or replaced token
// is not found.
func (s *Service) PersonalStamp(ctx context.Context, token, lang string) (Stamp, error) {
	f, err := feedByToken(ctx, s.db, token)
	if err != nil {
		return Stamp{}, apperr.Wrap(err, "personal feed")
	}
	if f == nil {
		return Stamp{}, notFound()
	}
	st, err := registration.CalendarStamp(ctx, s.db, f.Members, window)
	if err != nil {
		return Stamp{}, apperr.Wrap(err, "personal feed")
	}
	return s.stamp(personalKey(lang), st), nil
}

func personalKey(lang string) []string { return []string{"personal", lang} }

// PersonalFeed renders a personal feed: per event the registration's status
// — confirmed as CONFIRMED, waitlisted or pending as TENTATIVE and marked so
// in SUMMARY, cancelled or expired as CANCELLED — and a cancelled event as
// cancelled.
func (s *Service) PersonalFeed(ctx context.Context, token, lang string) (Stamp, []byte, error) {
	var (
		f    *feedRow
		st   event.FeedStamp
		rows []registration.CalendarRow
		evs  []event.Event
		ses  []registration.CalendarSession
	)
	err := s.snapshot(ctx, func(tx *sqlx.Tx) error {
		var err error
		if f, err = feedByToken(ctx, tx, token); err != nil || f == nil {
			return err
		}
		if st, err = registration.CalendarStamp(ctx, tx, f.Members, window); err != nil {
			return err
		}
		if rows, err = registration.CalendarRows(ctx, tx, f.Members, window); err != nil {
			return err
		}
		ids, regIDs := make([]int64, len(rows)), make([]int64, 0, len(rows))
		for i, r := range rows {
			ids[i] = r.EventID
			if r.Status == registration.Confirmed {
				regIDs = append(regIDs, r.ID)
			}
		}
		if evs, err = event.ByIDs(ctx, tx, ids); err != nil {
			return err
		}
		ses, err = registration.CalendarSessions(ctx, tx, regIDs)
		return err
	})
	if err != nil {
		return Stamp{}, nil, apperr.Wrap(err, "personal feed")
	}
	if f == nil {
		return Stamp{}, nil, notFound()
	}
	byID := make(map[int64]*event.Event, len(evs))
	for i := range evs {
		byID[evs[i].ID] = &evs[i]
	}
	l := s.localizer(lang)
	d := doc{
		Name: l.T("event.ics_personal_name", nil), Desc: l.T("event.ics_personal_desc", nil),
		Lang: lang, BaseURL: s.baseURL,
	}
	sessionsOf := map[int64][]registration.CalendarSession{}
	for _, cs := range ses {
		sessionsOf[cs.RegistrationID] = append(sessionsOf[cs.RegistrationID], cs)
	}
	for _, r := range rows {
		e := byID[r.EventID]
		if e == nil {
			continue
		}
		d.Entries = append(d.Entries, entry{Event: e, Registration: r.Status, RegSequence: r.Sequence, RegChangedAt: r.ChangedAt})
		for _, cs := range sessionsOf[r.ID] {
			if s := e.Sessions.ByID(cs.SessionID); s != nil {
				d.Entries = append(d.Entries, entry{Event: e, Session: &sessionEntry{Session: s, Sequence: cs.Sequence, ChangedAt: cs.ChangedAt}})
			}
		}
	}
	body, err := render(s.catalogue, d)
	if err != nil {
		return Stamp{}, nil, apperr.Wrap(err, "personal feed")
	}
	return s.stamp(personalKey(lang), st), body, nil
}

// Link is what a registration page shows of the personal feed.
type Link struct {
	// Token is the personal feed's token when the registration is in one
	// whose link works.
	Token string
	// CanJoin: the registration is in no feed, and the feed whose token
	// the browser remembers holds a registration with the same address.
	CanJoin bool
}

// LinkFor says what the page of registration regID (made with email) shows;
// remembered is the token the browser remembers, or "".
func (s *Service) LinkFor(ctx context.Context, regID int64, email, remembered string) (Link, error) {
	f, err := feedOf(ctx, s.db, regID)
	if err != nil {
		return Link{}, apperr.Wrap(err, "personal feed link")
	}
	if f != nil {
		tok, err := s.working(ctx, f)
		return Link{Token: tok}, apperr.Wrap(err, "personal feed link")
	}
	if remembered == "" {
		return Link{}, nil
	}
	rf, err := feedByToken(ctx, s.db, remembered)
	if err != nil || rf == nil {
		return Link{}, apperr.Wrap(err, "personal feed link")
	}
	same, err := registration.AnyHasEmail(ctx, s.db, rf.Members, email)
	return Link{CanJoin: same}, apperr.Wrap(err, "personal feed link")
}

// working derives the feed's token; "" when it does not match the stored
// hash any more (SECRET_KEY changed).
func (s *Service) working(ctx context.Context, f *feedRow) (string, error) {
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	tok := tokenFor(key, f.Nonce)
	if subtle.ConstantTimeCompare(secret.Hash(tok), f.TokenHash) != 1 {
		return "", nil
	}
	return tok, nil
}

// CreateLink puts registration regID into a new personal feed and returns
// its token; a registration already in a feed keeps it (with a new token
// only if its old one no longer works).
func (s *Service) CreateLink(ctx context.Context, regID int64) (string, error) {
	tok, err := s.inTx(ctx, func(tx *sqlx.Tx, key []byte) (string, error) {
		f, err := lockFeedOf(ctx, tx, regID)
		if err != nil {
			return "", err
		}
		if f != nil {
			if tok := tokenFor(key, f.Nonce); subtle.ConstantTimeCompare(secret.Hash(tok), f.TokenHash) == 1 {
				return tok, nil
			}
			return renew(ctx, tx, key, f.ID)
		}
		nonce, tok := newNonce(key)
		var id int64
		if err := tx.GetContext(ctx, &id, `
INSERT INTO calendar_feeds (nonce, token_hash) VALUES ($1, $2) RETURNING id`, nonce, secret.Hash(tok)); err != nil {
			return "", fmt.Errorf("create feed: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
INSERT INTO calendar_feed_registrations (registration_id, feed_id) VALUES ($1, $2)`, regID, id); err != nil {
			return "", fmt.Errorf("add to feed: %w", err)
		}
		return tok, nil
	})
	if database.IsUniqueViolation(err, "calendar_feed_registrations_pkey") {
		// A concurrent request put it into a feed first: show that one.
		return s.CreateLink(ctx, regID)
	}
	return tok, apperr.Wrap(err, "create personal feed")
}

// JoinLink adds registration regID (made with email) to the feed whose
// token the browser remembers, when that feed holds a registration with the
// same address, and returns the feed's token.
func (s *Service) JoinLink(ctx context.Context, regID int64, email, remembered string) (string, error) {
	tok, err := s.inTx(ctx, func(tx *sqlx.Tx, _ []byte) (string, error) {
		f, err := feedByToken(ctx, tx, remembered)
		if err != nil {
			return "", err
		}
		if f == nil {
			return "", notFound()
		}
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM calendar_feeds WHERE id = $1 FOR UPDATE`, f.ID); err != nil {
			return "", fmt.Errorf("lock feed: %w", err)
		}
		same, err := registration.AnyHasEmail(ctx, tx, f.Members, email)
		if err != nil {
			return "", err
		}
		if !same {
			return "", apperr.New(apperr.Forbidden, "err.feed_other_email")
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO calendar_feed_registrations (registration_id, feed_id) VALUES ($1, $2)
ON CONFLICT (registration_id) DO NOTHING`, regID, f.ID)
		if err != nil {
			return "", fmt.Errorf("add to feed: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", apperr.New(apperr.Conflict, "err.feed_already")
		}
		return remembered, nil
	})
	return tok, apperr.Wrap(err, "join personal feed")
}

// RenewLink gives the feed of registration regID a new token — the old one
// stops working at once — or creates a feed when there is none.
func (s *Service) RenewLink(ctx context.Context, regID int64) (string, error) {
	tok, err := s.inTx(ctx, func(tx *sqlx.Tx, key []byte) (string, error) {
		f, err := lockFeedOf(ctx, tx, regID)
		if err != nil || f == nil {
			return "", err
		}
		return renew(ctx, tx, key, f.ID)
	})
	if err == nil && tok == "" {
		return s.CreateLink(ctx, regID)
	}
	return tok, apperr.Wrap(err, "renew personal feed")
}

func (s *Service) inTx(ctx context.Context, fn func(tx *sqlx.Tx, key []byte) (string, error)) (string, error) {
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	var tok string
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		tok, err = fn(tx, key)
		return err
	})
	return tok, err
}

// lockFeedOf is feedOf with the feed locked, so that renewals of one feed
// happen one after the other.
func lockFeedOf(ctx context.Context, tx *sqlx.Tx, regID int64) (*feedRow, error) {
	if _, err := tx.ExecContext(ctx, `
SELECT 1 FROM calendar_feeds WHERE id = (SELECT feed_id FROM calendar_feed_registrations WHERE registration_id = $1)
FOR UPDATE`, regID); err != nil {
		return nil, fmt.Errorf("lock feed: %w", err)
	}
	return feedOf(ctx, tx, regID)
}

func newNonce(key []byte) ([]byte, string) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	return nonce, tokenFor(key, nonce)
}

func renew(ctx context.Context, tx *sqlx.Tx, key []byte, feedID int64) (string, error) {
	nonce, tok := newNonce(key)
	if _, err := tx.ExecContext(ctx, `
UPDATE calendar_feeds SET nonce = $2, token_hash = $3, renewed_at = now() WHERE id = $1`,
		feedID, nonce, secret.Hash(tok)); err != nil {
		return "", fmt.Errorf("renew feed: %w", err)
	}
	return tok, nil
}

// DerivedKey is a key for another purpose (the embedded sign-up form's
// tokens), derived from the same secret as the feed tokens, so that it too
// is the same on every instance and survives restarts.
func (s *Service) DerivedKey(ctx context.Context, purpose string) ([]byte, error) {
	k, err := s.key(ctx)
	if err != nil {
		return nil, err
	}
	return secret.MAC(k, []byte(purpose)), nil
}
