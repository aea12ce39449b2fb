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
