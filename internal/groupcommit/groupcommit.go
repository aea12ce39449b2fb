// Package groupcommit runs work that arrives concurrently in batches: the
// callers of one key queue up, and a worker hands the queue's items to a
// batch function together, so that many callers share one transaction (one
// commit, one flush of the write-ahead log) instead of paying one each
// (docs/performance.md). It knows nothing of SQL or HTTP: the batch
// function decides and writes, the engine queues, wakes and answers.
//
// What the engine promises:
//   - Items of one key are handed over in arrival order, at most MaxBatch at
//     a time; items of different keys never share a batch and never wait
//     for each other.
//   - At most Workers batches of one key run at once; worker w of a key is
//     used by one batch at a time, so a batch function may keep state per
//     worker (a connection, a prepared statement).
//   - A batch that fails (its function returns an error) is run again one
//     item at a time, so that one bad item never fails the others.
//   - A batch that panics answers each of its callers with a *PanicError;
//     the engine keeps working.
//   - An idle engine holds no goroutine: a key's worker ends when its queue
//     is empty, and the next item starts another.
package groupcommit

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape the batches. The zero value is one worker per key, batches
// of any size, no linger.
type Options[T any] struct {
	// MaxBatch bounds the items of one batch; 0 means no bound.
	MaxBatch int
	// Linger is how long a worker waits for its batch to fill up to
	// MaxBatch before it runs a smaller one. 0 runs at once whatever has
	// gathered: the items that arrive while a batch runs make the next
	// batch, so under load batches grow by themselves without a wait.
	Linger time.Duration
	// Workers bounds the batches of one key in flight at once (1 to 64);
	// 0 means 1.
	Workers int
	// MoreAt is how many items must be waiting before another worker of
	// a key starts while one runs; fewer wait for the next batch of the
	// running worker, which is soon enough and cheaper per item. 0 means 1.
	MoreAt int
	// Apart, when set, keeps items with the same non-empty Apart value out
	// of one batch: the later ones stay queued, in order, for a later
	// batch (for example a replayed request that must see the first one's
	// effect).
	Apart func(in *T) string
}

// Item is one caller's work: In is what it asked; the batch function sets
// Out and, for an item that its rules refuse while the batch as a whole
// succeeds, Err.
type Item[T, R any] struct {
	In   T
	Out  R
	Err  error
	done chan struct{}
}

// Func decides and writes a batch of key's items. worker is the worker
// slot running it (0 ≤ worker < Workers; -1 for Alone). It returns an error
// when the batch as a whole failed and nothing of it stands: the engine
// then answers each item from a batch of its own. Out and Err of the items
// count only when it returns nil.
type Func[K comparable, T, R any] func(key K, worker int, batch []*Item[T, R]) error

// PanicError answers the callers of a batch that panicked.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("group commit: batch panicked: %v", e.Value) }

// Stats counts the batches whose function succeeded and the items they
// carried.
type Stats struct {
	Batches, Items int64
}

// Engine queues items per key and runs them in batches with its Func.
type Engine[K comparable, T, R any] struct {
	fn   Func[K, T, R]
	opts Options[T]

	mu     sync.Mutex
	queues map[K]*queue[T, R]
	paused bool

	batches, items atomic.Int64
}

// queue is a key's waiting items and its workers; it lives while it has
// items or a running worker.
type queue[T, R any] struct {
	items []*Item[T, R]
	busy  uint64        // worker slots in use, one bit each
	wake  chan struct{} // closed when a lingering worker's batch is full
}

// New returns an engine that runs batches with fn.
func New[K comparable, T, R any](opts Options[T], fn Func[K, T, R]) *Engine[K, T, R] {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	opts.Workers = min(opts.Workers, 64)
	opts.MoreAt = max(opts.MoreAt, 1)
	return &Engine[K, T, R]{fn: fn, opts: opts, queues: make(map[K]*queue[T, R])}
}

