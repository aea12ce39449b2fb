package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/config"
	"treffpunkt/internal/demo"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/mail"
	"treffpunkt/internal/metrics"
	webfs "treffpunkt/web"
)

// wireMail makes every change of svc write its emails into the outbox:
// participants' and staff's (password links, invitations).
func wireMail(cfg *config.Config, db *sqlx.DB, cat *i18n.Catalogue, svc demo.Services) error {
	outbox, err := mail.NewOutbox(db, cfg, cat)
	if err != nil {
		return err
	}
	svc.Registrations.Mailer = outbox
	svc.Events.Changed = svc.Registrations.EventChanged
	svc.Auth.Mailer = outbox
	return nil
}

// startMailSender sends the outbox (and writes the reminders) until ctx
// ends; wait returns once the sender has stopped. It renders with the
// outbox wireMail made.
func startMailSender(ctx context.Context, cfg *config.Config, db *sqlx.DB, svc demo.Services, log *slog.Logger, m *metrics.Metrics) (wait func()) {
	outbox, _ := svc.Registrations.Mailer.(*mail.Outbox)
	s := mail.NewSender(db, outbox, cfg, log)
	s.Remind = func(ctx context.Context) error {
		_, err := svc.Registrations.Remind(ctx, 500)
		if err == nil {
			m.JobSucceeded(metrics.JobReminders)
		}
		return err
	}
	s.Succeeded = func() { m.JobSucceeded(metrics.JobMailSender) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	return func() { <-done }
}

// mailPreview prints one kind of email with sample data.
func mailPreview(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mail preview", flag.ContinueOnError)
	kind := fs.String("kind", "confirmed", "confirmed, waitlisted, promoted, cancelled, event_changed, event_cancelled, reminder, password_reset, staff_invite or staff_added")
	lang := fs.String("lang", "de", "the recipient's language")
	format := fs.String("format", mail.PreviewText, "text (subject and plain text), html, or eml (the whole message, for a mail client)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnv(false)
	if err != nil {
		return err
	}
	cat, err := i18n.Load(webfs.FS, cfg.DefaultLang)
	if err != nil {
		return err
	}
	outbox, err := mail.NewOutbox(nil, cfg, cat)
	if err != nil {
		return err
	}
	if err := outbox.Preview(stdout, *kind, *lang, *format, cfg.MailFrom); err != nil {
		return fmt.Errorf("mail preview: %w", err)
	}
	return nil
}
