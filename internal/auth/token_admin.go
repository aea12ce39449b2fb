package auth

import (
	"context"
	"crypto/rand"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/text"
)

// Token is an API token as its organisation's owners see it: never the
// secret, which is stored only as a hash.
type Token struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	Role       string     `db:"role"`
	Admin      bool       `db:"is_admin"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// Tokens lists the organisation's API tokens, newest first, as p sees
// them. A network-admin token issued under the organisation acts on every
// organisation, so it is none of the organisation's owners' business: only
// a network admin sees it.
func (s *Service) Tokens(ctx context.Context, p *Principal, orgID int64) ([]Token, error) {
	var out []Token
	err := s.db.SelectContext(ctx, &out, `
SELECT id, name, role, is_admin, created_at, last_used_at, revoked_at
FROM api_tokens WHERE org_id = $1 AND (NOT is_admin OR $2)
ORDER BY created_at DESC, id DESC`, orgID, p.Admin)
	return out, apperr.Wrap(err, "list tokens")
}

// RevokeToken ends a token of the organisation at once; revoking twice is
// harmless. A token of another organisation is NotFound, and so is a
// network-admin token unless p is a network admin (or the command line,
// which acts as one).
func (s *Service) RevokeToken(ctx context.Context, p *Principal, orgID, tokenID int64) error {
	res, err := s.db.ExecContext(ctx, `
UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())
WHERE id = $1 AND org_id = $2 AND (NOT is_admin OR $3)`, tokenID, orgID, p.Admin)
	if err != nil {
		return apperr.Wrap(err, "revoke token")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "err.token_not_found")
	}
	// Refused at once here; the other instances hear of it from the
	// notification (internal/cache).
	s.changes.Changed("api_tokens")
	return nil
}

// AddAdminToken creates a network-admin token, which acts as owner of every
// organisation; orgID records where it was issued. Only the command line
// issues these (treffpunkt token add --admin).
func (s *Service) AddAdminToken(ctx context.Context, orgID int64, name string) (string, error) {
	if p := text.Problem(name, 100); p != "" {
		return "", apperr.Field("name", p, "Max", 100)
	}
	tok := tokenPrefix + rand.Text() + rand.Text()
	_, err := s.db.ExecContext(ctx, `
INSERT INTO api_tokens (org_id, role, name, token_hash, is_admin) VALUES ($1, 'owner', $2, $3, true)`,
		orgID, name, secret.Hash(tok))
	if err != nil {
		return "", apperr.Wrap(err, "add admin token")
	}
	return tok, nil
}
