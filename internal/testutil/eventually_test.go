package testutil

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	start := time.Now()
	Eventually(t, 5*time.Second, func() bool { return n.Add(1) >= 3 }, "third call")
	if n.Load() != 3 {
		t.Fatalf("calls = %d, want 3", n.Load())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v for three quick checks", d)
	}
}

func TestEventuallyNoErrorStopsAtNil(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	EventuallyNoError(t, 5*time.Second, func() error {
		if n.Add(1) < 2 {
			return errors.New("first")
		}
		return nil
	}, "second call")
}

// fatalRecorder records Fatalf instead of ending the test, so that the
// timeout path can be checked.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestEventuallyFailsAfterTheTimeoutWithTheLastError(t *testing.T) {
	t.Parallel()
	rec := &fatalRecorder{TB: t}
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != rec {
				t.Fatalf("recovered %v, want the recorder's Fatalf", r)
			}
		}()
		EventuallyNoError(rec, 30*time.Millisecond, func() error { return errors.New("still down") }, "up")
	}()
	if d := time.Since(start); d < 30*time.Millisecond || d > 2*time.Second {
		t.Fatalf("gave up after %v, want just over 30ms", d)
	}
	if rec.msg != "%s: not within %v: %v" {
		t.Fatalf("message format %q does not carry the last error", rec.msg)
	}
}
