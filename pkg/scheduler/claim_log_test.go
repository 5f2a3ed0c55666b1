package scheduler

import (
	"fmt"
	"strings"
	"testing"
)

// A claim logs one line with the count and at most ten names, however many
// schedules a burst of launches made due.
func TestClaimedLineNamesAtMostTen(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 10, 11, 200} {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("launch-run-%d-noop", i+1)
		}
		line := claimedLine(names)
		if !strings.HasPrefix(line, fmt.Sprintf("Claimed %d due schedule(s): ", n)) {
			t.Errorf("%d names: %q lacks the count", n, line)
		}
		if got := strings.Count(line, "launch-run-"); got != min(n, maxLoggedNames) {
			t.Errorf("%d names: %d named in %q, want %d", n, got, line, min(n, maxLoggedNames))
		}
		if more := n - maxLoggedNames; more > 0 && !strings.HasSuffix(line, fmt.Sprintf(" and %d more", more)) {
			t.Errorf("%d names: %q does not say how many more", n, line)
		}
	}
	if line := claimedLine([]string{"launch-run-1-log_triage"}); line != `Claimed 1 due schedule(s): ["launch-run-1-log_triage"]` {
		t.Errorf("the guide's line changed: %q", line)
	}
}
