// Command treffpunkt is the whole service: the web server with its
// background workers, and the administrative commands of DESIGN.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // event time zones must resolve on hosts without zoneinfo

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/cache"
	"treffpunkt/internal/calendar"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/config"
	"treffpunkt/internal/database"
	"treffpunkt/internal/demo"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/member"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/web"
	webfs "treffpunkt/web"
)

const usage = `usage: treffpunkt <command> [flags]

commands:
  serve [--no-migrate] [--no-workers]   run the web server
  migrate                                apply database migrations
  demo                                   load the demo network (idempotent)
  org add --slug S --name N [--email E]  add an organisation
  user add --email E --org S --role owner|organiser|door
                                         add a staff account (password from stdin)
  token add --org S --role organiser|door [--name N] [--admin]
                                         add an API token (printed last);
                                         --admin: a network-admin token
  token list --org S                     list an organisation's API tokens
                                         (network-admin ones included)
  token revoke --org S --id N            revoke an API token at once
  mail preview [--kind K] [--lang L] [--format text|html|eml]
                                         show an email with sample data

configuration comes from the environment; see README.md.`

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "treffpunkt:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "org" || cmd == "user" || cmd == "token") && len(rest) > 0 && rest[0] == "add" {
		cmd, rest = cmd+" add", rest[1:]
	}
	if cmd == "token" && len(rest) > 0 && (rest[0] == "list" || rest[0] == "revoke") {
		cmd, rest = "token "+rest[0], rest[1:]
	}
	if cmd == "mail" && len(rest) > 0 && rest[0] == "preview" {
		cmd, rest = "mail preview", rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, log)
	case "migrate":
		return withDB(ctx, func(cfg *config.Config, db *sqlx.DB) error {
			if err := database.Migrate(ctx, db.DB); err != nil {
				return err
			}
			if err := upgradeSecrets(ctx, db, cfg, log); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "database is up to date")
			return nil
		})
	case "demo":
		return withDB(ctx, func(cfg *config.Config, db *sqlx.DB) error {
			return demo.Load(ctx, services(db, cfg.SecretKey), stdout, cfg.BaseURL, time.Now())
		})
	case "org add":
		return orgAdd(ctx, rest, stdout)
	case "user add":
		return userAdd(ctx, rest, stdin, stdout)
	case "token add":
		return tokenAdd(ctx, rest, stdout)
	case "token list":
		return tokenList(ctx, rest, stdout)
	case "token revoke":
		return tokenRevoke(ctx, rest, stdout)
	case "mail preview":
		return mailPreview(rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", strings.Join(args, " "), usage)
}

func withDB(ctx context.Context, fn func(*config.Config, *sqlx.DB) error) error {
	cfg, err := config.FromEnv(true)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(cfg, db)
}

// withOrg runs fn with the services and the organisation slug names, for
// the commands that act on one organisation; an unknown slug is the
// command's error.
func withOrg(ctx context.Context, slug string, fn func(demo.Services, *org.Org) error) error {
	return withDB(ctx, func(cfg *config.Config, db *sqlx.DB) error {
		svc := services(db, cfg.SecretKey)
		o, err := svc.Orgs.BySlug(ctx, slug)
		if err != nil {
			return cliError(err)
		}
		return fn(svc, o)
	})
}

// services wires the domain services on one database; secretKey is
// SECRET_KEY, from which manage tokens and ticket codes are derived.
func services(db *sqlx.DB, secretKey string) demo.Services {
	regs := &registration.Service{DB: db, Secrets: &secret.Source{DB: db, SecretKey: secretKey}}
	return demo.Services{
		Orgs:          &org.Service{DB: db},
		Events:        &event.Service{DB: db, SeatsFreed: regs.Promote},
		Registrations: regs,
		Auth:          &auth.Service{DB: db},
		Members:       &member.Service{DB: db},
	}
}

