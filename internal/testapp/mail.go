package testapp

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/config"
	"treffpunkt/internal/mail"
	"treffpunkt/internal/mail/mailtest"
)

// Sender returns a mail sender for the app that sends to srv (nil: dev
// mode), with settings fit for tests: polls every 20 ms and backs off in
// milliseconds rather than minutes. It is not running; see RunSender.
func (a *App) Sender(t testing.TB, srv *mailtest.Server) *mail.Sender {
	t.Helper()
	cfg := *a.Config
	if srv != nil {
		cfg.SMTP = &config.SMTP{Host: srv.Host, Port: srv.Port, TLS: config.TLSNone}
	}
	s := mail.NewSender(a.DB, a.Outbox, &cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	s.Poll, s.Backoff, s.MaxBackoff, s.ConnBackoffMax = 20*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	s.Timeout, s.RemindEvery = 5*time.Second, 20*time.Millisecond
	s.Remind = func(ctx context.Context) error {
		_, err := a.Registrations.Remind(ctx, 100)
		return err
	}
	return s
}

// RunSender runs s until the returned stop is called or the test ends;
// stop returns once s has stopped.
func RunSender(t testing.TB, s *mail.Sender) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// StartMail starts an in-process SMTP server and a sender for the app.
func (a *App) StartMail(t testing.TB) *mailtest.Server {
	t.Helper()
	srv := mailtest.Start(t)
	RunSender(t, a.Sender(t, srv))
	return srv
}
