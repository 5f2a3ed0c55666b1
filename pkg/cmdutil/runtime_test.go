package cmdutil

import "testing"

// A daemon takes half the CPUs, and always at least one.
func TestProcsFor(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 16: 8} {
		if got := procsFor(cpus); got != want {
			t.Errorf("procsFor(%d) = %d, want %d", cpus, got, want)
		}
	}
}
