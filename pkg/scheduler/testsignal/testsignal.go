// Package testsignal lets tests wait for events inside concurrent code
// instead of polling for their effects, at almost no cost to production
// code (modelled on River's rivershared/testsignal).
//
// A TestSignal's zero value is inert: Signal does nothing until a test calls
// Init, which must happen before the code that signals starts (Init is not
// synchronised with Signal).
package testsignal

import "time"

// TB is the part of testing.TB a signal needs; an interface, so production
// code does not import package testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// DefaultTimeout bounds WaitOrTimeout. Generous: it is only reached when a
// test is failing, and CI machines are slow.
const DefaultTimeout = 10 * time.Second

// bufferSize holds the signals of a busy test (hundreds of jobs) without
// blocking the signalling code.
const bufferSize = 1024

// TestSignal carries values of type T from production code to a test.
type TestSignal[T any] struct {
	ch chan T
	tb TB
}

// Init arms the signal. Tests only.
func (s *TestSignal[T]) Init(tb TB) {
	s.ch = make(chan T, bufferSize)
	s.tb = tb
}

// Signal records v for a waiting test. It never blocks: uninitialised (in
// production) it does nothing, and on a full buffer it drops v — waiters
// use signals as wake-ups and re-check their condition, and a full buffer
// already holds wake-ups enough.
func (s *TestSignal[T]) Signal(v T) {
	if s.ch == nil {
		return
	}
	select {
	case s.ch <- v:
	default:
	}
}

// C is the channel of signalled values, for a select over several signals.
func (s *TestSignal[T]) C() <-chan T {
	s.mustInit()
	return s.ch
}

// WaitOrTimeout returns the next signalled value, failing the test after
// DefaultTimeout.
func (s *TestSignal[T]) WaitOrTimeout() T {
	s.mustInit()
	s.tb.Helper()
	t := time.NewTimer(DefaultTimeout)
	defer t.Stop()
	select {
	case v := <-s.ch:
		return v
	case <-t.C:
		s.tb.Fatalf("timed out after %s waiting for a test signal", DefaultTimeout)
	}
	var zero T
	return zero
}

func (s *TestSignal[T]) mustInit() {
	if s.ch == nil {
		panic("testsignal: not initialised; called outside a test?")
	}
}
