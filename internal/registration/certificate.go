package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
)

// Certificates of attendance (docs/organisers.md, "Certificates"): a
// registration with at least one checked-in ticket may have one. Its row in
// certificates is written the first time it is shown and outlives the
// retention erasure, which blanks only its initials, so that /verify/{code}
// still answers "genuine" after the names are gone.
//
// The verification code follows the rule of the other secret links
// (tokens.go): a random nonce per certificate, the code HMAC(key, nonce)
// with a key derived from SECRET_KEY, and only the code's SHA-256 in the
// table. A copy of the database alone yields no verification link; the
// certificate can be printed again with the same code.

// Certificate is a certificate of attendance as printed.
type Certificate struct {
	Registration *Registration
	// Code is the verification code (26 characters of base32).
	Code     string
	Initials string
	IssuedAt time.Time
}

// Verification is what /verify/{code} may tell about a certificate: the
// event, when it was issued, and the holder's initials ("" once retention
// erased them).
type Verification struct {
	EventID   int64     `db:"event_id"`
	EventSlug string    `db:"event_slug"`
	Initials  string    `db:"initials"`
	IssuedAt  time.Time `db:"issued_at"`
}

// CodeLength is the length of a verification code.
const CodeLength = 26

// certificateCode derives the verification code of a certificate's nonce.
func certificateCode(key, nonce []byte) string { return secret.Text(key, nonce) }

func (s *Service) certificateKey(ctx context.Context) ([]byte, error) {
	return s.source().Key(ctx, secret.CertificateCodes)
}

// NormaliseCode turns a code as typed from paper (lower case, spaces or
// dashes between groups) into the code.
func NormaliseCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return unicode.ToUpper(r)
	}, code)
}

// Initials are the first letters of the first four words of a name, each
// with a full stop: "Ayşe Yılmaz" → "A. Y.". They say whose certificate it
// is to whoever holds it, and little to anyone else.
func Initials(name string) string {
	var out []string
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) {
				out = append(out, string(unicode.ToUpper(r))+".")
				break
			}
		}
		if len(out) == 4 {
			break
		}
	}
	return strings.Join(out, " ")
}

// attended is the condition on registrations r that a certificate needs: a
// checked-in ticket and the personal data still there.
const attended = `r.erased_at IS NULL AND EXISTS (
    SELECT 1 FROM tickets t WHERE t.registration_id = r.id AND t.checked_in_at IS NOT NULL)`

// CertificateByToken is the certificate of the registration behind a manage
// token, issued now if it has none yet. Without a checked-in ticket there
// is none (NotFound with its own message, for the page that explains).
func (s *Service) CertificateByToken(ctx context.Context, token string) (*Certificate, error) {
	r, err := getByToken(ctx, s.db, token)
	if err != nil {
		return nil, err
	}
	cs, err := s.issue(ctx, r.EventID, []int64{r.ID})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, apperr.New(apperr.NotFound, "cert.err.no_checkin")
	}
	cs[0].Registration = r
	return cs[0], nil
}

// EventCertificates is a certificate for every registration of the event
// with a checked-in ticket, by name: what organisers print at once.
func (s *Service) EventCertificates(ctx context.Context, eventID int64) ([]*Certificate, error) {
	rs, err := listByEvent(ctx, s.db, eventID)
	if err != nil {
		return nil, apperr.Wrap(err, "event certificates")
	}
	ids := make([]int64, 0, len(rs))
	byID := make(map[int64]*Registration, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ID)
		byID[r.ID] = r
	}
	cs, err := s.issue(ctx, eventID, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		c.Registration = byID[c.Registration.ID]
	}
	SortByName(cs, func(c *Certificate) string { return c.Registration.Name })
	return cs, nil
}

