package app

import (
	"context"
	"sync"
	"time"

	"treffpunkt/internal/mail"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/notify"
)

// sessionSweep is how often expired sessions and password links go.
const sessionSweep = 10 * time.Minute

// StartWorkers runs the background work of treffpunkt serve until ctx
// ends: the mail sender (with the reminders; needs Options.Mail), the
// organisations' notifications (needs Options.Mail), the session sweeper, the hold expiry and the retention job. wait returns
// once all have stopped. Each round that ends without error is recorded
// in the metrics.
func (a *App) StartWorkers(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	if a.Outbox != nil {
		s := mail.NewSender(a.DB, a.Outbox, a.Config, a.Log)
		s.Remind = func(ctx context.Context) error {
			_, err := a.Registrations.Remind(ctx, 500)
			if err == nil {
				a.Metrics.JobSucceeded(metrics.JobReminders)
			}
			return err
		}
		s.Succeeded = func() { a.Metrics.JobSucceeded(metrics.JobMailSender) }
		run(func() { s.Run(ctx) })
	}
	if a.Notify != nil {
		run(func() { a.Notify.Run(ctx, notify.Round) })
	}
	run(func() { a.sweepSessions(ctx) })
	run(func() { every(ctx, time.Minute, func() { a.expireHolds(ctx) }) })
	run(func() { every(ctx, time.Hour, func() { a.retention(ctx) }) })
	return wg.Wait
}

// sweepSessions deletes expired sessions and password links, and takes up
// reset requests left by a crash or a failed try.
func (a *App) sweepSessions(ctx context.Context) {
	t := time.NewTicker(sessionSweep)
	defer t.Stop()
	for {
		if err := a.Auth.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("sweep sessions", "error", err.Error())
		}
		if err := a.Auth.ProcessResets(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("password reset requests", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireHolds releases the seats of pending registrations whose
// confirmation link has expired (docs/access.md).
func (a *App) expireHolds(ctx context.Context) {
	n, err := a.Registrations.ExpireHolds(ctx, 100)
	switch {
	case err != nil && ctx.Err() == nil:
		a.Log.Error("expire holds", "error", err.Error())
	case err == nil:
		if n > 0 {
			a.Log.Info("expired holds", "registrations", n)
		}
		a.Metrics.JobSucceeded(metrics.JobHoldExpiry)
	}
}

// retention erases the personal data of events past RETENTION_DAYS, a
// batch at a time until none is left.
func (a *App) retention(ctx context.Context) {
	retention := time.Duration(a.Config.RetentionDays) * 24 * time.Hour
	for ctx.Err() == nil {
		n, err := a.Registrations.EraseExpired(ctx, retention, 1000)
		if err != nil {
			if ctx.Err() == nil {
				a.Log.Error("retention", "error", err.Error())
			}
			return
		}
		if n.Registrations == 0 && n.Scans == 0 {
			a.Metrics.JobSucceeded(metrics.JobRetention)
			return
		}
		a.Log.Info("retention erased personal data", "registrations", n.Registrations, "events", n.Events, "mails", n.Mails, "checkin_scans", n.Scans)
	}
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
