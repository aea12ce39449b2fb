package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a batch function that remembers its batches and answers
// each item with twice its number.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	keys    []string
	hook    func(key string, worker int, batch []*Item[int, int]) error
}

func (r *recorder) fn(key string, worker int, batch []*Item[int, int]) error {
	in := make([]int, len(batch))
	for i, it := range batch {
		in[i] = it.In
	}
	r.mu.Lock()
	r.batches = append(r.batches, in)
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	if r.hook != nil {
		if err := r.hook(key, worker, batch); err != nil {
			return err
		}
	}
	for _, it := range batch {
		it.Out = 2 * it.In
	}
	return nil
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []int
	for _, b := range r.batches {
		s = append(s, len(b))
	}
	return s
}

// waitQueued waits until n items of key are queued.
func waitQueued[K comparable, T, R any](t *testing.T, e *Engine[K, T, R], key K, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.Queued(key) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d items queued, want %d", e.Queued(key), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// idle reports whether the engine holds no queue, so no worker.
func (e *Engine[K, T, R]) idle() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queues) == 0
}

// waitIdle waits until the engine holds no queue: the last worker frees it
// just after it answered its last batch.
func waitIdle[K comparable, T, R any](t *testing.T, e *Engine[K, T, R]) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !e.idle() {
		if time.Now().After(deadline) {
			t.Fatal("a queue is left after every item was answered")
		}
		time.Sleep(time.Millisecond)
	}
}

// Many callers at once, a batch function slow enough that they pile up:
// each caller gets its own answer, and far fewer batches run than items.
func TestConcurrentCallersShareBatches(t *testing.T) {
	t.Parallel()
	var r recorder
	r.hook = func(string, int, []*Item[int, int]) error { time.Sleep(2 * time.Millisecond); return nil }
	e := New(Options[int]{MaxBatch: 1000}, r.fn)
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := e.Do(context.Background(), "k", i)
			if err != nil || out != 2*i {
				t.Errorf("item %d: %d, %v; want %d", i, out, err, 2*i)
			}
		})
	}
	wg.Wait()
	st := e.Stats()
	if st.Items != n {
		t.Errorf("stats: %d items, want %d", st.Items, n)
	}
	if st.Batches >= n/4 {
		t.Errorf("%d batches for %d items: hardly batched", st.Batches, n)
	}
	waitIdle(t, e)
}

// A batch holds at most MaxBatch items, taken in arrival order.
func TestBatchSizeCapAndOrder(t *testing.T) {
	t.Parallel()
	var r recorder
	e := New(Options[int]{MaxBatch: 10}, r.fn)
	e.Pause()
	var wg sync.WaitGroup
	for i := range 25 {
		wg.Go(func() { _, _ = e.Do(context.Background(), "k", i) })
		waitQueued(t, e, "k", i+1)
	}
	e.Resume()
	wg.Wait()
	if got := r.sizes(); !slices.Equal(got, []int{10, 10, 5}) {
		t.Fatalf("batch sizes %v, want [10 10 5]", got)
	}
	var all []int
	for _, b := range r.batches {
		all = append(all, b...)
	}
	for i, v := range all {
		if v != i {
			t.Fatalf("items in order %v, want 0..24", all)
		}
	}
}

// With a linger, a lone item waits about that long for company, and items
// that fill the batch within it run at once, together.
func TestLinger(t *testing.T) {
	t.Parallel()
	const linger = 150 * time.Millisecond
	var r recorder
	e := New(Options[int]{MaxBatch: 4, Linger: linger}, r.fn)
	start := time.Now()
	if _, err := e.Do(context.Background(), "lone", 1); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < linger {
		t.Errorf("a lone item ran after %v, want it to linger %v", d, linger)
	}

	var full recorder
	e = New(Options[int]{MaxBatch: 4, Linger: time.Minute}, full.fn)
	start = time.Now()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { _, _ = e.Do(context.Background(), "k", i) })
	}
	wg.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a full batch waited %v for its linger", d)
	}
	if got := full.sizes(); !slices.Equal(got, []int{4}) {
		t.Errorf("batch sizes %v, want [4]", got)
	}
}

// Keys do not share batches, and a key whose batch hangs does not hold
// up another key.
func TestKeysAreIsolated(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var r recorder
	r.hook = func(key string, _ int, _ []*Item[int, int]) error {
		if key == "slow" {
			<-release
		}
		return nil
	}
	e := New(Options[int]{}, r.fn)
	slow := make(chan error, 1)
	go func() { _, err := e.Do(context.Background(), "slow", 1); slow <- err }()
	for i := range 20 {
		if out, err := e.Do(context.Background(), fmt.Sprint("fast", i%3), i); err != nil || out != 2*i {
			t.Fatalf("fast item %d: %d, %v", i, out, err)
		}
	}
	select {
	case <-slow:
		t.Fatal("the slow key's item was answered before its batch ended")
	default:
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.batches {
		for _, v := range b {
			if key := r.keys[i]; key != "slow" && key != fmt.Sprint("fast", v%3) {
				t.Errorf("item %d in a batch of key %s", v, key)
			}
		}
	}
}

// A failed batch is run again one item at a time: the bad item fails alone,
// the others get their answers; only batches that succeeded count.
func TestFailedBatchRetriesOneByOne(t *testing.T) {
	t.Parallel()
	bad := errors.New("bad item")
	var r recorder
	r.hook = func(_ string, _ int, batch []*Item[int, int]) error {
		for _, it := range batch {
			it.Out = -1 // must not survive a failed batch
			if it.In == 3 {
				return bad
			}
		}
		return nil
	}
	e := New(Options[int]{}, r.fn)
	e.Pause()
	outs := make([]int, 6)
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() { outs[i], errs[i] = e.Do(context.Background(), "k", i) })
		waitQueued(t, e, "k", i+1)
	}
	e.Resume()
	wg.Wait()
	for i := range 6 {
		switch {
		case i == 3 && !errors.Is(errs[i], bad):
			t.Errorf("bad item: %d, %v; want its error", outs[i], errs[i])
		case i == 3 && outs[i] != 0:
			t.Errorf("bad item's answer %d, want none", outs[i])
		case i != 3 && (errs[i] != nil || outs[i] != 2*i):
			t.Errorf("item %d: %d, %v", i, outs[i], errs[i])
		}
	}
	if got := r.sizes(); !slices.Equal(got, []int{6, 1, 1, 1, 1, 1, 1}) {
		t.Errorf("batch sizes %v, want the batch and then each alone", got)
	}
	if st := e.Stats(); st != (Stats{Batches: 5, Items: 5}) {
		t.Errorf("stats %+v, want the five items that succeeded alone", st)
	}
}