// issue writes the missing certificates of those registrations ids of the
// event that attended, in one transaction, and returns the certificates of
// all of them that did (Registration holds only the ID).
func (s *Service) issue(ctx context.Context, eventID int64, ids []int64) ([]*Certificate, error) {
	key, err := s.certificateKey(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "certificate key")
	}
	var out []*Certificate
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var todo []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
		}
		if err := tx.SelectContext(ctx, &todo, `
SELECT r.id, r.name FROM registrations r
WHERE r.id = ANY($1) AND r.event_id = $2 AND `+attended+`
  AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.registration_id = r.id)`, pq.Array(ids), eventID); err != nil {
			return fmt.Errorf("find certificates to issue: %w", err)
		}
		if len(todo) > 0 {
			regs, nonces, hashes, initials := make([]int64, len(todo)), make([][]byte, len(todo)), make([][]byte, len(todo)), make([]string, len(todo))
			for i, r := range todo {
				regs[i], nonces[i], initials[i] = r.ID, secret.Nonce(), Initials(r.Name)
				hashes[i] = secret.Hash(certificateCode(key, nonces[i]))
			}
			// Two requests for the same certificate at once: one row wins,
			// both show its code.
			if _, err := tx.ExecContext(ctx, `
INSERT INTO certificates (registration_id, event_id, nonce, code_hash, initials, issued_at)
SELECT u.reg, $2, u.nonce, u.hash, u.initials, $6
FROM unnest($1::bigint[], $3::bytea[], $4::bytea[], $5::text[]) AS u(reg, nonce, hash, initials)
ON CONFLICT (registration_id) DO NOTHING`, pq.Array(regs), eventID, pq.Array(nonces), pq.Array(hashes), pq.Array(initials), s.now()); err != nil {
				return fmt.Errorf("issue certificates: %w", err)
			}
		}
		var rows []struct {
			RegID    int64     `db:"registration_id"`
			Nonce    []byte    `db:"nonce"`
			Initials string    `db:"initials"`
			IssuedAt time.Time `db:"issued_at"`
		}
		if err := tx.SelectContext(ctx, &rows, `
SELECT c.registration_id, c.nonce, c.initials, c.issued_at
FROM certificates c JOIN registrations r ON r.id = c.registration_id
WHERE c.registration_id = ANY($1) AND c.event_id = $2 AND `+attended, pq.Array(ids), eventID); err != nil {
			return fmt.Errorf("read certificates: %w", err)
		}
		out = make([]*Certificate, len(rows))
		for i, r := range rows {
			out[i] = &Certificate{
				Registration: &Registration{ID: r.RegID}, Code: certificateCode(key, r.Nonce),
				Initials: r.Initials, IssuedAt: r.IssuedAt,
			}
		}
		return nil
	})
	return out, apperr.Wrap(err, "issue certificates")
}

// Verify finds the certificate of a verification code. An unknown code is
// NotFound: the certificate is not genuine.
func (s *Service) Verify(ctx context.Context, code string) (*Verification, error) {
	code = NormaliseCode(code)
	if len(code) != CodeLength {
		return nil, apperr.New(apperr.NotFound, "cert.err.unknown")
	}
	var v Verification
	err := s.db.GetContext(ctx, &v, `
SELECT c.event_id, e.slug AS event_slug, c.initials, c.issued_at
FROM certificates c JOIN events e ON e.id = c.event_id
WHERE c.code_hash = $1`, secret.Hash(code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "cert.err.unknown")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "verify certificate")
	}
	return &v, nil
}

// Hours is the duration a certificate states for an event: from start to
// end, where each calendar day in the event's zone counts at most
// MaxHoursPerDay (a weekend seminar from Friday evening to Sunday noon is
// not 42 hours of attendance), and an all-day event counts that much per
// day. Rounded to the half hour.
func Hours(e *event.Event) float64 {
	loc := e.Location()
	start, end := e.StartsAt.In(loc), e.EndsAt.In(loc)
	if !end.After(start) {
		return 0
	}
	var total time.Duration
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); day.Before(end); day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		from, to := maxTime(day, start), minTime(next, end)
		d := to.Sub(from)
		if e.AllDay || d > MaxHoursPerDay*time.Hour {
			d = MaxHoursPerDay * time.Hour
		}
		if d > 0 {
			total += d
		}
	}
	halves := (total + 15*time.Minute) / (30 * time.Minute)
	return float64(halves) / 2
}

// MaxHoursPerDay is the most a day of an event counts on a certificate: a
// working day.
const MaxHoursPerDay = 8

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