// Do queues in under key and waits for its batch. When ctx ends first, Do
// returns ctx's error at once, but the item stays queued and is decided all
// the same, like a statement already sent whose answer is lost.
func (e *Engine[K, T, R]) Do(ctx context.Context, key K, in T) (R, error) {
	it := &Item[T, R]{In: in, done: make(chan struct{})}
	e.mu.Lock()
	q := e.queues[key]
	if q == nil {
		q = &queue[T, R]{}
		e.queues[key] = q
	}
	q.items = append(q.items, it)
	w := -1
	if !e.paused && (q.busy == 0 || len(q.items) >= e.opts.MoreAt) {
		w = e.slot(q)
	}
	if q.wake != nil && e.opts.MaxBatch > 0 && len(q.items) >= e.opts.MaxBatch {
		close(q.wake)
		q.wake = nil
	}
	e.mu.Unlock()
	if w >= 0 {
		go e.work(key, q, w)
	}
	select {
	case <-it.done:
		return it.Out, it.Err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// Alone runs in as a batch of its own in the caller's goroutine, without
// queueing: the baseline that group commit is measured against.
func (e *Engine[K, T, R]) Alone(key K, in T) (R, error) {
	it := &Item[T, R]{In: in, done: make(chan struct{})}
	e.run(key, -1, []*Item[T, R]{it})
	return it.Out, it.Err
}

// Stats returns the counts so far.
func (e *Engine[K, T, R]) Stats() Stats {
	return Stats{Batches: e.batches.Load(), Items: e.items.Load()}
}

// Queued returns how many items of key wait for a batch.
func (e *Engine[K, T, R]) Queued(key K) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if q := e.queues[key]; q != nil {
		return len(q.items)
	}
	return 0
}

// Pause stops batches from starting: items queue up, and running workers
// end after their current batch. Tests use it to gather a known batch.
func (e *Engine[K, T, R]) Pause() {
	e.mu.Lock()
	e.paused = true
	e.mu.Unlock()
}

// Resume lets batches start again: one worker for each key whose items
// wait and that has none running (more start as items arrive).
func (e *Engine[K, T, R]) Resume() {
	e.mu.Lock()
	e.paused = false
	type start struct {
		key K
		q   *queue[T, R]
		w   int
	}
	var starts []start
	for k, q := range e.queues {
		if len(q.items) > 0 && q.busy == 0 {
			starts = append(starts, start{k, q, e.slot(q)})
		}
	}
	e.mu.Unlock()
	for _, s := range starts {
		go e.work(s.key, s.q, s.w)
	}
}

// slot takes a free worker slot of q, or returns -1. The caller holds mu.
func (e *Engine[K, T, R]) slot(q *queue[T, R]) int {
	w := bits.TrailingZeros64(^q.busy)
	if w >= e.opts.Workers {
		return -1
	}
	q.busy |= 1 << w
	return w
}

// work runs q's batches with worker slot w until the queue is empty (or the
// engine is paused), then frees the slot, and the queue with the last one.
func (e *Engine[K, T, R]) work(key K, q *queue[T, R], w int) {
	lingered := false
	for {
		e.mu.Lock()
		if e.opts.Linger > 0 && !lingered && !e.paused && len(q.items) > 0 &&
			e.opts.MaxBatch > 0 && len(q.items) < e.opts.MaxBatch {
			if q.wake == nil {
				q.wake = make(chan struct{})
			}
			wake := q.wake
			e.mu.Unlock()
			t := time.NewTimer(e.opts.Linger)
			select {
			case <-t.C:
			case <-wake:
			}
			t.Stop()
			lingered = true
			continue
		}
		lingered = false
		var batch []*Item[T, R]
		if !e.paused {
			batch = e.take(q)
		}
		if len(batch) == 0 {
			q.busy &^= 1 << w
			if q.busy == 0 && len(q.items) == 0 {
				delete(e.queues, key)
			}
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		e.run(key, w, batch)
	}
}

// take removes the next batch from q, in order. The caller holds mu.
func (e *Engine[K, T, R]) take(q *queue[T, R]) []*Item[T, R] {
	n := len(q.items)
	if m := e.opts.MaxBatch; m > 0 {
		n = min(n, m)
	}
	if e.opts.Apart != nil {
		var seen map[string]struct{}
		for i, it := range q.items[:n] {
			id := e.opts.Apart(&it.In)
			if id == "" {
				continue
			}
			if _, dup := seen[id]; dup {
				return e.takeApart(q, i, seen)
			}
			if seen == nil {
				seen = make(map[string]struct{})
			}
			seen[id] = struct{}{}
		}
	}
	batch := q.items[:n:n]
	if n == len(q.items) {
		q.items = nil
	} else {
		q.items = q.items[n:]
	}
	return batch
}

// takeApart is take once item i repeats an Apart value of the items before
// it (seen): it and every later repeat stay queued.
func (e *Engine[K, T, R]) takeApart(q *queue[T, R], i int, seen map[string]struct{}) []*Item[T, R] {
	batch := append([]*Item[T, R](nil), q.items[:i]...)
	var rest []*Item[T, R]
	for k, it := range q.items[i:] {
		if m := e.opts.MaxBatch; m > 0 && len(batch) == m {
			rest = append(rest, q.items[i+k:]...)
			break
		}
		if id := e.opts.Apart(&it.In); id != "" {
			if _, dup := seen[id]; dup {
				rest = append(rest, it)
				continue
			}
			seen[id] = struct{}{}
		}
		batch = append(batch, it)
	}
	q.items = rest
	return batch
}

// run runs a batch, or when it fails each of its items alone, and answers
// every item.
func (e *Engine[K, T, R]) run(key K, w int, batch []*Item[T, R]) {
	err, panicked := e.call(key, w, batch)
	if err != nil && !panicked && len(batch) > 1 {
		for i := range batch {
			it := batch[i]
			var zero R
			it.Out, it.Err = zero, nil
			e.run(key, w, batch[i:i+1:i+1])
		}
		return
	}
	if err == nil {
		e.batches.Add(1)
		e.items.Add(int64(len(batch)))
	}
	for _, it := range batch {
		if err != nil {
			var zero R
			it.Out, it.Err = zero, err
		}
		close(it.done)
	}
}

// call runs the batch function and turns a panic into an error.
func (e *Engine[K, T, R]) call(key K, w int, batch []*Item[T, R]) (err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			err, panicked = &PanicError{Value: p}, true
		}
	}()
	return e.fn(key, w, batch), false
}
