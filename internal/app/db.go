package app

import (
	"context"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/config"
	"treffpunkt/internal/database"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
)

// OpenDB opens DATABASE_URL with the pool's settings (internal/database).
func OpenDB(ctx context.Context, cfg *config.Config) (*sqlx.DB, error) {
	return database.Open(ctx, cfg.DatabaseURL)
}

// Migrate brings the schema up to date, or with checkOnly (serve
// --no-migrate) refuses to go on with an old one; then it gives the
// registrations made before migration 00016 their derived manage tokens
// and ticket codes (internal/registration, tokens.go).
func Migrate(ctx context.Context, cfg *config.Config, db *sqlx.DB, log *slog.Logger, checkOnly bool) error {
	var err error
	if checkOnly {
		err = database.CheckSchema(ctx, db.DB)
	} else {
		err = database.Migrate(ctx, db.DB)
	}
	if err != nil {
		return err
	}
	n, err := registration.UpgradeSecrets(ctx, db, secret.New(db, cfg.SecretKey))
	if n > 0 {
		log.Info("registrations given derived manage tokens and ticket codes", "registrations", n)
	}
	return err
}
