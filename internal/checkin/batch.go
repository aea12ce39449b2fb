package checkin

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/groupcommit"
	"treffpunkt/internal/secret"
)

// Group commit (docs/performance.md, Check-in). Every scan used to be its
// own transaction and paid a commit (an fsync) of its own. Now concurrent
// scans of one app instance queue up in one queue of the group-commit
// engine (internal/groupcommit); a worker takes everything waiting (at most
// maxBatch) and decides it in ONE transaction with one statement
// (batchSQL), while the next batch gathers. Exactly once stays by
// construction: the check-ins are one INSERT … ON CONFLICT DO NOTHING
// RETURNING against the unique index checkins_once_per_day, never
// read-then-write, so it holds across batches, workers and instances.
// When a batch transaction fails, the engine tries each of its scans again
// alone, so that one bad scan never fails the others.

// maxBatch bounds the scans decided in one transaction.
const maxBatch = 100

// batchTimeout bounds one batch transaction; the callers' own contexts do
// not cancel a batch that other callers wait for too.
const batchTimeout = 10 * time.Second

// maxCollectors bounds the batches of an instance in flight at once. With
// one, a scan that arrives while a batch runs waits for all of it (the
// statement and the commit's flush); with two, the next batch runs while
// the last one is being flushed.
const maxCollectors = 2

// moreAt is how many scans must wait before another worker starts while
// one runs: for fewer, the batch that follows the running one is soon
// enough, and larger batches cost less per scan.
const moreAt = 8

// scanItem is one scan, ready for the database.
type scanItem struct {
	code      string
	eventID   int64
	day       string
	at        time.Time
	userID    int64
	tokenID   int64
	dayOK     bool
	cancelled bool
	scanID    string
	raw       string
	clientAt  *time.Time
}

// scans is the group-commit engine of scans: one queue for the instance
// (scans of every event share batches), up to maxCollectors batches at
// once, each worker with its batcher (a connection and the prepared
// statement). A scan whose scan id is already in the batch waits for the
// next one, where it finds the first logged and gets its answer replayed.
type scans = groupcommit.Engine[struct{}, scanItem, scanRow]

func (s *Service) engine() *scans {
	s.engOnce.Do(func() {
		s.eng = groupcommit.New(groupcommit.Options[scanItem]{
			MaxBatch: maxBatch, Workers: maxCollectors, MoreAt: moreAt,
			Apart: func(it *scanItem) string { return it.scanID },
		}, s.runBatch)
	})
	return s.eng
}

// submit queues it and waits for its outcome. A caller that gives up (ctx
// done) leaves the scan to be decided all the same, as a statement already
// sent would be.
func (s *Service) submit(ctx context.Context, it scanItem) (scanRow, error) {
	return s.engine().Do(ctx, struct{}{}, it)
}

// batcher is what a worker needs: a connection of its own, with the
// batch statement prepared on it. The engine runs worker w's batches one
// at a time, so batchers[w] is never used twice at once.
type batcher struct {
	conn     *sqlx.Conn
	stmt     *sqlx.Stmt
	prepared time.Time
}

// runBatch is the engine's batch function: it decides batch in one
// transaction with worker w's batcher.
func (s *Service) runBatch(_ struct{}, w int, batch []*groupcommit.Item[scanItem, scanRow]) error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	rows, written, err := s.decide(ctx, &s.batchers[w], batch)
	if err != nil && written {
		// The statement committed: trying the scans again would decide
		// them twice. Each caller gets the error.
		for _, it := range batch {
			it.Err = err
		}
		return nil
	}
	if err != nil {
		return err
	}
	for i, it := range batch {
		it.Out = rows[i]
	}
	return nil
}

