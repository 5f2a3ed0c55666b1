package scheduler_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// DefaultBackoff is 1 s × 2^(attempt−1), capped at 5 min, with ±20 % jitter
// (§9): every sample lies in the band, the samples spread over it, and
// their mean sits near the base.
func TestDefaultBackoffBoundsAndJitter(t *testing.T) {
	t.Parallel()
	base := func(attempt int) time.Duration {
		d := time.Second
		for i := 1; i < attempt && d < 5*time.Minute; i++ {
			d *= 2
		}
		return min(d, 5*time.Minute)
	}
	const samples = 2000
	for _, attempt := range []int{1, 2, 3, 4, 8, 9, 10, 11, 20, 64, 1 << 20} {
		b := base(attempt)
		lo, hi := time.Duration(float64(b)*0.8), time.Duration(float64(b)*1.2)
		minSeen, maxSeen := time.Duration(1<<62), time.Duration(0)
		var sum float64
		for range samples {
			d := scheduler.DefaultBackoff(attempt)
			if d < lo || d > hi {
				t.Fatalf("DefaultBackoff(%d) = %s, outside [%s, %s]", attempt, d, lo, hi)
			}
			minSeen, maxSeen = min(minSeen, d), max(maxSeen, d)
			sum += float64(d)
		}
		// Jitter: the samples cover most of the ±20 % band, not one value.
		if spread := float64(maxSeen-minSeen) / float64(hi-lo); spread < 0.9 {
			t.Errorf("DefaultBackoff(%d): samples span %.0f%% of the jitter band [%s, %s]", attempt, spread*100, minSeen, maxSeen)
		}
		if mean := sum / samples; mean < 0.97*float64(b) || mean > 1.03*float64(b) {
			t.Errorf("DefaultBackoff(%d): mean %s, want about %s", attempt, time.Duration(mean), b)
		}
	}
	// Attempts below 1 count as the first.
	for _, attempt := range []int{0, -5} {
		if d := scheduler.DefaultBackoff(attempt); d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Errorf("DefaultBackoff(%d) = %s, want the first attempt's ~1s", attempt, d)
		}
	}
}

// backoffRecorder is a Config.RetryBackoff that records the attempts it is
// asked about.
type backoffRecorder struct {
	mu       sync.Mutex
	attempts []int
	delay    func(attempt int) time.Duration
}

func (b *backoffRecorder) backoff(attempt int) time.Duration {
	b.mu.Lock()
	b.attempts = append(b.attempts, attempt)
	b.mu.Unlock()
	return b.delay(attempt)
}

func (b *backoffRecorder) seen() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.attempts)
}

// Config.RetryBackoff decides how long a retried job waits: available_at is
// the attempt's end plus backoff(attempt), the next attempt starts no
// earlier — and, with a 30 s poll interval, not much later: the replica
// sleeps until the job is due.
func TestRetryBackoffFromConfigMovesAvailableAt(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 3 WHERE key = 'noop'`)
	rec := &backoffRecorder{delay: func(attempt int) time.Duration {
		if attempt == 1 {
			return 400 * time.Millisecond
		}
		return time.Hour
	}}
	r := startReplica(t, st, "r", tasks.Registry{"noop": failing(domain.Retryable(errors.New("engine busy")))},
		func(c *scheduler.Config) { c.RetryBackoff = rec.backoff })
	runID := launchNoop(t, st, 1)[0]
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "pending" || f.Attempt != 1 {
		t.Fatalf("first end = %+v, want a retry", f)
	}
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "pending" || f.Attempt != 2 {
		t.Fatalf("second end = %+v, want a retry", f)
	}
	j := jobOfRun(t, st, runID)
	atts := attemptsOf(t, st, j.ID)
	if len(atts) != 2 || atts[0].EndedAt == nil || atts[1].EndedAt == nil {
		t.Fatalf("attempts = %+v", atts)
	}
	gap := atts[1].StartedAt.Sub(*atts[0].EndedAt)
	if gap < 350*time.Millisecond || gap > 5*time.Second {
		t.Fatalf("attempt 2 started %s after attempt 1 ended, want the 400ms backoff (and no poll interval)", gap)
	}
	// After attempt 2 the job waits an hour: available_at = end + 1h.
	if j.Status != domain.StatusPending || j.AvailableAt == nil {
		t.Fatalf("job after two failures: %+v", j)
	}
	if wait := j.AvailableAt.Sub(*atts[1].EndedAt); wait < time.Hour-time.Second || wait > time.Hour {
		t.Fatalf("available_at is %s after attempt 2 ended, want 1h", wait)
	}
	if got := rec.seen(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("RetryBackoff asked about attempts %v, want [1 2]", got)
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'running'", runID); n != 1 {
		t.Fatal("run of a job waiting for its retry is not running")
	}
}

// Rescue of an expired lease uses the same Config.RetryBackoff (§6, §9).
func TestRescueUsesRetryBackoff(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started, stopped := make(chan int64, 1), make(chan error, 1)
	victim := startReplica(t, st, "victim", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	launchNoop(t, st, 1)
	jobID := <-started
	victim.Kill()
	rec := &backoffRecorder{delay: func(int) time.Duration { return 2 * time.Hour }}
	rescuer := startReplica(t, st, "rescuer", tasks.Registry{"noop": quick("x")}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
		c.RetryBackoff = rec.backoff
	})
	if id := rescuer.TestSignals.Rescued.WaitOrTimeout(); id != jobID {
		t.Fatalf("rescued job %d, want %d", id, jobID)
	}
	if got := rec.seen(); !slices.Equal(got, []int{1}) {
		t.Fatalf("rescue asked RetryBackoff about attempts %v, want [1]", got)
	}
	atts := attemptsOf(t, st, jobID)
	var j store.Job
	testenv.SQL(t, st).Take(&j, jobID)
	if len(atts) != 1 || atts[0].Outcome != domain.OutcomeLost || j.Status != domain.StatusPending || j.AvailableAt == nil {
		t.Fatalf("after rescue: job %+v, attempts %+v", j, atts)
	}
	if wait := j.AvailableAt.Sub(*atts[0].EndedAt); wait < 2*time.Hour-2*time.Second || wait > 2*time.Hour+time.Second {
		t.Fatalf("rescued job available %s after the lost attempt ended, want 2h", wait)
	}
}
