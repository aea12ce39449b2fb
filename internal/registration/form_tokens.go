package registration

import (
	"context"
	"time"

	"treffpunkt/internal/apperr"
)

// ClaimFormToken records that the embedded form token with this nonce has
// been sent, so that it serves one sign-up across every instance (the
// table is in PostgreSQL, not in memory). A nonce already claimed is
// Forbidden ("embed.used"). until is the token's expiry: after it the
// token is refused anyway, so the row may go; each claim deletes a few
// expired rows, so the table holds at most the tokens of the last hours.
func (s *Service) ClaimFormToken(ctx context.Context, nonce string, until time.Time) error {
	res, err := s.db.ExecContext(ctx, `
WITH expired AS (
    DELETE FROM embed_token_uses WHERE nonce IN (
        SELECT nonce FROM embed_token_uses WHERE expires_at < now()
        LIMIT 100 FOR UPDATE SKIP LOCKED)
)
INSERT INTO embed_token_uses (nonce, expires_at) VALUES ($1, $2)
ON CONFLICT (nonce) DO NOTHING`, nonce, until)
	if err != nil {
		return apperr.Wrap(err, "claim form token")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.Forbidden, "embed.used")
	}
	return nil
}
