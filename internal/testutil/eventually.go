// Package testutil holds small helpers shared by tests that must not import
// the whole app (internal/testapp imports nearly every package).
package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond until it reports true and fails the test (Fatal)
// when timeout passes first; what names the awaited state in the failure.
// It replaces fixed sleeps: a test waits exactly as long as the state needs
// to appear, and no longer than timeout when it never does. The first check
// runs at once; the pause between checks grows from 1 ms to 50 ms.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	EventuallyNoError(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	}, what)
}

// EventuallyNoError is Eventually for a check that says why it is not there
// yet: it polls until check returns nil and reports the last error on timeout.
func EventuallyNoError(t testing.TB, timeout time.Duration, check func() error, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("%s: not within %v", what, timeout)
			}
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(pause)
		if pause < 50*time.Millisecond {
			pause *= 2
		}
	}
}

type notYet struct{}

func (notYet) Error() string { return "not yet" }

var errNotYet error = notYet{}
