package registration

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/database"
	"treffpunkt/internal/event"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/text"
)

// WalkInInput is a party that comes to the door without having signed up
// (POST /api/v1/checkin/walkin, the door page's walk-in form). Email is
// optional: without it nobody is mailed.
type WalkInInput struct {
	Event     string `json:"event"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	PartySize int    `json:"party_size"`
	Lang      string `json:"lang"`
}

// Staff is who acts at the door: a staff account or an API token.
type Staff struct {
	UserID, TokenID int64
}

// WalkIn lets a party in at the door of the event eventID: in one
// transaction that holds the event row's lock like a sign-up batch, a
// confirmed registration marked walk_in, its tickets, and their check-ins
// on today's event day. The hall's capacity holds as for any sign-up
// (capacity.go; the CHECK constraint is the last judge): a party that does
// not fit is refused as full, and the waitlist is not used, since someone
// standing at the door cannot wait for a mail. The registration window and
// the age and member rules are the door staff's call, not checked here.
// With an address the party gets the usual confirmation mail (tickets and
// manage link); an address that has a live registration for the event is
// refused (conflict): that person is checked in with their ticket or by
// name instead.
func (s *Service) WalkIn(ctx context.Context, eventID int64, in WalkInInput, by Staff) (*Registration, error) {
	f := apperr.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	in.Lang = strings.TrimSpace(in.Lang)
	checkName(f, in.Name)
	if strings.TrimSpace(in.Email) != "" {
		email, p := text.Email(in.Email)
		if p != "" {
			f.Add("email", p, "Max", 254)
		}
		in.Email = email
	} else {
		in.Email = ""
	}
	checkPartySize(f, in.PartySize)
	checkLang(f, in.Lang)
	k, err := s.keys(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "walk-in")
	}
	var r *Registration
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		e, err := event.LockByID(ctx, tx, eventID)
		if err != nil {
			return err
		}
		checkPartyMax(f, e, in.PartySize)
		if err := f.Err(); err != nil {
			return err
		}
		switch e.Status {
		case event.Published:
		case event.Cancelled:
			return apperr.New(apperr.Closed, "err.closed_cancelled")
		default:
			return apperr.New(apperr.NotFound, "err.event_not_found")
		}
		now := s.now()
		day, ok := checkin.DoorDay(now, e.StartsAt, e.EndsAt, e.Location())
		if !ok {
			return apperr.New(apperr.Closed, "checkin.err.walkin_not_today")
		}
		if in.Email != "" {
			_, ids, err := liveByEmails(ctx, tx, e.ID, []string{in.Email})
			if err != nil {
				return err
			}
			if ids[0] != 0 {
				return apperr.New(apperr.Conflict, "checkin.err.walkin_registered")
			}
		}
		if !fits(e, in.PartySize) {
			return apperr.New(apperr.Full, "err.full")
		}
		lang := in.Lang
		if lang == "" {
			lang = e.DefaultLang
		}
		nonce := secret.Nonce()
		r = &Registration{
			EventID: e.ID, EventSlug: e.Slug, Name: in.Name, Email: in.Email, Lang: lang,
			PartySize: in.PartySize, Status: Confirmed, ManageNonce: nonce, ManageToken: k.manageToken(nonce),
			Tickets: newTickets(in.PartySize), WalkIn: true, Answers: Answers{},
		}
		err = tx.QueryRowxContext(ctx, `
INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_nonce, manage_hash,
    consent_at, confirmed_at, walk_in)
VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $7, $8, $8, true)
RETURNING id, created_at`, e.ID, r.Name, r.Email, r.Lang, r.PartySize, nonce, secret.Hash(r.ManageToken), now).
			Scan(&r.ID, &r.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert walk-in: %w", err)
		}
		r.ConfirmedAt = &r.CreatedAt
		// The audit entry of the walk-in (written in this transaction by
		// the face that called) names the registration by its id, as the
		// entries of other actions on one registration do.
		database.Note(ctx, "registration_id", r.ID)
		for i := range r.Tickets {
			r.Tickets[i].RegistrationID = r.ID
			r.Tickets[i].CheckedInAt = &now
		}
		if err := insertTicketsOf(ctx, tx, k, e.ID, []*Registration{r}); err != nil {
			return err
		}
		if err := event.AddSeats(ctx, tx, e.ID, r.PartySize); err != nil {
			return err
		}
		e.SeatsConfirmed += r.PartySize
		if err := checkin.CheckInAll(ctx, tx, e.ID, r.ID, day, now, by.UserID, by.TokenID); err != nil {
			return err
		}
		if r.Email == "" {
			return nil
		}
		return s.mail(ctx, tx, Notice{Kind: MailConfirmed, Event: e, Registrations: []*Registration{r}})
	})
	if err != nil {
		return nil, apperr.Wrap(err, "walk-in")
	}
	return r, nil
}