// batchSQL decides a batch of scans in one statement: look every ticket up,
// check in the tickets that everything allows (of several scans of one
// ticket in the batch only the first is a candidate, so the rest are
// already_checked_in), keep the first check-in in tickets.checked_in_at
// (the organisers' list and API read it), decide each verdict and log every
// scan. The unique index checkins_once_per_day turns a second check-in,
// concurrent or not, into no row in ins rather than a second row. A scan
// id seen before checks nothing in and is not logged again (ON CONFLICT),
// so a replayed offline scan has no second effect. Candidates are inserted
// in ticket order, so two batches on the same tickets wait for each other
// rather than deadlock. Tickets are found by the SHA-256 of the scanned
// code (the table keeps no codes, docs/operations.md "Secret links and SECRET_KEY"): the
// current code's, else a code mailed before migration 00016; each is one
// probe of a unique index. The scanned text is logged only when it matched
// no ticket, so that the log holds no working code either.
const batchSQL = `
WITH b AS (
    SELECT * FROM unnest($1::int[], $2::bytea[], $3::bigint[], $4::date[], $5::timestamptz[], $6::bigint[],
                         $7::bigint[], $8::bool[], $9::bool[], $10::text[], $11::text[], $12::text[])
        AS b(idx, hash, event_id, day, at, user_id, token_id, day_ok, cancelled, scan_id, raw, client_at)
), bt AS (
    SELECT b.*, ev.org_id AS ev_org_id, tk.ticket_id, tk.t_event_id, tk.t_org_id, tk.status, tk.name, tk.party_size, tk.seat, tk.answers
    FROM b
    LEFT JOIN events ev ON ev.id = b.event_id
    LEFT JOIN LATERAL (
        SELECT COALESCE((SELECT t.id FROM tickets t WHERE t.code_hash = b.hash),
                        (SELECT t.id FROM tickets t WHERE t.legacy_code_hash = b.hash)) AS id
    ) m ON true
    LEFT JOIN (
        SELECT t.id AS ticket_id, t.event_id AS t_event_id, e.org_id AS t_org_id,
               r.status, r.name, r.party_size, t.seat, r.answers
        FROM tickets t
        JOIN registrations r ON r.id = t.registration_id
        JOIN events e ON e.id = t.event_id
    ) tk ON tk.ticket_id = m.id
), cand AS (
    SELECT DISTINCT ON (bt.ticket_id, bt.day) bt.idx, bt.ticket_id, bt.event_id, bt.day, bt.at, bt.user_id, bt.token_id
    FROM bt
    WHERE bt.ticket_id IS NOT NULL AND bt.day_ok AND NOT bt.cancelled AND bt.t_event_id = bt.event_id
      AND bt.status = 'confirmed'
      AND NOT EXISTS (SELECT 1 FROM checkin_scans s WHERE s.scan_id = NULLIF(bt.scan_id, ''))
    ORDER BY bt.ticket_id, bt.day, bt.idx
), ins AS (
    INSERT INTO checkins (ticket_id, event_id, day, checked_in_at, by_user_id, by_token_id)
    SELECT ticket_id, event_id, day, at, NULLIF(user_id, 0), NULLIF(token_id, 0) FROM cand ORDER BY ticket_id, day
    ON CONFLICT (ticket_id, day) WHERE undone_at IS NULL DO NOTHING
    RETURNING ticket_id, day, checked_in_at
), okd AS (
    SELECT cand.idx, ins.checked_in_at FROM ins JOIN cand USING (ticket_id, day)
), first AS (
    UPDATE tickets t SET checked_in_at = m.at
    FROM (SELECT ticket_id, min(checked_in_at) AS at FROM ins GROUP BY ticket_id) m
    WHERE t.id = m.ticket_id AND t.checked_in_at IS NULL
), v AS (
    SELECT bt.*, okd.checked_in_at AS new_at,
        CASE WHEN bt.ticket_id IS NULL OR bt.t_org_id <> bt.ev_org_id THEN 'unknown'
             WHEN bt.t_event_id <> bt.event_id THEN 'wrong_event'
             WHEN bt.status <> 'confirmed' OR bt.cancelled THEN 'cancelled'
             WHEN NOT bt.day_ok THEN 'not_today'
             WHEN okd.idx IS NOT NULL THEN 'ok'
             ELSE 'already_checked_in' END AS verdict
    FROM bt LEFT JOIN okd ON okd.idx = bt.idx
), logged AS (
    INSERT INTO checkin_scans (scan_id, code, ticket_id, event_id, day, by_user_id, by_token_id, verdict, scanned_at, client_at)
    SELECT NULLIF(v.scan_id, ''), CASE WHEN v.ticket_id IS NULL THEN v.raw ELSE '' END, CASE WHEN v.verdict <> 'unknown' THEN v.ticket_id END, v.event_id, v.day,
           NULLIF(v.user_id, 0), NULLIF(v.token_id, 0), v.verdict, v.at, NULLIF(v.client_at, '')::timestamptz
    FROM v ORDER BY v.idx
    ON CONFLICT (scan_id) DO NOTHING
    RETURNING scan_id
)
SELECT v.idx, v.verdict, v.ticket_id, v.t_org_id AS org_id, v.name, v.party_size, v.seat, v.new_at, v.answers,
       (v.scan_id = '' OR EXISTS (SELECT 1 FROM logged l WHERE l.scan_id = v.scan_id)) AS logged
FROM v`

// statement returns the batch statement, prepared on b's own connection.
//
// PostgreSQL soon plans a prepared statement once for good (a "generic"
// plan), for the tables as they are then. Prepared when checkin_scans was
// nearly empty (a new installation, the first event's door), that plan
// read the whole table for every batch — more with every scan: a run over
// 50,000 tickets fell from 2,000 to 1,200 scans/s. Planning every batch
// anew costs more than it saves (0.1 ms of PostgreSQL's time per scan).
// So the statement is prepared again every replanEvery — a round trip and
// a few plans a second, next to hundreds of batches — and its plan
// follows the tables' growth.
func (b *batcher) statement(ctx context.Context, db *sqlx.DB) (*sqlx.Stmt, error) {
	if b.stmt != nil && time.Since(b.prepared) < replanEvery {
		return b.stmt, nil
	}
	if b.stmt != nil {
		b.stmt.Close()
		b.stmt = nil
	}
	if b.conn == nil {
		conn, err := db.Connx(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan batch connection: %w", err)
		}
		b.conn = conn
	}
	stmt, err := b.conn.PreparexContext(ctx, batchSQL)
	if err != nil {
		b.drop()
		return nil, fmt.Errorf("prepare scan batch: %w", err)
	}
	b.stmt, b.prepared = stmt, time.Now()
	return stmt, nil
}

