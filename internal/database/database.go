// Package database opens PostgreSQL, migrates it, runs transactions and maps
// PostgreSQL errors to the application's error codes.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"treffpunkt/internal/apperr"
	"treffpunkt/migrations"
)

// ConnectTimeout bounds each new connection to PostgreSQL unless
// DATABASE_URL sets connect_timeout itself: a server that does not answer
// (a network partition rather than a refused connection) must not hold
// requests for long.
const ConnectTimeout = 5 * time.Second

// Open connects and checks the connection.
func Open(ctx context.Context, dsn string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", withConnectTimeout(dsn))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// withConnectTimeout adds connect_timeout to a postgres:// URL that has none.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn
	}
	q := u.Query()
	if q.Has("connect_timeout") {
		return dsn
	}
	q.Set("connect_timeout", fmt.Sprint(int(ConnectTimeout.Seconds())))
	u.RawQuery = q.Encode()
	return u.String()
}

func provider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	// Instances that start at the same time (a rolling deploy) migrate one
	// after the other: goose holds a PostgreSQL advisory lock meanwhile.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
}

// Migrate applies every pending migration, each in its own transaction.
func Migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// CheckSchema refuses to go on when the database lags behind the binary's
// migrations (serve --no-migrate against an old schema).
func CheckSchema(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check schema version: %w", err)
	}
	if pending {
		return errors.New("the database schema is older than this binary: run `treffpunkt migrate` first")
	}
	return nil
}

// WithTx runs fn in a transaction: committed when fn returns nil, rolled back
// otherwise (and on panic).
func WithTx(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	hook, _ := ctx.Value(hookKey{}).(TxHook)
	if hook != nil {
		if err := hook.BeforeCommit(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if hook != nil {
		hook.Committed()
	}
	return nil
}

// TxHook is work that joins the transactions WithTx commits for a context:
// the audit log (package audit) writes its entry in the action's own
// transaction this way, without every service knowing about it.
type TxHook interface {
	// BeforeCommit runs in the transaction after fn succeeded; an error
	// rolls the transaction back.
	BeforeCommit(ctx context.Context, tx *sqlx.Tx) error
	// Committed runs after the commit.
	Committed()
}

type hookKey struct{}

// Noter is a TxHook that also takes note of what the transaction learns
// before it commits, such as the id of a row it created: the audit log's
// entry of a walk-in names the registration the walk-in made, and that id
// exists only inside the transaction that writes both.
type Noter interface {
	Note(key string, value any)
}

// Note hands key and value to the hook of ctx when it takes notes, and
// does nothing otherwise (no hook, or one that does not).
func Note(ctx context.Context, key string, value any) {
	if n, ok := ctx.Value(hookKey{}).(Noter); ok {
		n.Note(key, value)
	}
}

// WithHook returns ctx with h joining every transaction of WithTx under it.
func WithHook(ctx context.Context, h TxHook) context.Context {
	return context.WithValue(ctx, hookKey{}, h)
}

// Constraint returns the name of the violated constraint and the SQLSTATE
// when err is a PostgreSQL integrity error.
func Constraint(err error) (name, code string, ok bool) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "23" {
		return pqErr.Constraint, string(pqErr.Code), true
	}
	return "", "", false
}

// IsUniqueViolation reports a 23505 on the given constraint (any when empty).
func IsUniqueViolation(err error, constraint string) bool {
	name, code, ok := Constraint(err)
	return ok && code == "23505" && (constraint == "" || name == constraint)
}

// The services' errors carry the code "unavailable" for such errors
// (apperr.Wrap and From ask this test), so the faces never import this
// package to tell.
func init() { apperr.SetTransient(Unavailable) }

// Unavailable reports whether err means the database cannot be reached or
// is restarting, rather than that a statement failed: a refused or broken
// connection, a server shutting down (57P01, 57P02) or not yet accepting
// connections (57P03), too many connections (53300), any SQLSTATE of class
// 08 (connection exception), or a deadline that ran out while waiting for
// it. Such an error is worth trying again shortly; the web layer answers
// 503 with Retry-After.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return pqErr.Code.Class() == "08"
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
