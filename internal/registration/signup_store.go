package registration

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
)

// store writes the plan that decide made for a batch on the locked event e:
// the mails to strangers and to addresses that signed up again, the new
// registrations with their tokens, their tickets, the seat counter and the
// mails of the new registrations, grouped by kind. It returns the new
// registrations in the plan's order, with the ids the database assigned.
func (s *Service) store(ctx context.Context, tx *sqlx.Tx, sk keys, e *event.Event, p *plan, now time.Time) ([]*Registration, error) {
	e.SeatsConfirmed += p.seats
	e.WaitlistLength = p.waitlist
	if err := s.mailNotMembers(ctx, tx, e, p.strangers); err != nil {
		return nil, err
	}
	if err := s.mailAgain(ctx, tx, e, p.again); err != nil {
		return nil, err
	}
	if len(p.regs) == 0 {
		return nil, nil
	}
	regs := make([]*Registration, len(p.regs))
	rows := make([]newRegistration, len(p.regs))
	for k := range p.regs {
		regs[k], rows[k] = newRows(sk, e, &p.regs[k], &p.holdUntil)
	}
	if err := insertRegistrations(ctx, tx, e.ID, now, rows, regs); err != nil {
		return nil, err
	}
	if err := insertTicketsOf(ctx, tx, sk, e.ID, regs); err != nil {
		return nil, err
	}
	if err := storeSessions(ctx, tx, e, p, regs); err != nil {
		return nil, err
	}
	if p.seats != 0 {
		if err := event.AddSeats(ctx, tx, e.ID, p.seats); err != nil {
			return nil, err
		}
	}
	byKind := map[string][]*Registration{}
	var kinds []string
	for _, r := range regs {
		kind := MailWaitlisted
		switch {
		case r.Status == Pending:
			kind = MailConfirmEmail
		case r.Status == Confirmed:
			kind = MailConfirmed
		case r.Status == Applied:
			kind = MailApplied
		}
		if byKind[kind] == nil {
			kinds = append(kinds, kind)
		}
		byKind[kind] = append(byKind[kind], r)
	}
	for _, kind := range kinds {
		if err := s.mail(ctx, tx, Notice{Kind: kind, Event: e, Registrations: byKind[kind]}); err != nil {
			return nil, err
		}
	}
	return regs, nil
}

// newRows makes a planned registration real: its secrets (the manage
// token's nonce, the confirmation link's token) and its tickets, as the
// participant gets them and as the table keeps them (hashed).
func newRows(sk keys, e *event.Event, pr *planned, holdUntil *time.Time) (*Registration, newRegistration) {
	su := &pr.su
	nonce := secret.Nonce()
	r := &Registration{
		EventID: e.ID, EventSlug: e.Slug, Name: su.Name, Email: su.Email, Lang: pr.lang,
		PartySize: su.PartySize, Status: pr.status, ManageNonce: nonce, ManageToken: sk.manageToken(nonce),
		Answers: su.answers,
	}
	n := newRegistration{
		Name: su.Name, Email: su.Email, Lang: pr.lang, PartySize: su.PartySize,
		MemberNumber: su.MemberNumber, BirthDate: su.birthDate, Status: pr.status,
		ManageNonce: nonce, ManageHash: secret.Hash(r.ManageToken), Answers: su.answers,
		AgeBand: ageBand(su.birthDate, e), Member: e.Access == event.AccessMembers || su.MemberNumber != "",
	}
	switch pr.status {
	case Pending:
		r.ConfirmToken = newSecret()
		n.SeatsHeld, n.ConfirmHash, n.HoldExpiresAt = pr.held, secret.Hash(r.ConfirmToken), holdUntil
		r.SeatsHeld, r.HoldExpiresAt = pr.held, holdUntil
	case Confirmed:
		r.Tickets = newTickets(su.PartySize)
		sk.reveal(r)
	default:
		r.WaitlistPosition = pr.position
	}
	return r, n
}

