package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"treffpunkt/internal/config"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/registration"
)

// startAccessWorkers runs the hold expiry of pending registrations and the
// retention job (docs/access.md) until ctx ends; the returned func waits for
// both. Each round that ends without error is recorded in the metrics.
func startAccessWorkers(ctx context.Context, cfg *config.Config, regs *registration.Service, log *slog.Logger, m *metrics.Metrics) func() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		every(ctx, time.Minute, func() {
			n, err := regs.ExpireHolds(ctx, 100)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("expire holds", "error", err.Error())
			case err == nil:
				if n > 0 {
					log.Info("expired holds", "registrations", n)
				}
				m.JobSucceeded(metrics.JobHoldExpiry)
			}
		})
	}()
	go func() {
		defer wg.Done()
		retention := time.Duration(cfg.RetentionDays) * 24 * time.Hour
		every(ctx, time.Hour, func() {
			for ctx.Err() == nil {
				n, err := regs.EraseExpired(ctx, retention, 1000)
				if err != nil {
					if ctx.Err() == nil {
						log.Error("retention", "error", err.Error())
					}
					return
				}
				if n.Registrations == 0 && n.Scans == 0 {
					m.JobSucceeded(metrics.JobRetention)
					return
				}
				log.Info("retention erased personal data", "registrations", n.Registrations, "events", n.Events, "mails", n.Mails, "checkin_scans", n.Scans)
			}
		})
	}()
	return wg.Wait
}

// every runs round at once and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, round func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		round()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