func serve(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	noMigrate := fs.Bool("no-migrate", false, "do not migrate; refuse to start on an old schema")
	noWorkers := fs.Bool("no-workers", false, "do not run background workers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnv(true)
	if err != nil {
		return err
	}
	if err := requireSecretKey(cfg); err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if *noMigrate {
		err = database.CheckSchema(ctx, db.DB)
	} else {
		err = database.Migrate(ctx, db.DB)
	}
	if err != nil {
		return err
	}
	if err := upgradeSecrets(ctx, db, cfg, log); err != nil {
		return err
	}
	cat, err := i18n.Load(webfs.FS, cfg.DefaultLang)
	if err != nil {
		return err
	}
	svc := services(db, cfg.SecretKey)
	svc.Registrations.Hold = time.Duration(cfg.HoldHours) * time.Hour
	if err := wireMail(cfg, db, cat, svc); err != nil {
		return err
	}
	members, sessions := wireOrganisers(cfg, db, svc, log)
	m := metrics.New(db.DB)
	// API tokens and the door's events are kept in memory until a
	// notification says they changed (internal/cache).
	changes := cache.NewWatcher(cfg.DatabaseURL, log)
	svc.Auth.Changes = changes
	m.Caches(changes)
	handler, err := web.NewRouter(web.Deps{
		Config: cfg, Log: log, Catalogue: cat,
		Events: svc.Events, Registrations: svc.Registrations, Orgs: svc.Orgs, Auth: svc.Auth,
		Members: members, SessionStore: sessions, Checkins: &checkin.Service{DB: db, Changes: changes, Secrets: svc.Registrations.Secrets},
		Calendar: &calendar.Service{DB: db, Catalogue: cat, BaseURL: cfg.BaseURL, DefaultLang: cfg.DefaultLang, SecretKey: cfg.SecretKey},
		Ready:    db.PingContext,
		Metrics:  m,
		Audit:    &audit.Log{DB: db},
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Stops once the requests have drained (srv.Shutdown below).
	defer changes.Start()()
	if !*noWorkers {
		// The workers stop at the signal, while requests drain, and have
		// stopped before the database closes.
		wctx, stopWorkers := context.WithCancel(ctx)
		wait := startMailSender(wctx, cfg, db, svc, log, m)
		waitSweeper := startSessionSweeper(wctx, svc.Auth, log)
		waitAccess := startAccessWorkers(wctx, cfg, svc.Registrations, log, m)
		defer func() { stopWorkers(); wait(); waitSweeper(); waitAccess() }()
	}
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		// Profiles for the benchmarks (docs/performance.md), on a separate
		// listener that should stay on loopback.
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			ps := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			if err := ps.ListenAndServe(); err != nil {
				log.Error("pprof listener", "error", err.Error())
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("serving", "addr", cfg.ListenAddr, "base_url", cfg.BaseURL)
	fmt.Fprintf(stdout, "Treffpunkt is running: %s (listening on %s; Ctrl-C stops it)\n", cfg.BaseURL, cfg.ListenAddr)

	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func orgAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("org add", flag.ContinueOnError)
	slug := fs.String("slug", "", "short name used in URLs (a-z, 0-9, -)")
	name := fs.String("name", "", "full name")
	email := fs.String("email", "", "contact email")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withDB(ctx, func(_ *config.Config, db *sqlx.DB) error {
		o, err := (&org.Service{DB: db}).Create(ctx, org.Org{Slug: *slug, Name: *name, Email: *email})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "added organisation %s (%s)\n", o.Slug, o.Name)
		return nil
	})
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	email := fs.String("email", "", "login email")
	orgSlug := fs.String("org", "", "organisation slug")
	role := fs.String("role", "", "owner, organiser or door")
	admin := fs.Bool("admin", false, "network admin (may act on every organisation)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	return withOrg(ctx, *orgSlug, func(svc demo.Services, o *org.Org) error {
		if err := svc.Auth.AddUser(ctx, *email, password, o.ID, *role, *admin); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "added %s as %s of %s\n", *email, *role, o.Slug)
		return nil
	})
}

func tokenAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token add", flag.ContinueOnError)
	orgSlug := fs.String("org", "", "organisation slug")
	role := fs.String("role", "", "organiser or door")
	name := fs.String("name", "", "what the token is for")
	admin := fs.Bool("admin", false, "network admin: acts as owner of every organisation (--role is ignored)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withOrg(ctx, *orgSlug, func(svc demo.Services, o *org.Org) error {
		var (
			tok string
			err error
		)
		if *admin {
			*role = "network admin"
			tok, err = svc.Auth.AddAdminToken(ctx, o.ID, *name)
		} else {
			tok, err = svc.Auth.AddToken(ctx, o.ID, *role, *name)
		}
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "API token for %s (%s); it is shown only now:\n%s\n", o.Slug, *role, tok)
		return nil
	})
}

// requireSecretKey refuses a public (https) installation without
// SECRET_KEY: the generated stand-in lives in the database, and then a copy
// of the database alone would yield every manage link, ticket code and
// feed (docs/operations.md, "Secret links and SECRET_KEY").
func requireSecretKey(cfg *config.Config) error {
	if cfg.SecretKey == "" && strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https:") {
		return errors.New("SECRET_KEY is empty but BASE_URL is https: set SECRET_KEY to a random string of at least 32 characters " +
			"(for example `openssl rand -base64 48`) before serving the public; without it the database alone would yield every " +
			"manage link, ticket code and calendar feed. An empty SECRET_KEY is for development over http only")
	}
	return nil
}

// upgradeSecrets gives the registrations made before migration 00016 their
// derived manage tokens and ticket codes (internal/registration, tokens.go).
func upgradeSecrets(ctx context.Context, db *sqlx.DB, cfg *config.Config, log *slog.Logger) error {
	n, err := registration.UpgradeSecrets(ctx, db, &secret.Source{DB: db, SecretKey: cfg.SecretKey})
	if n > 0 {
		log.Info("registrations given derived manage tokens and ticket codes", "registrations", n)
	}
	return err
}
