package main

import (
	"flag"
	"fmt"
	"io"

	"treffpunkt/internal/app"
	"treffpunkt/internal/config"
	"treffpunkt/internal/mail"
)

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
	cat, err := app.Catalogue(cfg.DefaultLang)
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
