// Package testdb gives each test its own freshly migrated PostgreSQL database.
//
// TEST_DATABASE_URL must point at the "postgres" database of a server on which
// the user may create databases (`make test` starts a throwaway cluster and
// sets it). Without it, tests are skipped locally and fail in CI (CI set).
//
// The first call in a test binary makes sure a migrated template database
// tpl_<hash of the migrations> exists; it is built once per server under an
// advisory lock, so parallel test binaries (go test ./... runs packages in
// parallel, each in its own process) cooperate. Each call then hands out an
// empty database made from that template.
//
// Making a database from the template and dropping it costs PostgreSQL
// about 0.1 s of CPU, and `make test` makes hundreds: a third of the CPU
// of the whole run went there. So a database whose test passed is emptied
// and given to the next test of the same process instead of dropped (see
// release): every row deleted, every sequence restarted, and only if its
// schema, settings and grants still match the template's and no session is
// left on it. A failed test's database, or one the test changed, is
// dropped as before. TESTDB_FRESH=1 turns the reuse off. The databases of a
// process are named t_<pid>_…; a later process drops those whose process
// has gone.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // also registers the "postgres" driver

	"treffpunkt/internal/database"
	"treffpunkt/migrations"
)

// lockKey is the pg_advisory_lock key serialising template builds across
// processes. Arbitrary, fixed.
const lockKey int64 = 0x7472_6566_6670_746b // "treffptk"

// MaxOpenConns is the pool size of the databases handed out by New.
const MaxOpenConns = 20

var (
	setupOnce sync.Once
	setupErr  error
	adminURL  string  // TEST_DATABASE_URL
	adminDB   *sql.DB // pool on the admin database, kept for the process lifetime
	tplName   string  // name of the migrated template database
)

// New returns a pool on a new, fully migrated, empty database that is dropped
// when the test ends. See the package documentation for TEST_DATABASE_URL.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	db, _ := NewWithURL(t)
	return db
}

// NewWithURL is New that also returns the URL of the new database, e.g. to
// open a second pool on it that simulates another app instance.
func NewWithURL(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	requireServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	name, fresh := pool.take()
	if fresh {
		if err := createFromTemplate(ctx, name); err != nil {
			t.Fatalf("testdb: %v", err)
		}
	}
	dbURL, err := withDBName(adminURL, name)
	if err != nil {
		dropDatabase(t, name)
		t.Fatalf("testdb: %v", err)
	}
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		dropDatabase(t, name)
		t.Fatalf("testdb: open %s: %v", name, err)
	}
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		dropDatabase(t, name)
		t.Fatalf("testdb: connect to %s: %v", name, err)
	}
	t.Cleanup(func() {
		db.Close()
		release(t, name, dbURL)
	})
	return db, dbURL
}

// requireServer skips (locally) or fails (in CI) the test without
// TEST_DATABASE_URL and prepares the template once per process.
func requireServer(t testing.TB) {
	t.Helper()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		if os.Getenv("CI") == "" {
			t.Skip("TEST_DATABASE_URL is not set; run make test")
		}
		t.Fatal("TEST_DATABASE_URL is not set; run make test")
	}
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("testdb: preparing the template database: %v", setupErr)
	}
}

// NewUnmigrated returns the URL of a new database without a single table
// (a copy of template0, as CREATE DATABASE on a new server makes it),
// dropped when the test ends: for tests of the migrations themselves,
// which need no server of their own for that (an initdb and a server
// start cost more CPU than the test).
func NewUnmigrated(t testing.TB) string {
	t.Helper()
	requireServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := fmt.Sprintf("t_%d_%s", os.Getpid(), randomHex(6))
	if _, err := adminDB.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)+` TEMPLATE template0`); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, name) })
	u, err := withDBName(adminURL, name)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return u
}

// setup opens the admin pool and makes sure the template database exists.
func setup() error {
	adminURL = os.Getenv("TEST_DATABASE_URL")
	db, err := sql.Open("postgres", adminURL)
	if err != nil {
		return fmt.Errorf("open TEST_DATABASE_URL: %w", err)
	}
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("connect to TEST_DATABASE_URL: %w", err)
	}
	adminDB = db

	sum, err := migrationsHash()
	if err != nil {
		return err
	}
	tplName = "tpl_" + sum[:12]
	if err := ensureTemplate(ctx, tplName); err != nil {
		return err
	}
	return prepareReuse(ctx)
}

