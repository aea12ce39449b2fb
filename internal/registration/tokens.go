package registration

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/secret"
)

// Manage tokens and ticket codes are derived, not stored (docs/operations.md,
// "Secret links and SECRET_KEY"): a registration keeps a random nonce; its
// manage token is HMAC(key, nonce) and the code of seat n is
// HMAC(key', nonce || n), with
// keys derived from SECRET_KEY (internal/secret). The tables keep only the
// SHA-256 of each, by which a link is looked up. So the pages and the mails
// rendered at send time can show them again, and a copy of the database
// alone yields none.
//
// A registration made before migration 00016 has its old token's and old
// codes' hashes in legacy_manage_hash / legacy_code_hash, so the links
// mailed then keep working; UpgradeSecrets gives it a nonce, and with it a
// new token and new codes for what is shown from then on.

// keys are the derivation keys of one service.
type keys struct {
	manage, ticket []byte
}

// loadKeys returns the derivation keys of src.
func loadKeys(ctx context.Context, src *secret.Source) (keys, error) {
	m, err := src.Key(ctx, secret.ManageTokens)
	if err != nil {
		return keys{}, err
	}
	t, err := src.Key(ctx, secret.TicketCodes)
	if err != nil {
		return keys{}, err
	}
	return keys{manage: m, ticket: t}, nil
}

// source is the service's key source: Secrets, or one that reads
// SECRET_KEY's stand-in from the database (development, tests).
func (s *Service) source() *secret.Source {
	s.srcOnce.Do(func() {
		if s.secrets == nil {
			s.secrets = secret.New(s.db, "")
		}
	})
	return s.secrets
}

func (s *Service) keys(ctx context.Context) (keys, error) {
	return loadKeys(ctx, s.source())
}

func (k keys) manageToken(nonce []byte) string { return secret.ManageToken(k.manage, nonce) }

func (k keys) ticketCode(nonce []byte, seat int) string {
	return secret.TicketCode(k.ticket, nonce, seat)
}

// reveal fills in the manage tokens and ticket codes of rs.
func (k keys) reveal(rs ...*Registration) {
	for _, r := range rs {
		if r == nil {
			continue
		}
		r.ManageToken = k.manageToken(r.ManageNonce)
		for i := range r.Tickets {
			r.Tickets[i].Code = k.ticketCode(r.ManageNonce, r.Tickets[i].Seat)
		}
	}
}

// reveal fills in the manage tokens and ticket codes of rs.
func (s *Service) reveal(ctx context.Context, rs ...*Registration) error {
	k, err := s.keys(ctx)
	if err != nil {
		return err
	}
	k.reveal(rs...)
	return nil
}

// ensureNonce gives r a nonce (and so a manage token and ticket codes)
// when it has none yet: a registration from before migration 00016 that
// UpgradeSecrets has not reached.
func (k keys) ensureNonce(ctx context.Context, tx *sqlx.Tx, r *Registration) error {
	if r.ManageNonce != nil {
		return nil
	}
	nonce := secret.Nonce()
	var got []byte
	err := tx.GetContext(ctx, &got, `
UPDATE registrations SET manage_nonce = COALESCE(manage_nonce, $2),
    manage_hash = CASE WHEN manage_nonce IS NULL THEN $3 ELSE manage_hash END
WHERE id = $1 RETURNING manage_nonce`, r.ID, nonce, secret.Hash(k.manageToken(nonce)))
	if err != nil {
		return fmt.Errorf("registration %d nonce: %w", r.ID, err)
	}
	r.ManageNonce = got
	// Tickets it has already (from before 00016) get their new codes' hashes.
	var ts []struct {
		ID   int64 `db:"id"`
		Seat int   `db:"seat"`
	}
	if err := tx.SelectContext(ctx, &ts, `SELECT id, seat FROM tickets WHERE registration_id = $1 AND code_hash IS NULL`, r.ID); err != nil {
		return fmt.Errorf("registration %d tickets: %w", r.ID, err)
	}
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET code_hash = $2 WHERE id = $1`, t.ID, secret.Hash(k.ticketCode(got, t.Seat))); err != nil {
			return fmt.Errorf("registration %d tickets: %w", r.ID, err)
		}
	}
	return nil
}

// upgradeChunk is how many registrations UpgradeSecrets writes per statement.
const upgradeChunk = 1000

// UpgradeSecrets gives every registration without a nonce (made before
// migration 00016) one, with the hashes of its new manage token and ticket
// codes; their old ones keep working through the legacy hashes. It runs at
// start-up after the migrations; running it again, or on several instances
// at once, does nothing twice. It returns how many registrations it gave a
// nonce.
func UpgradeSecrets(ctx context.Context, db *sqlx.DB, src *secret.Source) (int, error) {
	k, err := loadKeys(ctx, src)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		var ids []int64
		if err := db.SelectContext(ctx, &ids, `
SELECT id FROM registrations WHERE manage_nonce IS NULL ORDER BY id LIMIT $1`, upgradeChunk); err != nil {
			return total, fmt.Errorf("upgrade secrets: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		nonces, hashes := make([][]byte, len(ids)), make([][]byte, len(ids))
		for i := range ids {
			nonces[i] = secret.Nonce()
			hashes[i] = secret.Hash(k.manageToken(nonces[i]))
		}
		err := func() error {
			tx, err := db.BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // after Commit a no-op
			var done []struct {
				ID    int64  `db:"id"`
				Nonce []byte `db:"manage_nonce"`
			}
			if err := tx.SelectContext(ctx, &done, `
UPDATE registrations r SET manage_nonce = u.nonce, manage_hash = u.hash
FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u(id, nonce, hash)
WHERE r.id = u.id AND r.manage_nonce IS NULL
RETURNING r.id, r.manage_nonce`, pq.Array(ids), pq.Array(nonces), pq.Array(hashes)); err != nil {
				return err
			}
			nonceOf := make(map[int64][]byte, len(done))
			regIDs := make([]int64, len(done))
			for i, d := range done {
				nonceOf[d.ID], regIDs[i] = d.Nonce, d.ID
			}
			var ts []struct {
				ID    int64 `db:"id"`
				RegID int64 `db:"registration_id"`
				Seat  int   `db:"seat"`
			}
			if err := tx.SelectContext(ctx, &ts, `
SELECT id, registration_id, seat FROM tickets WHERE registration_id = ANY($1)`, pq.Array(regIDs)); err != nil {
				return err
			}
			tIDs, tHashes := make([]int64, len(ts)), make([][]byte, len(ts))
			for i, t := range ts {
				tIDs[i], tHashes[i] = t.ID, secret.Hash(k.ticketCode(nonceOf[t.RegID], t.Seat))
			}
			if len(tIDs) > 0 {
				if _, err := tx.ExecContext(ctx, `
UPDATE tickets t SET code_hash = u.hash
FROM unnest($1::bigint[], $2::bytea[]) AS u(id, hash) WHERE t.id = u.id`, pq.Array(tIDs), pq.Array(tHashes)); err != nil {
					return err
				}
			}
			total += len(done)
			return tx.Commit()
		}()
		if err != nil {
			return total, fmt.Errorf("upgrade secrets: %w", err)
		}
	}
}
