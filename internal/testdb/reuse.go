package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

// pool holds this process's emptied databases, ready for the next test.
var pool reusePool

type reusePool struct {
	mu    sync.Mutex
	free  []string
	reuse bool   // the admin user may empty a database and TESTDB_FRESH is unset
	empty string // the statements that empty a database made from the template
	print string // the template's settings and grants (databaseSQL)
}

// take returns the name of a database for a test: an emptied one of this
// process, or a new name (fresh) to create from the template.
func (p *reusePool) take() (name string, fresh bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		name = p.free[n-1]
		p.free = p.free[:n-1]
		return name, false
	}
	return fmt.Sprintf("t_%d_%s", os.Getpid(), randomHex(6)), true
}

func (p *reusePool) put(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, name)
}

// maxReusedSize bounds the databases worth emptying: a test that wrote
// thousands of rows leaves pages of dead rows the next test would scan.
const maxReusedSize = 24 << 20

// databaseSQL sums up what a test could change in a database that the
// watch's event triggers do not see (testdb.go, watchSQL): the database's
// own settings and grants. Every other change to the schema (tables,
// columns, indexes, constraints, triggers and whether they fire, functions,
// grants on them, schemas, extensions) leaves a row in testdb.ddl.
const databaseSQL = `
SELECT md5(coalesce((SELECT string_agg(format('%s', setconfig), ',') FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())), '')
  || (SELECT format('%s %s %s', datacl, datallowconn, datconnlimit) FROM pg_database WHERE datname = current_database()))`

// prepareReuse decides whether databases are reused and, if so, reads from
// a database made from the template what emptying one takes and what its
// settings are.
func prepareReuse(ctx context.Context) error {
	sweepStale(ctx)
	var super bool
	if err := adminDB.QueryRowContext(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		return fmt.Errorf("who am I: %w", err)
	}
	// Emptying skips the foreign keys' triggers (session_replication_role),
	// which only a superuser may do; without it every database is new.
	if !super || os.Getenv("TESTDB_FRESH") != "" {
		return nil
	}
	name, _ := pool.take()
	if err := createFromTemplate(ctx, name); err != nil {
		return err
	}
	db, err := openOn(name)
	if err != nil {
		return err
	}
	defer db.Close()
	var tables, seqs []string
	if err := collect(ctx, db, &tables, `SELECT quote_ident(tablename) FROM pg_tables
		WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY 1`); err != nil {
		return err
	}
	if err := collect(ctx, db, &seqs, `SELECT format('SELECT setval(%L, %s, false);', quote_ident(sequencename), start_value)
		FROM pg_sequences WHERE schemaname = 'public' AND sequencename NOT LIKE 'goose\_db\_version%' ORDER BY 1`); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, databaseSQL).Scan(&pool.print); err != nil {
		return fmt.Errorf("settings of the template: %w", err)
	}
	var b strings.Builder
	b.WriteString("BEGIN; SET LOCAL session_replication_role = replica; SET LOCAL lock_timeout = '2s';\n")
	for _, t := range tables {
		b.WriteString("DELETE FROM " + t + ";\n")
	}
	for _, s := range seqs {
		b.WriteString(s + "\n")
	}
	b.WriteString("COMMIT;")
	pool.empty = b.String()
	pool.reuse = true
	if err := db.Close(); err != nil {
		return err
	}
	pool.put(name)
	return nil
}

func collect(ctx context.Context, db *sql.DB, out *[]string, query string) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		*out = append(*out, s)
	}
	return rows.Err()
}

// release empties the database of a test that passed and keeps it for the
// next test; any doubt drops it instead.
func release(t testing.TB, name, dbURL string) {
	if !pool.reuse || t.Failed() {
		dropDatabase(t, name)
		return
	}
	if err := empty(dbURL); err != nil {
		t.Logf("testdb: %s is dropped, not reused: %v", name, err)
		dropDatabase(t, name)
		return
	}
	pool.put(name)
}

// empty deletes every row of the database at dbURL and restarts its
// sequences, after checking that nobody else is connected and that the
// test changed nothing but rows.
func empty(dbURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The test's pools are closed; their sessions end a moment later.
	for attempt := 0; ; attempt++ {
		var others int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			break
		}
		if attempt == 20 {
			return fmt.Errorf("%d sessions still connected", others)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var (
		print   string
		changes int
		size    int64
	)
	if err := db.QueryRowContext(ctx, `SELECT (`+databaseSQL+`), (SELECT count(*) FROM testdb.ddl), pg_database_size(current_database())`).Scan(&print, &changes, &size); err != nil {
		return err
	}
	if print != pool.print || changes > 0 {
		return fmt.Errorf("the test changed more than rows")
	}
	if size > maxReusedSize {
		return fmt.Errorf("it grew to %d MB", size>>20)
	}
	_, err = db.ExecContext(ctx, pool.empty)
	return err
}

var staleName = regexp.MustCompile(`^t_([0-9]+)_[0-9a-f]+$`)

// sweepStale drops the kept databases of test processes that have ended
// (on this machine: the pid is the process's).
func sweepStale(ctx context.Context) {
	rows, err := adminDB.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 't\_%'`)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		m := staleName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if _, err := os.Stat("/proc/" + m[1]); err == nil || pid == os.Getpid() {
			continue
		}
		stale = append(stale, name)
	}
	rows.Close()
	for _, name := range stale {
		_, _ = adminDB.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`)
	}
}
