package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
)

// Connection-level failures are "unavailable" (503, try again); a
// statement that failed on a working connection is not.
func TestUnavailableTellsConnectionFailuresFromStatementErrors(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for err, want := range map[error]bool{
		fmt.Errorf("begin: %w", driver.ErrBadConn):          true,
		fmt.Errorf("sign up: %w", refused):                  true,
		fmt.Errorf("read: %w", syscall.ECONNRESET):          true,
		&pq.Error{Code: "57P01"}:                            true, // admin shutdown
		&pq.Error{Code: "57P03"}:                            true, // cannot connect now
		&pq.Error{Code: "08006"}:                            true, // connection failure
		&pq.Error{Code: "53300"}:                            true, // too many connections
		fmt.Errorf("query: %w", context.DeadlineExceeded):   true,
		&pq.Error{Code: "23505"}:                            false,
		&pq.Error{Code: "40001"}:                            false,
		sql.ErrNoRows:                                       false,
		context.Canceled:                                    false,
		errors.New("pq: syntax error at or near \"SELEC\""): false,
		nil: false,
	} {
		if got := Unavailable(err); got != want {
			t.Errorf("Unavailable(%v) = %v, want %v", err, got, want)
		}
	}
}

func TestConnectTimeoutIsAddedUnlessSet(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u@h/db?sslmode=disable":    "postgres://u@h/db?connect_timeout=5&sslmode=disable",
		"postgres://u@h/db?connect_timeout=30": "postgres://u@h/db?connect_timeout=30",
		"host=localhost dbname=treffpunkt":     "host=localhost dbname=treffpunkt",
	} {
		if got := withConnectTimeout(in); got != want {
			t.Errorf("withConnectTimeout(%q) = %q, want %q", in, got, want)
		}
	}
}

// The services' errors carry the code: what passes apperr.Wrap (every
// service method's unexpected error) or apperr.From is "unavailable" when
// the database could not be reached, so a face maps a code and never asks
// this package (issue 17).
func TestServiceErrorsFromAnUnreachableDatabaseAreUnavailable(t *testing.T) {
	t.Parallel()
	down := fmt.Errorf("begin: %w", driver.ErrBadConn)
	if got := apperr.From(apperr.Wrap(down, "sign up")); got.Code != apperr.Unavailable {
		t.Errorf("Wrap of a dropped connection: code %q, want unavailable", got.Code)
	}
	if got := apperr.From(&pq.Error{Code: "57P03"}); got.Code != apperr.Unavailable {
		t.Errorf("From of 'cannot connect now': code %q, want unavailable", got.Code)
	}
	if got := apperr.From(apperr.Wrap(&pq.Error{Code: "23505"}, "insert")); got.Code != apperr.Internal {
		t.Errorf("Wrap of a statement error: code %q, want internal", got.Code)
	}
}
