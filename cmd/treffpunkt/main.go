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

	"treffpunkt/internal/app"
	"treffpunkt/internal/config"
	"treffpunkt/internal/demo"
	"treffpunkt/internal/org"
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
			if err := app.Migrate(ctx, cfg, db, log, false); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "database is up to date")
			return nil
		})
	case "demo":
		return withApp(ctx, log, func(a *app.App) error {
			return demo.Load(ctx, demoServices(a), stdout, a.Config.BaseURL, time.Now())
		})
	case "org add":
		return orgAdd(ctx, rest, stdout, log)
	case "user add":
		return userAdd(ctx, rest, stdin, stdout, log)
	case "token add":
		return tokenAdd(ctx, rest, stdout, log)
	case "token list":
		return tokenList(ctx, rest, stdout, log)
	case "token revoke":
		return tokenRevoke(ctx, rest, stdout, log)
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
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(cfg, db)
}

// withApp runs fn with the app's services on DATABASE_URL, for the
// commands: no mail is written and no cache is kept (app.Options).
func withApp(ctx context.Context, log *slog.Logger, fn func(*app.App) error) error {
	return withDB(ctx, func(cfg *config.Config, db *sqlx.DB) error {
		a, err := app.New(cfg, db, app.Options{Log: log})
		if err != nil {
			return err
		}
		return fn(a)
	})
}

// withOrg runs fn with the app and the organisation slug names, for the
// commands that act on one organisation; an unknown slug is the command's
// error.
func withOrg(ctx context.Context, log *slog.Logger, slug string, fn func(*app.App, *org.Org) error) error {
	return withApp(ctx, log, func(a *app.App) error {
		o, err := a.Orgs.BySlug(ctx, slug)
		if err != nil {
			return cliError(err)
		}
		return fn(a, o)
	})
}

// demoServices are the services the demo writes through.
func demoServices(a *app.App) demo.Services {
	return demo.Services{Orgs: a.Orgs, Events: a.Events, Registrations: a.Registrations, Auth: a.Auth, Members: a.Members}
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
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := app.Migrate(ctx, cfg, db, log, *noMigrate); err != nil {
		return err
	}
	a, err := app.New(cfg, db, app.Options{Log: log, Mail: true, Watch: true})
	if err != nil {
		return err
	}
	handler, err := a.Handler()
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
		ConnState:         a.Metrics.ConnState,
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// API tokens and the door's events are kept in memory until a
	// notification says they changed (internal/cache); the listener stops
	// once the requests have drained (srv.Shutdown below).
	defer a.Start()()
	if !*noWorkers {
		// The workers stop at the signal, while requests drain, and have
		// stopped before the database closes.
		wctx, stopWorkers := context.WithCancel(ctx)
		wait := a.StartWorkers(wctx)
		defer func() { stopWorkers(); wait() }()
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

func orgAdd(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("org add", flag.ContinueOnError)
	slug := fs.String("slug", "", "short name used in URLs (a-z, 0-9, -)")
	name := fs.String("name", "", "full name")
	email := fs.String("email", "", "contact email")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withApp(ctx, log, func(a *app.App) error {
		o, err := a.Orgs.Create(ctx, org.Org{Slug: *slug, Name: *name, Email: *email})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "added organisation %s (%s)\n", o.Slug, o.Name)
		return nil
	})
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
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
	return withOrg(ctx, log, *orgSlug, func(a *app.App, o *org.Org) error {
		if err := a.Auth.AddUser(ctx, *email, password, o.ID, *role, *admin); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "added %s as %s of %s\n", *email, *role, o.Slug)
		return nil
	})
}

func tokenAdd(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("token add", flag.ContinueOnError)
	orgSlug := fs.String("org", "", "organisation slug")
	role := fs.String("role", "", "organiser or door")
	name := fs.String("name", "", "what the token is for")
	admin := fs.Bool("admin", false, "network admin: acts as owner of every organisation (--role is ignored)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withOrg(ctx, log, *orgSlug, func(a *app.App, o *org.Org) error {
		var (
			tok string
			err error
		)
		if *admin {
			*role = "network admin"
			tok, err = a.Auth.AddAdminToken(ctx, o.ID, *name)
		} else {
			tok, err = a.Auth.AddToken(ctx, o.ID, *role, *name)
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
