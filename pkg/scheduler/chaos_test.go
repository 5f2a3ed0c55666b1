package scheduler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler/chaosdrill"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The chaos drill of docs/DESIGN.md §11 at test scale (scripts/bench's chaos mode runs
// it at scale): four replicas, each with its own connection pool, drain a
// stream of noop runs while one replica at a time is killed or paused for
// longer than its lease, then resumed. Afterwards the database must show
// every run terminal, every attempt recorded and ended, no two attempts of a
// job overlapping, and the tasks themselves must never have run one job
// twice at once — except for the one overlap the design allows (see
// chaosdrill's Overlaps).
func TestChaosKillAndPauseReplicas(t *testing.T) {
	t.Parallel()
	const (
		runs       = 360
		launchFor  = 9 * time.Second // runs are launched as a stream over this long
		ttl        = time.Second
		everyMin   = 250 * time.Millisecond
		everyMax   = 550 * time.Millisecond
		pauseFor   = 1500 * time.Millisecond // > ttl: the lease expires under the paused replica
		replicas   = 4
		maxAttempt = 10
	)
	url := testenv.NewDatabaseURL(t)
	st, err := store.Open(context.Background(), url, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = true, max_attempts = ?, default_config = '{"sleep_ms": 40}'
		WHERE key = 'noop'`, maxAttempt).Error; err != nil {
		t.Fatal(err)
	}

	// Hundreds of runs: only warnings and errors are kept, shown on failure.
	core, logs := observer.New(zap.WarnLevel)
	d := chaosdrill.New(chaosdrill.Config{
		URL: url, TTL: ttl, PauseFor: pauseFor, PreferBusy: true,
		Logger: func(string) *zap.Logger { return zap.New(core) },
		Replica: scheduler.Config{
			Interval:        30 * time.Second, // NOTIFY and next-due wake-ups (lease expiry included) do the work
			MaxClaim:        50,
			MaxConcurrent:   10,
			ShutdownTimeout: 5 * time.Second,
			RetryBackoff:    func(int) time.Duration { return 20 * time.Millisecond },
		},
	})
	t.Cleanup(func() {
		if err := d.Stop(20 * time.Second); err != nil {
			t.Error(err)
		}
	})
	for i := 0; i < replicas; i++ {
		if _, err := d.Start(); err != nil {
			t.Fatal(err)
		}
	}

	// Launch a stream of runs; every tenth job runs longer than a pause (and
	// so the lease), so its lease must be renewed by heartbeats while chaos
	// strikes, and a paused replica still runs it when it resumes.
	launched := make(chan error, 1)
	go func() {
		launched <- func() error {
			every := launchFor / runs
			for i := 0; i < runs; i++ {
				run, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}})
				if err != nil {
					return err
				}
				if i%10 == 0 {
					if err := testenv.SQL(t, st).Exec(`UPDATE jobs SET config = '{"sleep_ms": 3000}' WHERE run_id = ? AND status = 'pending'`, run.ID).Error; err != nil {
						return err
					}
				}
				time.Sleep(every)
			}
			return nil
		}()
	}()

	// The chaos loop: runs until the launches are done. Once, half-way, every
	// replica is paused together.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var launchErr error
	begin, pausedAll := time.Now(), false
chaos:
	for {
		select {
		case launchErr = <-launched:
			break chaos
		case <-time.After(everyMin + time.Duration(rng.Int64N(int64(everyMax-everyMin)))):
		}
		if !pausedAll && time.Since(begin) > launchFor/2 {
			pausedAll = true
			d.PauseAll()
			continue
		}
		if err := d.Strike(rng); err != nil {
			t.Fatal(err)
		}
	}
	if launchErr != nil {
		t.Fatalf("launch: %v", launchErr)
	}
	d.WaitResumed()

	eventually(t, 60*time.Second, "every run terminal", func() bool {
		return countWhere(t, st, "runs WHERE status NOT IN ('completed', 'failed')") == 0
	})
	lost := countWhere(t, st, "job_attempts WHERE outcome = 'lost'")
	t.Logf("chaos: %d runs, %d kills, %d pauses, %d attempts lost, %d runs failed",
		runs, d.Kills(), d.Pauses(), lost, countWhere(t, st, "runs WHERE status = 'failed'"))
	if c := d.Bit(lost); len(c.Failures) > 0 {
		t.Fatalf("the chaos did not bite: %s", c.Failures[0])
	}
	checks, err := chaosdrill.Checks(context.Background(), st, runs, maxAttempt)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if bad := c.Failures; len(bad) > 0 {
			if len(bad) > 10 {
				bad = append(bad[:10:10], fmt.Sprintf("… and %d more", len(bad)-10))
			}
			t.Errorf("%s:\n  %s", c.Name, strings.Join(bad, "\n  "))
		}
	}
	o := d.Overlaps()
	for i, x := range o.Doubles {
		if i == 10 {
			break
		}
		t.Errorf("executed twice at once: %s%s", x, logsAbout(logs, x.X))
	}
	t.Logf("tracker: %d task executions of %d jobs; %d overlaps explained by a paused replica's stale task, %d double executions",
		o.Executions, o.Jobs, o.Explained, len(o.Doubles))
}

// logsAbout returns the recorded log lines about x's job or from its replica
// (errors only) since x started.
func logsAbout(logs *observer.ObservedLogs, x chaosdrill.Exec) string {
	var b strings.Builder
	for _, e := range logs.All() {
		if e.Time.Before(x.Start.Add(-time.Second)) {
			continue
		}
		fields := e.ContextMap()
		if id, ok := fields["job_id"].(int64); (ok && id == x.Job) || fields["claimant"] == x.Replica.Name && e.Level >= zap.ErrorLevel {
			fmt.Fprintf(&b, "\n      +%s %s %s %v", e.Time.Sub(x.Start).Round(time.Millisecond), e.Level, e.Message, fields)
		}
	}
	return b.String()
}
