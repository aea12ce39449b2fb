package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"treffpunkt/internal/config"
	"treffpunkt/internal/registration"
)

// startAccessWorkers runs the hold expiry of pending registrations and the
// retention job (docs/access.md) until ctx ends; the returned func waits for
// both.
func startAccessWorkers(ctx context.Context, cfg *config.Config, regs *registration.Service, log *slog.Logger) func() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		regs.RunHoldExpiry(ctx, time.Minute, log)
	}()
	go func() {
		defer wg.Done()
		regs.RunRetention(ctx, time.Duration(cfg.RetentionDays)*24*time.Hour, time.Hour, log)
	}()
	return wg.Wait
}
