package testsignal

import "testing"

func TestUninitialisedSignalIsInert(t *testing.T) {
	var s TestSignal[int]
	s.Signal(1) // must neither block nor panic
}

func TestSignalThenWait(t *testing.T) {
	var s TestSignal[string]
	s.Init(t)
	s.Signal("a")
	s.Signal("b")
	if got := s.WaitOrTimeout(); got != "a" {
		t.Fatalf("first signal = %q", got)
	}
	if got := <-s.C(); got != "b" {
		t.Fatalf("second signal = %q", got)
	}
}

// A full buffer drops instead of blocking the signalling code.
func TestFullSignalDoesNotBlock(t *testing.T) {
	var s TestSignal[int]
	s.Init(t)
	for i := 0; i < bufferSize+10; i++ {
		s.Signal(i)
	}
	if got := s.WaitOrTimeout(); got != 0 {
		t.Fatalf("first signal = %d", got)
	}
}
