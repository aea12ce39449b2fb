package web

import (
	"context"
	"net/http"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// While PostgreSQL is away (restarting, failing over, unreachable) the
// service stays up: /readyz answers 503 so that load balancers look
// elsewhere, and a request that needs the database gets a clean 503
// "unavailable" with Retry-After — never a hang, a panic or a 500. The pool
// (database/sql) drops broken connections and opens new ones once the
// server is back; nothing needs a restart. See docs/deployment.md.
const (
	// requestTimeout bounds everything a request waits for, the database
	// included; it stays below the server's WriteTimeout so that the
	// answer (a 503) still reaches the client.
	requestTimeout = 30 * time.Second
	// readyTimeout bounds the readiness probe's ping.
	readyTimeout = 2 * time.Second
	// retryAfter is the Retry-After of a 503, in seconds.
	retryAfter = "5"
)

// boundRequests gives every request a deadline, so that a database that
// does not answer cannot hold a request (and its goroutine) for ever.
func boundRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// unavailable is apperr.From, except that an unexpected error that comes
// from a database that cannot be reached becomes a 503 "unavailable".
func unavailable(err error) *apperr.Error {
	ae := apperr.From(err)
	if ae.Code == apperr.Internal && database.Unavailable(err) {
		return &apperr.Error{Code: apperr.Unavailable, Msg: apperr.M("err.unavailable"), Cause: err}
	}
	return ae
}
