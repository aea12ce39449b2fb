// Package cache keeps small, read-mostly lookups of the hot paths in memory
// — the API token of every call, the event of every door scan — and drops
// them the moment the rows behind them change.
//
// Triggers on the tables behind them (migration 00014) NOTIFY
// treffpunkt_changes with the table's name when a row changes in a way a
// cache cares about. The notification goes out when the writing
// transaction commits, to every instance; each instance's Watcher LISTENs
// and empties the caches that depend on that table. While the Watcher's
// connection is down notifications can be lost, so then the caches neither
// answer nor keep anything (every lookup goes to the database, as without
// a cache) until it is back and they start empty. A time to live bounds an
// entry's age in any case.
//
// A lookup that read the database before a change and stores its result
// after the change was announced would keep a stale entry; Gen and Add
// prevent that: a result is only kept when no flush happened since the
// lookup began.
package cache

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/lib/pq"
)

// Channel is the notification channel the triggers of migration 00014 use;
// the payload is the changed table's name.
const Channel = "treffpunkt_changes"

// Watcher listens for changes and empties the caches that depend on them.
// Its zero value is not usable; see NewWatcher.
type Watcher struct {
	dsn string
	log *slog.Logger

	mu     sync.Mutex
	live   bool
	downs  int
	caches []flusher
}

type flusher interface {
	dependsOn(table string) bool
	flush()
	Name() string
	Stats() (hits, misses uint64)
}

// NewWatcher returns a watcher on the database at dsn (a URL or key=value
// connection string, as lib/pq takes). It watches once Run runs.
func NewWatcher(dsn string, log *slog.Logger) *Watcher {
	return &Watcher{dsn: dsn, log: log}
}

// Live tells whether the watcher listens, so that the caches may answer.
// A nil Watcher is never live.
func (w *Watcher) Live() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live
}

// Run listens until ctx ends, reconnecting after connection losses.
func (w *Watcher) Run(ctx context.Context) {
	l := pq.NewListener(w.dsn, 100*time.Millisecond, 5*time.Second, w.event)
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		// Ends a Listen that waits for a connection and closes Notify.
		_ = l.Close()
	}()
	w.mu.Lock()
	downs := w.downs
	w.mu.Unlock()
	if err := l.Listen(Channel); err != nil {
		if ctx.Err() == nil {
			w.log.Error("cache: cannot listen for changes; caches stay off", "error", err.Error())
		}
		return
	}
	// A connection lost meanwhile is followed by a nil notification once
	// listening again, which turns the caches on instead.
	w.mu.Lock()
	if w.downs == downs {
		w.live = true
	}
	w.mu.Unlock()
	for n := range l.Notify {
		if n == nil {
			// Reconnected and listening again: what changed while the
			// connection was down is unknown, so start afresh.
			w.reset(true)
			continue
		}
		w.Changed(n.Extra)
	}
	w.reset(false)
}

// Start runs the watcher in the background until the returned stop is
// called; stop returns once it has stopped.
func (w *Watcher) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	return func() { cancel(); <-done }
}

// event follows the listener's connection (called by its goroutine).
func (w *Watcher) event(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventDisconnected:
		w.mu.Lock()
		w.downs++
		w.mu.Unlock()
		w.reset(false)
		w.log.Warn("cache: lost the connection that listens for changes; caches off until it is back", "error", errString(err))
	case pq.ListenerEventConnectionAttemptFailed:
		w.log.Warn("cache: cannot connect to listen for changes", "error", errString(err))
	case pq.ListenerEventReconnected:
		w.log.Info("cache: listening for changes again")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// reset empties every cache and turns them on or off.
func (w *Watcher) reset(live bool) {
	w.mu.Lock()
	w.live = live
	caches := append([]flusher(nil), w.caches...)
	w.mu.Unlock()
	for _, c := range caches {
		c.flush()
	}
}

// Changed empties the caches that depend on table. The notifications call
// it; a writer may call it too, right after its commit, so that its own
// instance does not wait for the notification to come back. A nil Watcher
// does nothing.
func (w *Watcher) Changed(table string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	caches := append([]flusher(nil), w.caches...)
	w.mu.Unlock()
	for _, c := range caches {
		if c.dependsOn(table) {
			c.flush()
		}
	}
}

// EachCache calls fn with the name and counts of every cache of w (for the
// metrics).
func (w *Watcher) EachCache(fn func(name string, hits, misses uint64)) {
	if w == nil {
		return
	}
	w.mu.Lock()
	caches := append([]flusher(nil), w.caches...)
	w.mu.Unlock()
	for _, c := range caches {
		h, m := c.Stats()
		fn(c.Name(), h, m)
	}
}

// Cache maps keys to values read from the tables it depends on. A nil
// *Cache never answers and keeps nothing, so code can use one whether or
// not caching is set up.
type Cache[K comparable, V any] struct {
	name   string
	w      *Watcher
	tables []string
	ttl    time.Duration

	mu      sync.Mutex
	gen     uint64
	entries *lru.Cache[K, entry[V]]

	hits, misses atomic.Uint64
}

type entry[V any] struct {
	v     V
	until time.Time
}

// New returns a cache of at most size entries, each kept at most ttl,
// emptied by w when one of tables changes. A nil w gives a nil cache.
func New[K comparable, V any](w *Watcher, name string, size int, ttl time.Duration, tables ...string) *Cache[K, V] {
	if w == nil {
		return nil
	}
	entries, err := lru.New[K, entry[V]](size)
	if err != nil {
		panic("cache: " + err.Error()) // only for size <= 0
	}
	c := &Cache[K, V]{name: name, w: w, tables: tables, ttl: ttl, entries: entries}
	w.mu.Lock()
	w.caches = append(w.caches, c)
	w.mu.Unlock()
	return c
}

// Get returns the value of k when the cache holds a fresh one.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	if !c.w.Live() {
		c.misses.Add(1)
		return zero, false
	}
	e, ok := c.entries.Get(k)
	if !ok || time.Now().After(e.until) {
		c.misses.Add(1)
		return zero, false
	}
	c.hits.Add(1)
	return e.v, true
}

// Gen returns the cache's generation, to be passed to Add with a value read
// after this call.
func (c *Cache[K, V]) Gen() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Add keeps v for k, unless the cache was emptied since gen (v may be from
// before the change) or the watcher does not listen.
func (c *Cache[K, V]) Add(gen uint64, k K, v V) {
	if c == nil || !c.w.Live() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.entries.Add(k, entry[V]{v: v, until: time.Now().Add(c.ttl)})
	}
}

// Stats returns how many lookups the cache answered and how many it did not.
func (c *Cache[K, V]) Stats() (hits, misses uint64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}

// Name is the cache's name, as in the metrics.
func (c *Cache[K, V]) Name() string { return c.name }

func (c *Cache[K, V]) dependsOn(table string) bool { return slices.Contains(c.tables, table) }

func (c *Cache[K, V]) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.Purge()
}