// replanEvery is how often the batch statement is prepared (and so
// planned) again.
const replanEvery = time.Second

// drop gives up b's connection after an error; the pool closes it rather
// than hand it out again.
func (b *batcher) drop() {
	if b.conn == nil {
		return
	}
	if b.stmt != nil {
		b.stmt.Close()
	}
	_ = b.conn.Raw(func(any) error { return driver.ErrBadConn })
	b.conn.Close()
	b.conn, b.stmt = nil, nil
}

// existingSQL reads when and by whom the tickets of the already checked-in
// scans were checked in. It is a statement of its own, after the batch's,
// so that it sees the check-ins that concurrent batches committed (and those
// of the batch itself). A check-in undone in between yields no row.
const existingSQL = `
SELECT q.idx, c.checked_in_at, COALESCE(u.email, k.name, '') AS by
FROM unnest($1::int[], $2::bigint[], $3::date[]) AS q(idx, ticket_id, day)
JOIN checkins c ON c.ticket_id = q.ticket_id AND c.day = q.day AND c.undone_at IS NULL
LEFT JOIN staff_users u ON u.id = c.by_user_id
LEFT JOIN api_tokens k ON k.id = c.by_token_id`

// decide runs batch in one transaction — one statement — and returns a row
// per scan, in order. written tells whether that statement committed, so
// that an error after it (reading the earlier check-ins) is not retried.
func (s *Service) decide(ctx context.Context, b *batcher, batch []*groupcommit.Item[scanItem, scanRow]) (rows []scanRow, written bool, err error) {
	n := len(batch)
	var (
		idx                               = make([]int64, n)
		hashes                            = make([][]byte, n)
		days, ats, scanIDs, raws, clients = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		events, users, tokens             = make([]int64, n), make([]int64, n), make([]int64, n)
		dayOK, cancelled                  = make([]bool, n), make([]bool, n)
	)
	for i, p := range batch {
		it := &p.In
		idx[i], hashes[i], events[i], days[i] = int64(i), secret.Hash(it.code), it.eventID, it.day
		ats[i] = it.at.Format(time.RFC3339Nano)
		users[i], tokens[i], dayOK[i], cancelled[i] = it.userID, it.tokenID, it.dayOK, it.cancelled
		scanIDs[i], raws[i] = it.scanID, it.raw
		if it.clientAt != nil {
			clients[i] = it.clientAt.Format(time.RFC3339Nano)
		}
	}
	stmt, err := b.statement(ctx, s.db)
	if err != nil {
		return nil, false, err
	}
	// The statement is the transaction (autocommit): one round trip and
	// one commit for the whole batch.
	var got []scanRow
	err = stmt.SelectContext(ctx, &got,
		pq.Array(idx), pq.Array(hashes), pq.Array(events), pq.Array(days), pq.Array(ats), pq.Array(users),
		pq.Array(tokens), pq.Array(dayOK), pq.Array(cancelled), pq.Array(scanIDs), pq.Array(raws), pq.Array(clients))
	if err != nil {
		// A connection that failed is not used again; the next batch
		// opens another.
		b.drop()
		return nil, false, fmt.Errorf("scan batch: %w", err)
	}
	rows = make([]scanRow, n)
	seen := make([]bool, n)
	var qIdx, qTicket []int64
	var qDay []string
	for _, r := range got {
		if r.Idx < 0 || r.Idx >= n || seen[r.Idx] {
			return nil, true, fmt.Errorf("scan batch: unexpected row %d", r.Idx)
		}
		rows[r.Idx], seen[r.Idx] = r, true
		if r.Verdict == AlreadyCheckedIn && r.Logged {
			qIdx, qTicket, qDay = append(qIdx, int64(r.Idx)), append(qTicket, r.TicketID.Int64), append(qDay, days[r.Idx])
		}
	}
	for i, ok := range seen {
		if !ok {
			return nil, true, fmt.Errorf("scan batch: no row for scan %d (event %d)", i, events[i])
		}
	}
	if len(qIdx) > 0 {
		var ex []struct {
			Idx int       `db:"idx"`
			At  time.Time `db:"checked_in_at"`
			By  string    `db:"by"`
		}
		if err := s.db.SelectContext(ctx, &ex, existingSQL, pq.Array(qIdx), pq.Array(qTicket), pq.Array(qDay)); err != nil {
			return nil, true, fmt.Errorf("existing check-ins: %w", err)
		}
		for _, e := range ex {
			at := e.At
			rows[e.Idx].ExistingAt, rows[e.Idx].By = &at, e.By
		}
	}
	return rows, true, nil
}
