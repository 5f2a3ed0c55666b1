package logbench_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
	"github.com/cyberbrain/cyberbrain/pkg/logtriage/logbench"
)

// rawFloor is the raw-line average grouping accuracy reached on the shared
// LogHub sample (docs/BENCHMARKS.md); the miner must not fall below it.
const rawFloor = 0.96

// TestGroupingAccuracyFloor scores log_triage's grouping on the shared
// labelled logs (../shared/loghub from the repository root, or LOGHUB_DIR).
// It is a floor on accuracy, not a timing; it skips when the data is absent.
func TestGroupingAccuracyFloor(t *testing.T) {
	dir := os.Getenv("LOGHUB_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "loghub")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no labelled logs at %s (set LOGHUB_DIR): %v", dir, err)
	}
	ds, err := logbench.Load(dir, "corrected")
	if err != nil {
		t.Fatal(err)
	}
	scores := logbench.Evaluate(ds, logtriage.GroupKeys)
	raw, msg := logbench.Average(scores)
	for _, s := range scores {
		t.Logf("%-10s raw %.3f message %.3f", s.Name, s.RawAcc, s.MessageAcc)
	}
	if raw < rawFloor {
		t.Errorf("raw-line average grouping accuracy %.3f fell below the floor %.2f (message column %.3f)", raw, rawFloor, msg)
	}
}

func TestGroupingAccuracyDefinition(t *testing.T) {
	t.Parallel()
	truth := []string{"a", "a", "b", "c", "c"}
	pred := []string{"1", "1", "2", "3", "2"} // c is split and mixed with b
	if got := logbench.GroupingAccuracy(pred, truth); got != 0.4 {
		t.Errorf("accuracy %v, want 0.4 (only the two a lines are right)", got)
	}
}
