package testsignal

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// fakeTB records what a signal tells its test.
type fakeTB struct {
	mu      sync.Mutex
	helpers int
	fatals  []string
}

func (f *fakeTB) Helper() { f.mu.Lock(); f.helpers++; f.mu.Unlock() }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

// A waiter blocked before the signal is woken by it, across goroutines.
func TestWaitWakesOnLaterSignal(t *testing.T) {
	t.Parallel()
	var s TestSignal[int]
	s.Init(t)
	got := make(chan int)
	go func() { got <- s.WaitOrTimeout() }()
	s.Signal(42)
	if v := <-got; v != 42 {
		t.Fatalf("woken with %d", v)
	}
}

// Signals from many goroutines all arrive (below the buffer size), each
// once; -race checks Signal is safe to call concurrently.
func TestConcurrentSignals(t *testing.T) {
	t.Parallel()
	var s TestSignal[int]
	s.Init(t)
	const n, per = 8, 100
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				s.Signal(g*per + i)
			}
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for range n * per {
		v := s.WaitOrTimeout()
		if seen[v] {
			t.Fatalf("%d twice", v)
		}
		seen[v] = true
	}
	select {
	case v := <-s.C():
		t.Fatalf("an extra signal %d", v)
	default:
	}
}

// A full buffer keeps the oldest values, in order, and drops the newest.
func TestFullBufferKeepsOldest(t *testing.T) {
	t.Parallel()
	var s TestSignal[int]
	s.Init(t)
	for i := range bufferSize + 5 {
		s.Signal(i)
	}
	if len(s.C()) != bufferSize {
		t.Fatalf("%d buffered", len(s.C()))
	}
	for i := range bufferSize {
		if v := <-s.C(); v != i {
			t.Fatalf("value %d is %d", i, v)
		}
	}
	s.Signal(7) // room again
	if v := s.WaitOrTimeout(); v != 7 {
		t.Fatalf("after draining: %d", v)
	}
}

// Init again starts afresh: earlier signals are gone.
func TestReInitDropsOldSignals(t *testing.T) {
	t.Parallel()
	var s TestSignal[string]
	s.Init(t)
	s.Signal("old")
	s.Init(t)
	s.Signal("new")
	if v := s.WaitOrTimeout(); v != "new" {
		t.Fatalf("got %q", v)
	}
}

// Waiting on an uninitialised signal is a programming error, said loudly.
func TestUninitialisedWaitPanics(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(*TestSignal[int]){
		"C":             func(s *TestSignal[int]) { s.C() },
		"WaitOrTimeout": func(s *TestSignal[int]) { s.WaitOrTimeout() },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "not initialised") {
					t.Errorf("%s: recovered %v", name, r)
				}
			}()
			var s TestSignal[int]
			f(&s)
		}()
	}
}

// With nothing signalled, WaitOrTimeout fails the test after
// DefaultTimeout, marking itself a helper, and returns the zero value.
func TestWaitTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits DefaultTimeout")
	}
	t.Parallel()
	tb := &fakeTB{}
	var s TestSignal[string]
	s.Init(tb)
	if v := s.WaitOrTimeout(); v != "" {
		t.Errorf("returned %q", v)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.fatals) != 1 || tb.fatals[0] != "timed out after 10s waiting for a test signal" || tb.helpers == 0 {
		t.Errorf("fatals %q, helpers %d", tb.fatals, tb.helpers)
	}
}