// migrationsHash is the hex sha256 over the names and contents of all files in
// migrations.FS and the watch, so any change to them yields a new template.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	h.Write([]byte(watchSQL))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ensureTemplate builds the template database unless it exists. The check and
// the build run under a session advisory lock held on a dedicated connection,
// so only one process builds it and the others wait and then reuse it.
func ensureTemplate(ctx context.Context, name string) (err error) {
	conn, err := adminDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var released bool
		uerr := conn.QueryRowContext(uctx, `SELECT pg_advisory_unlock($1)`, lockKey).Scan(&released)
		if uerr != nil || !released {
			// Make sure the lock cannot outlive us: discard the session
			// instead of returning it to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()

	var exists bool
	if err := conn.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up %s: %w", name, err)
	}
	if exists {
		return nil
	}

	building := name + "_building"
	q := pq.QuoteIdentifier
	// Leftover of a build that died half-way.
	if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q(building)+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop stale %s: %w", building, err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+q(building)); err != nil {
		return fmt.Errorf("create %s: %w", building, err)
	}
	if err := migrateDatabase(ctx, building); err != nil {
		_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q(building)+` WITH (FORCE)`)
		return err
	}
	if err := execOn(ctx, building, watchSQL); err != nil {
		_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q(building)+` WITH (FORCE)`)
		return fmt.Errorf("watch %s: %w", building, err)
	}
	// Rename last, so that a database with the final name is always complete.
	// Right after Close the backends may still be exiting, hence the retry.
	if err := retryInUse(ctx, func() error {
		_, err := conn.ExecContext(ctx, `ALTER DATABASE `+q(building)+` RENAME TO `+q(name))
		return err
	}); err != nil {
		return fmt.Errorf("rename %s: %w", building, err)
	}
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+q(name)+` WITH is_template true`); err != nil {
		return fmt.Errorf("mark %s as template: %w", name, err)
	}
	return nil
}

// watchSQL makes a database note any change to its schema: an event trigger
// (fired also under session_replication_role = replica) adds a row to
// testdb.ddl after every DDL command and drop. A database whose tests left a
// row there is dropped, not reused (reuse.go): reading one table is much
// cheaper than fingerprinting the catalogue after every test.
const watchSQL = `
CREATE SCHEMA testdb;
CREATE TABLE testdb.ddl (tag text NOT NULL);
CREATE FUNCTION testdb.note() RETURNS event_trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO testdb.ddl VALUES (tg_tag); END$$;
CREATE EVENT TRIGGER testdb_ddl ON ddl_command_end EXECUTE FUNCTION testdb.note();
CREATE EVENT TRIGGER testdb_drop ON sql_drop EXECUTE FUNCTION testdb.note();
ALTER EVENT TRIGGER testdb_ddl ENABLE ALWAYS;
ALTER EVENT TRIGGER testdb_drop ENABLE ALWAYS;`

// openOn opens a pool on database name of the test server.
func openOn(name string) (*sql.DB, error) {
	u, err := withDBName(adminURL, name)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return db, nil
}

// execOn runs stmts on database name.
func execOn(ctx context.Context, name, stmts string) error {
	db, err := openOn(name)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmts)
	return err
}

// migrateDatabase runs the migrations on database name and closes the pool.
func migrateDatabase(ctx context.Context, name string) error {
	db, err := openOn(name)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := database.Migrate(ctx, db); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	return db.Close()
}

// createFromTemplate creates database name as a copy of the template.
func createFromTemplate(ctx context.Context, name string) error {
	stmt := `CREATE DATABASE ` + pq.QuoteIdentifier(name) + ` TEMPLATE ` + pq.QuoteIdentifier(tplName)
	if err := retryInUse(ctx, func() error {
		_, err := adminDB.ExecContext(ctx, stmt)
		return err
	}); err != nil {
		return fmt.Errorf("create %s from %s: %w", name, tplName, err)
	}
	return nil
}

// retryInUse runs fn until it does not fail with SQLSTATE 55006
// (object_in_use, e.g. "source database ... is being accessed by other
// users"), at most 20 times.
func retryInUse(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = fn(); err == nil || !isInUse(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(50+25*attempt) * time.Millisecond):
		}
	}
	return err
}

func isInUse(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && string(pqErr.Code) == "55006"
}

// dropDatabase drops database name, disconnecting any remaining sessions.
func dropDatabase(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := adminDB.ExecContext(ctx,
		`DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`); err != nil {
		t.Logf("testdb: drop %s: %v", name, err)
	}
}

// withDBName returns connection string s with the database replaced by name.
// It accepts URLs (postgres://...) and key=value connection strings.
func withDBName(s, name string) (string, error) {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("parse TEST_DATABASE_URL: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if q.Has("dbname") {
			q.Del("dbname")
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// key=value form: a later dbname overrides an earlier one.
	return s + " dbname=" + name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// URLOf returns the connection string of the test database that db is
// connected to, e.g. for a connection of its own that LISTENs.
func URLOf(t testing.TB, db *sqlx.DB) string {
	t.Helper()
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatalf("testdb: which database: %v", err)
	}
	u, err := withDBName(os.Getenv("TEST_DATABASE_URL"), name)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return u
}
