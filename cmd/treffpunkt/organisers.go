package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/config"
	"treffpunkt/internal/demo"
	"treffpunkt/internal/member"
)

// wireOrganisers prepares the organisers' area: one-time links start at
// BASE_URL; sessions live in PostgreSQL, swept by startSessionSweeper
// rather than by the store's own goroutine, so that --no-workers stops it.
// Staff emails (password links, invitations) need the outbox to take them:
// until it does, svc.Auth.Mailer stays nil and a link is logged as not sent,
// never with its secret (docs/organisers.md).
func wireOrganisers(cfg *config.Config, db *sqlx.DB, svc demo.Services, log *slog.Logger) (*member.Service, scs.Store) {
	svc.Auth.BaseURL, svc.Auth.Log = cfg.BaseURL, log
	return &member.Service{DB: db}, postgresstore.NewWithCleanupInterval(db.DB, 0)
}

// sessionSweep is how often expired sessions and password links go.
const sessionSweep = 10 * time.Minute

// startSessionSweeper deletes expired sessions and password links until
// ctx ends; the returned func waits for it to stop.
func startSessionSweeper(ctx context.Context, a *auth.Service, log *slog.Logger) func() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(sessionSweep)
		defer t.Stop()
		for {
			if err := a.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
				log.Error("sweep sessions", "error", err.Error())
			}
			// Reset requests left by a crash or a failed try.
			if err := a.ProcessResets(ctx); err != nil && ctx.Err() == nil {
				log.Error("password reset requests", "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return wg.Wait
}