// newTickets returns the seats of a party of n; their codes are derived
// from the registration's nonce (tokens.go).
func newTickets(n int) []Ticket {
	ts := make([]Ticket, n)
	for k := range ts {
		ts[k] = Ticket{Seat: k + 1}
	}
	return ts
}

// batchKeys returns the keys by which the batch's addresses are compared
// before the database is asked: lower case for ASCII addresses (lower()
// agrees in every locale), the address itself otherwise, so that the
// database's lower() decides (through the unique index).
func batchKeys(emails []string) []string {
	keys := make([]string, len(emails))
	for k, e := range emails {
		keys[k] = e
		if isASCII(e) {
			keys[k] = strings.ToLower(e)
		}
	}
	return keys
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// liveByEmails returns, for each address, the key the database compares
// addresses by (lower(), the unique index's expression) and the id of the
// event's live registration with that address, or 0. The subquery per
// address spells out the unique index's predicate so that the planner may
// use it (with stale statistics it may still prefer another index).
func liveByEmails(ctx context.Context, tx *sqlx.Tx, eventID int64, emails []string) ([]string, []int64, error) {
	keys := make([]string, len(emails))
	ids := make([]int64, len(emails))
	if len(emails) == 0 {
		return keys, ids, nil
	}
	rows, err := tx.QueryContext(ctx, `
SELECT u.ord, lower(u.email), COALESCE((
    SELECT r.id FROM registrations r
    WHERE r.event_id = $1 AND lower(r.email) = lower(u.email)
      AND r.status IN ('pending', 'confirmed', 'waitlisted', 'applied') AND r.erased_at IS NULL AND r.email <> ''), 0)
FROM unnest($2::text[]) WITH ORDINALITY AS u(email, ord)`, eventID, pq.Array(emails))
	if err != nil {
		return nil, nil, fmt.Errorf("find registrations by email: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ord int
		var key string
		var id int64
		if err := rows.Scan(&ord, &key, &id); err != nil {
			return nil, nil, fmt.Errorf("find registrations by email: %w", err)
		}
		keys[ord-1], ids[ord-1] = key, id
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find registrations by email: %w", err)
	}
	return keys, ids, nil
}

// insertRegistrations writes rows with one statement and sets each
// registration's id and times from what the database assigned.
func insertRegistrations(ctx context.Context, tx *sqlx.Tx, eventID int64, consent time.Time, rows []newRegistration, regs []*Registration) error {
	n := len(rows)
	var (
		names, emails, langs, members, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		nonces, manageHashes                    = make([][]byte, n), make([][]byte, n)
		births, hashes, bands                   = make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n)
		memberFlags                             = make([]bool, n)
		answers                                 = make([]string, n)
		parties, held                           = make([]int64, n), make([]int64, n)
		holdUntil                               *time.Time
	)
	for k, r := range rows {
		names[k], emails[k], langs[k], members[k], statuses[k] = r.Name, r.Email, r.Lang, r.MemberNumber, r.Status
		nonces[k], manageHashes[k] = r.ManageNonce, r.ManageHash
		parties[k], held[k] = int64(r.PartySize), int64(r.SeatsHeld)
		bands[k], memberFlags[k] = sql.NullString{String: r.AgeBand, Valid: r.AgeBand != ""}, r.Member
		if r.BirthDate != nil {
			births[k] = sql.NullString{String: r.BirthDate.Format(time.DateOnly), Valid: true}
		}
		if r.ConfirmHash != nil {
			hashes[k] = sql.NullString{String: hex.EncodeToString(r.ConfirmHash), Valid: true}
		}
		if r.HoldExpiresAt != nil {
			holdUntil = r.HoldExpiresAt
		}
		answers[k] = "{}"
		if len(r.Answers) > 0 {
			b, err := json.Marshal(map[string]any(r.Answers))
			if err != nil {
				return fmt.Errorf("insert registrations: answers: %w", err)
			}
			answers[k] = string(b)
		}
	}
	// The waitlist's order is the sequence's: nextval runs in the SELECT's
	// order, which is the batch's order.
	q, err := tx.QueryContext(ctx, `
INSERT INTO registrations (event_id, name, email, lang, party_size, member_number,
    birth_date, status, manage_nonce, manage_hash, consent_at, confirmed_at,
    confirm_token_hash, seats_held, hold_expires_at, answers, address_unconfirmed, age_band, member, applied_at)
SELECT $1, u.name, u.email, u.lang, u.party, u.member, u.birth::date, u.status, u.nonce, u.mhash, $2,
    CASE WHEN u.status = 'confirmed' THEN now() END,
    decode(u.hash, 'hex'), u.held, CASE WHEN u.status = 'pending' THEN $3::timestamptz END,
    u.answers::jsonb, u.status = 'pending', u.band, u.is_member, CASE WHEN u.status = 'applied' THEN now() END
FROM unnest($4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[],
            $10::text[], $11::bytea[], $12::bytea[], $13::text[], $14::int[], $15::text[], $16::text[], $17::bool[])
     WITH ORDINALITY AS u(name, email, lang, party, member, birth, status, nonce, mhash, hash, held, answers, band, is_member, ord)
ORDER BY u.ord
ON CONFLICT (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted', 'applied') AND erased_at IS NULL AND email <> ''
    DO NOTHING
RETURNING id, manage_hash, created_at`,
		eventID, consent, holdUntil, pq.Array(names), pq.Array(emails), pq.Array(langs), pq.Array(parties),
		pq.Array(members), pq.Array(births), pq.Array(statuses), pq.Array(nonces), pq.Array(manageHashes),
		pq.Array(hashes), pq.Array(held), pq.Array(answers), pq.Array(bands), pq.Array(memberFlags))
	if err != nil {
		return fmt.Errorf("insert registrations: %w", err)
	}
	defer q.Close()
	byHash := make(map[string]*Registration, n)
	for k, r := range regs {
		byHash[string(rows[k].ManageHash)] = r
	}
	got := 0
	for q.Next() {
		var id int64
		var hash []byte
		var created time.Time
		if err := q.Scan(&id, &hash, &created); err != nil {
			return fmt.Errorf("insert registrations: %w", err)
		}
		r := byHash[string(hash)]
		if r == nil {
			return errors.New("insert registrations: unknown token returned")
		}
		r.ID, r.CreatedAt = id, created
		if r.Status == Confirmed {
			r.ConfirmedAt = &r.CreatedAt
		}
		for k := range r.Tickets {
			r.Tickets[k].RegistrationID = id
		}
		got++
	}
	if err := q.Err(); err != nil {
		return fmt.Errorf("insert registrations: %w", err)
	}
	if got != n {
		return errAddressTaken
	}
	return nil
}

// insertTicketsOf writes the tickets of every registration in regs with
// one statement.
func insertTicketsOf(ctx context.Context, tx *sqlx.Tx, k keys, eventID int64, regs []*Registration) error {
	var regIDs, seats []int64
	var codes [][]byte
	for _, r := range regs {
		for i := range r.Tickets {
			t := &r.Tickets[i]
			t.Code = k.ticketCode(r.ManageNonce, t.Seat)
			regIDs = append(regIDs, r.ID)
			seats = append(seats, int64(t.Seat))
			codes = append(codes, secret.Hash(t.Code))
		}
	}
	if len(codes) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO tickets (registration_id, event_id, seat, code_hash)
SELECT t.reg, $1, t.seat, t.code
FROM unnest($2::bigint[], $3::int[], $4::bytea[]) AS t(reg, seat, code)`,
		eventID, pq.Array(regIDs), pq.Array(seats), pq.Array(codes))
	if err != nil {
		return fmt.Errorf("insert tickets: %w", err)
	}
	return nil
}
