// Package app is the one place that builds Treffpunkt: configuration →
// database → services → the two faces (pages and JSON API, side by side),
// and the background workers, the change watcher and the metrics around
// them. treffpunkt serve, the other commands, the demo and the tests
// (internal/testapp) all build the app here, so there is one graph.
package app

import (
	"log/slog"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/cache"
	"treffpunkt/internal/calendar"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/mail"
	"treffpunkt/internal/member"
	"treffpunkt/internal/message"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/notify"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
	webfs "treffpunkt/web"
)

// Options say which parts of the app a caller needs beyond the services.
type Options struct {
	// Log receives the request log and the workers' and services' reports;
	// nil discards them.
	Log *slog.Logger
	// Mail makes every change write its emails into the outbox (serve,
	// tests). The other commands and the demo leave it off: they write no
	// mail, and a staff link is logged as not sent (docs/organisers.md).
	Mail bool
	// Watch keeps the instance's caches (API tokens, the door's events)
	// fresh with a change listener (internal/cache); Start runs it. Off,
	// every call reads the database.
	Watch bool
	// StaffMailer, when set, takes the staff emails (password links,
	// invitations) instead of the outbox: tests record them.
	StaffMailer auth.StaffMailer
	// PasswordCost is bcrypt's cost, 0 for the default; tests lower it.
	PasswordCost int
	// NoBatch makes every sign-up a transaction of its own: the baseline
	// of the benchmarks.
	NoBatch bool
}

// App is the built graph. Its fields are what the commands and the tests
// use; they are set by New and not changed afterwards.
type App struct {
	Config    *config.Config
	DB        *sqlx.DB
	Log       *slog.Logger
	Catalogue *i18n.Catalogue

	Orgs          *org.Service
	Events        *event.Service
	Registrations *registration.Service
	Auth          *auth.Service
	Members       *member.Service
	Checkins      *checkin.Service
	Calendar      *calendar.Service
	Audit         *audit.Log
	// Messages are the organisers' messages to registrants; without
	// Options.Mail it refuses to send.
	Messages *message.Service
	// Notify tells organisations of changes to their events (a worker);
	// nil without Options.Mail.
	Notify *notify.Service

	// Outbox is where changes write their emails; nil without
	// Options.Mail.
	Outbox *mail.Outbox
	// Metrics is what /metrics serves.
	Metrics *metrics.Metrics
	// Changes keeps the caches fresh; nil without Options.Watch.
	Changes *cache.Watcher
}

// Catalogue loads the pages' and mails' texts (web/i18n) with defaultLang
// as the fallback.
func Catalogue(defaultLang string) (*i18n.Catalogue, error) {
	return i18n.Load(webfs.FS, defaultLang)
}

// New builds the app on db, which is migrated.
func New(cfg *config.Config, db *sqlx.DB, o Options) (*App, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cat, err := Catalogue(cfg.DefaultLang)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Log: log, Catalogue: cat}
	if o.Watch {
		a.Changes = cache.NewWatcher(cfg.DatabaseURL, log)
	}
	var (
		regMail   registration.Mailer
		staffMail auth.StaffMailer
	)
	if o.Mail {
		if a.Outbox, err = mail.NewOutbox(db, cfg, cat); err != nil {
			return nil, err
		}
		regMail, staffMail = a.Outbox, a.Outbox
	}
	if o.StaffMailer != nil {
		staffMail = o.StaffMailer
	}
	secrets := secret.New(db, cfg.SecretKey)
	a.Registrations = registration.New(registration.Options{
		DB: db, Secrets: secrets, Mailer: regMail, Hold: time.Duration(cfg.HoldHours) * time.Hour, NoBatch: o.NoBatch,
	})
	var changed event.ChangedFunc
	if o.Mail {
		// Registrants hear of a moved or cancelled event by email.
		changed = a.Registrations.EventChanged
	}
	a.Events = event.New(event.Options{DB: db, SeatsFreed: a.Registrations.Promote, Changed: changed,
		SessionsChanged: a.Registrations.SessionsChanged})
	a.Orgs = org.New(db)
	a.Members = member.New(db)
	a.Auth = auth.New(auth.Options{
		DB: db, BaseURL: cfg.BaseURL, Mailer: staffMail, Log: log,
		PasswordCost: o.PasswordCost, Changes: a.Changes,
	})
	a.Checkins = checkin.New(checkin.Options{DB: db, Changes: a.Changes, Secrets: secrets})
	a.Calendar = calendar.New(calendar.Options{
		DB: db, Catalogue: cat, BaseURL: cfg.BaseURL, DefaultLang: cfg.DefaultLang, SecretKey: cfg.SecretKey,
	})
	a.Audit = audit.New(db)
	var msgMail message.Mailer
	if a.Outbox != nil {
		msgMail = a.Outbox
	}
	a.Messages = message.New(db, a.Events, msgMail)
	if a.Outbox != nil {
		a.Notify = notify.New(notify.Options{DB: db, Orgs: a.Orgs, Events: a.Events, Mailer: a.Outbox, DefaultLang: cfg.DefaultLang, Log: log})
	}
	a.Metrics = metrics.New(db.DB)
	if a.Changes != nil {
		a.Metrics.Caches(a.Changes)
	}
	return a, nil
}

// Start runs the change listener (with Options.Watch) until stop; stop
// returns once it has ended.
func (a *App) Start() (stop func()) {
	if a.Changes == nil {
		return func() {}
	}
	return a.Changes.Start()
}

// sessionStore keeps staff sessions in PostgreSQL, so that every instance
// sees every session; the session sweeper (workers.go) deletes expired
// ones rather than the store's own goroutine, so that --no-workers stops
// it.
func (a *App) sessionStore() *postgresstore.PostgresStore {
	return postgresstore.NewWithCleanupInterval(a.DB.DB, 0)
}
