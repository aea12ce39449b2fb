package web

import "time"

// While PostgreSQL is away (restarting, failing over, unreachable) the
// service stays up: /readyz answers 503 so that load balancers look
// elsewhere, and a request that needs the database gets a clean 503
// "unavailable" with Retry-After — never a hang, a panic or a 500. The pool
// (database/sql) drops broken connections and opens new ones once the
// server is back; nothing needs a restart. The deadline of every request
// and the mapping of errors are the faces' shared kit (httpcode.Failure,
// httpcode.BoundRequests); an error from a database that cannot be
// reached already carries the code apperr.Unavailable (the database
// package registers its test with apperr). See docs/deployment.md.

// readyTimeout bounds the readiness probe's ping.
const readyTimeout = 2 * time.Second