// A panicking batch answers each of its callers with an error, and the
// engine goes on with the next batch.
func TestPanicAnswersEveryCallerAndTheEngineGoesOn(t *testing.T) {
	t.Parallel()
	var r recorder
	r.hook = func(_ string, _ int, batch []*Item[int, int]) error {
		for _, it := range batch {
			if it.In < 0 {
				panic("boom")
			}
		}
		return nil
	}
	e := New(Options[int]{}, r.fn)
	e.Pause()
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { _, errs[i] = e.Do(context.Background(), "k", i-1) })
		waitQueued(t, e, "k", i+1)
	}
	e.Resume()
	wg.Wait()
	for i, err := range errs {
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" {
			t.Errorf("caller %d: %v, want a PanicError", i, err)
		}
	}
	if out, err := e.Do(context.Background(), "k", 21); err != nil || out != 42 {
		t.Fatalf("after the panic: %d, %v", out, err)
	}
	if _, err := e.Alone("k", -1); err == nil {
		t.Error("Alone: a panic gave no error")
	}
}

// A caller whose context ends gets its error at once; its item is still
// decided, as a statement already sent would be.
func TestCancelledCallerLeavesItsItemQueued(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var seen atomic.Int64
	var r recorder
	r.hook = func(_ string, _ int, batch []*Item[int, int]) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		seen.Add(int64(len(batch)))
		return nil
	}
	e := New(Options[int]{}, r.fn)
	go func() { _, _ = e.Do(context.Background(), "k", 1) }()
	<-started // the first item's batch holds the worker
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := e.Do(ctx, "k", 2); done <- err }()
	waitQueued(t, e, "k", 1)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled caller still waits")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for seen.Load() != 2 || !e.idle() {
		if time.Now().After(deadline) {
			t.Fatalf("%d items decided, want 2 (the cancelled one too)", seen.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// Up to Workers batches of a key run at once, each on its own worker slot.
func TestWorkersRunSideBySideOnTheirOwnSlots(t *testing.T) {
	t.Parallel()
	var running, most atomic.Int64
	var slotsMu sync.Mutex
	inUse := map[int]bool{}
	var r recorder
	r.hook = func(_ string, w int, _ []*Item[int, int]) error {
		slotsMu.Lock()
		if inUse[w] || w < 0 || w >= 2 {
			slotsMu.Unlock()
			return fmt.Errorf("slot %d used twice at once or out of range", w)
		}
		inUse[w] = true
		slotsMu.Unlock()
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(3 * time.Millisecond)
		running.Add(-1)
		slotsMu.Lock()
		inUse[w] = false
		slotsMu.Unlock()
		return nil
	}
	e := New(Options[int]{MaxBatch: 4, Workers: 2, MoreAt: 2}, r.fn)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if _, err := e.Do(context.Background(), "k", i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d batches at once, want 2", m)
	}
	waitIdle(t, e)
}

// Items with the same Apart value never share a batch; the later ones wait
// for a later batch, keeping their order.
func TestApartItemsGoToLaterBatches(t *testing.T) {
	t.Parallel()
	var r recorder
	e := New(Options[int]{MaxBatch: 4, Apart: func(v *int) string {
		if *v%10 == 0 {
			return ""
		}
		return fmt.Sprint(*v % 10)
	}}, r.fn)
	e.Pause()
	in := []int{1, 11, 2, 10, 20, 21, 3, 4}
	var wg sync.WaitGroup
	for i, v := range in {
		wg.Go(func() { _, _ = e.Do(context.Background(), "k", v) })
		waitQueued(t, e, "k", i+1)
	}
	e.Resume()
	wg.Wait()
	want := [][]int{{1, 2, 10, 20}, {11, 3, 4}, {21}}
	if !slices.EqualFunc(r.batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v", r.batches, want)
	}
}

// BenchmarkDo is the engine's own cost per item, with a batch function that
// does nothing: what group commit adds to a sign-up or a scan besides the
// transaction it saves (two allocations: the item and its channel).
func BenchmarkDo(b *testing.B) {
	e := New(Options[int]{MaxBatch: 128}, func(_ string, _ int, batch []*Item[int, int]) error {
		for _, it := range batch {
			it.Out = it.In
		}
		return nil
	})
	b.SetParallelism(64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Do(context.Background(), "k", 1); err != nil {
				b.Error(err)
			}
		}
	})
	if st := e.Stats(); st.Batches > 0 {
		b.ReportMetric(float64(st.Items)/float64(st.Batches), "items/batch")
	}
}
