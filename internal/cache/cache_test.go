package cache_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/cache"
	"treffpunkt/internal/testdb"
	"treffpunkt/internal/testutil"
)

// watch starts a watcher on db's database and waits until it listens.
func watch(t *testing.T, db *sqlx.DB) *cache.Watcher {
	t.Helper()
	w := cache.NewWatcher(testdb.URLOf(t, db), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(w.Start())
	waitFor(t, "the watcher to listen", w.Live)
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, cond, what)
}

func exec(t *testing.T, db *sqlx.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// fixture makes an organisation with a token and an event.
func fixture(t *testing.T, db *sqlx.DB) {
	t.Helper()
	exec(t, db, `INSERT INTO organisations (slug, name) VALUES ('kv', 'Kulturverein')`)
	exec(t, db, `INSERT INTO api_tokens (org_id, role, name, token_hash) SELECT id, 'door', 'door', 'h1' FROM organisations`)
	exec(t, db, `INSERT INTO events (org_id, slug, kind, default_lang, title, starts_at, ends_at, status)
SELECT id, 'fest', 'festival', 'de', '{"de":"Fest"}', now(), now() + interval '3 hours', 'published' FROM organisations`)
}

func TestChangeEmptiesTheCachesThatDependOnIt(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	fixture(t, db)
	w := watch(t, db)
	tokens := cache.New[string, int](w, "tokens", 10, time.Minute, "api_tokens", "organisations")
	events := cache.New[string, int](w, "events", 10, time.Minute, "events", "organisations")
	fill := func() {
		tokens.Add(tokens.Gen(), "h1", 1)
		events.Add(events.Gen(), "fest", 1)
	}
	has := func(c *cache.Cache[string, int], k string) bool { _, ok := c.Get(k); return ok }

	fill()
	if !has(tokens, "h1") || !has(events, "fest") {
		t.Fatal("a live cache does not keep what it is given")
	}

	// Changes the caches do not hold leave them alone: the token's use,
	// the event's seat counters. They happen all the time.
	exec(t, db, `UPDATE api_tokens SET last_used_at = now()`)
	exec(t, db, `UPDATE events SET waitlist_length = waitlist_length`)
	exec(t, db, `UPDATE organisations SET email = 'neu@kv.example'`)
	// Notifications arrive in commit order: once a later one has been
	// heard, those changes would have been too.
	probe := cache.New[string, int](w, "probe", 10, time.Minute, "probe")
	probe.Add(probe.Gen(), "p", 1)
	exec(t, db, `NOTIFY `+cache.Channel+`, 'probe'`)
	waitFor(t, "the probe to be heard", func() bool { return !has(probe, "p") })
	if !has(tokens, "h1") || !has(events, "fest") {
		t.Fatal("a change to columns no cache holds emptied a cache")
	}

	exec(t, db, `UPDATE api_tokens SET revoked_at = now()`)
	waitFor(t, "the token cache to empty", func() bool { return !has(tokens, "h1") })
	if !has(events, "fest") {
		t.Error("a token's change emptied the events cache")
	}

	fill()
	exec(t, db, `UPDATE events SET status = 'cancelled'`)
	waitFor(t, "the events cache to empty", func() bool { return !has(events, "fest") })
	if !has(tokens, "h1") {
		t.Error("an event's change emptied the token cache")
	}

	fill()
	exec(t, db, `UPDATE organisations SET name = 'Kulturverein Linden'`)
	waitFor(t, "both caches to empty", func() bool { return !has(tokens, "h1") && !has(events, "fest") })

	fill()
	exec(t, db, `DELETE FROM events`)
	waitFor(t, "the events cache to empty after a delete", func() bool { return !has(events, "fest") })
	exec(t, db, `DELETE FROM api_tokens`)
	waitFor(t, "the token cache to empty after a delete", func() bool { return !has(tokens, "h1") })

	hits, misses := tokens.Stats()
	if hits == 0 || misses == 0 {
		t.Errorf("token cache stats: %d hits, %d misses", hits, misses)
	}
}

func TestAValueReadBeforeAChangeIsNotKept(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := watch(t, db)
	c := cache.New[string, string](w, "events", 10, time.Minute, "events")
	gen := c.Gen()
	// The lookup reads "old"; the change commits and is announced before
	// the lookup stores what it read.
	w.Changed("events")
	c.Add(gen, "fest", "old")
	if v, ok := c.Get("fest"); ok {
		t.Fatalf("kept %q read before the change", v)
	}
	c.Add(c.Gen(), "fest", "new")
	if v, ok := c.Get("fest"); !ok || v != "new" {
		t.Fatalf("got %q, %v; want the value read after the change", v, ok)
	}
}

func TestEntriesExpire(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := watch(t, db)
	c := cache.New[string, int](w, "short", 10, 30*time.Millisecond, "events")
	c.Add(c.Gen(), "k", 1)
	if _, ok := c.Get("k"); !ok {
		t.Fatal("fresh entry missing")
	}
	time.Sleep(40 * time.Millisecond)
	if _, ok := c.Get("k"); ok {
		t.Fatal("entry outlived its time to live")
	}
}

// While the listening connection is down, changes go unheard: the caches
// must not answer then, and must start empty once it is back.
func TestCachesAreOffWhileTheListenerIsDown(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := watch(t, db)
	c := cache.New[string, int](w, "events", 10, time.Minute, "events")
	c.Add(c.Gen(), "fest", 1)

	var killed int
	if err := db.Get(&killed, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %d, %v", killed, err)
	}
	waitFor(t, "the caches to go off", func() bool { return !w.Live() })
	if _, ok := c.Get("fest"); ok {
		t.Error("a cache answered while its listener was down")
	}
	c.Add(c.Gen(), "fest", 2)
	if _, ok := c.Get("fest"); ok {
		t.Error("a cache kept a value while its listener was down")
	}

	waitFor(t, "the listener to come back", w.Live)
	if _, ok := c.Get("fest"); ok {
		t.Error("a cache kept an entry from before the connection was lost")
	}
	c.Add(c.Gen(), "fest", 3)
	if v, ok := c.Get("fest"); !ok || v != 3 {
		t.Errorf("after reconnecting: got %d, %v", v, ok)
	}
	exec(t, db, `INSERT INTO organisations (slug, name) VALUES ('kv', 'Kulturverein')`)
	exec(t, db, `INSERT INTO events (org_id, slug, kind, default_lang, title, starts_at, ends_at, status)
SELECT id, 'fest', 'festival', 'de', '{"de":"Fest"}', now(), now() + interval '3 hours', 'published' FROM organisations`)
	exec(t, db, `UPDATE events SET slug = 'fest-2'`)
	waitFor(t, "changes to be heard again", func() bool { _, ok := c.Get("fest"); return !ok })
}

func TestNilCacheAndWatcherDoNothing(t *testing.T) {
	t.Parallel()
	var w *cache.Watcher
	c := cache.New[string, int](w, "none", 10, time.Minute, "events")
	c.Add(c.Gen(), "k", 1)
	if _, ok := c.Get("k"); ok || w.Live() {
		t.Fatal("a cache without a watcher answered")
	}
	w.Changed("events")
}
