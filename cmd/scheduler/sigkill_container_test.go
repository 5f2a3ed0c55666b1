package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"go.uber.org/zap/zaptest"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestSIGKILLedSchedulerContainerIsRemovedBeforeRetry is issue 16's
// acceptance on a real process: a scheduler process SIGKILLed while its
// container task's container runs leaves the container running (nothing of
// the process is left to stop it); another replica's rescue stops and removes
// it before the job is rescued, the job runs again there as attempt 2, and
// the engine, sampled every 20 ms and watched through its event stream, never
// runs two containers of the job at once.
func TestSIGKILLedSchedulerContainerIsRemovedBeforeRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.NewDatabaseURL(t)
	st, err := store.Open(ctx, url, store.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db := testenv.SQL(t, st)
	cli := testenv.Docker(t)
	img := testenv.CTask(t, cli)
	policy := containerspec.Policy{Images: []string{img}}
	key := fmt.Sprintf("sigkill_ct_%d", time.Now().UnixNano()%1e12)

	// Its job is job 1, as in every other test database on the shared
	// engine: the installation label keeps the rescue to this one's.
	w := watchEngine(t, key)

	// The operator defines the task through the API (its own allow-list)
	// and launches it.
	const token = "sigkill-test-token"
	srv, err := api.New(api.Config{Store: st, APIToken: token, ContainerPolicy: policy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	apiCall(t, hs.URL, token, "/api/tasks/", 201, fmt.Sprintf(`{"key": %q, "kind": "container",
		"timeout_seconds": 300, "max_attempts": 3,
		"default_config": {"image": %q, "pull": "never", "command": ["say:attempt started", "sleep:1h"]}}`, key, img), nil)

	// The first replica is a real process, given the allow-list by flag.
	victim, vout := startProcess(t, url, "victim", "--container-images", img)
	var run store.RunDetail
	apiCall(t, hs.URL, token, "/api/runs/launch/", 201, fmt.Sprintf(`{"tasks": [%q]}`, key), &run)
	if len(run.Jobs) != 1 {
		t.Fatalf("launch made %d jobs", len(run.Jobs))
	}
	job := run.Jobs[0].ID
	jobLabel := strconv.FormatInt(job, 10)

	first := w.await(t, "the victim's container to start", 30*time.Second, vout, func(m events.Message) bool {
		return m.Action == events.ActionStart && m.Actor.Attributes[tasks.LabelAttempt] == "1"
	})
	if a := first.Actor.Attributes; a[tasks.LabelJob] != jobLabel || a[tasks.LabelClaimant] != "victim" {
		t.Fatalf("first container's labels = %v, want job %d of claimant victim", a, job)
	}
	// The victim process read the same installation id as this store: the
	// survivor's rescue finds the container by it.
	if install, err := st.InstallationID(ctx); err != nil || first.Actor.Attributes[tasks.LabelInstallation] != install {
		t.Fatalf("first container's installation = %q, want this database's %q (%v)",
			first.Actor.Attributes[tasks.LabelInstallation], install, err)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	killedAt := time.Now()
	// Nothing of the process is left to stop its container.
	if c, err := cli.ContainerInspect(ctx, first.Actor.ID); err != nil || !c.State.Running {
		t.Fatalf("the container did not outlive its SIGKILLed replica: %v", err)
	}
	// Attempt 1 never ends by itself; the retry must not sleep an hour, but
	// long enough for the sampler to see it run.
	if err := db.Exec(`UPDATE jobs SET config = jsonb_set(config, '{command}', '["sleep:1s", "say:attempt 2 done"]') WHERE id = ?`, job).Error; err != nil {
		t.Fatal(err)
	}

	survivor := startSurvivor(t, st, policy)
	fin := awaitFinished(t, survivor, job, 30*time.Second)
	if fin.Attempt != 2 || string(fin.Status) != "completed" {
		t.Fatalf("job %d finished as attempt %d %s, want attempt 2 completed", job, fin.Attempt, fin.Status)
	}
	t.Logf("attempt 2 completed %s after the SIGKILL", time.Since(killedAt).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "the run completed", func() bool {
		var n int
		db.Raw(`SELECT count(*) FROM runs WHERE id = ? AND status = 'completed'`, run.ID).Scan(&n)
		return n == 1
	}, vout)

	var attempts []struct {
		Attempt  int
		Claimant string
		Outcome  string
		Error    string
		EndedAt  time.Time
	}
	db.Raw(`SELECT attempt, claimant, outcome, error, ended_at FROM job_attempts WHERE job_id = ? ORDER BY attempt`, job).Scan(&attempts)
	if len(attempts) != 2 || attempts[0].Outcome != "lost" || attempts[0].Claimant != "victim" ||
		!strings.Contains(attempts[0].Error, "claimant victim") ||
		attempts[1].Outcome != "completed" || attempts[1].Claimant != "survivor" {
		t.Fatalf("attempts = %+v, want 1 lost by victim, 2 completed by survivor", attempts)
	}
	// Lease (2 s) + a poll (1 s) + the stop grace (1 s), with room for -race.
	if took := attempts[0].EndedAt.Sub(killedAt); took > 7*time.Second {
		t.Errorf("attempt 1 was rescued %s after the SIGKILL", took)
	}

	// The second container's removal ends the story: every event is in.
	w.await(t, "attempt 2's container to be removed", 20*time.Second, vout, func(m events.Message) bool {
		return m.Action == events.ActionDestroy && m.Actor.Attributes[tasks.LabelAttempt] == "2"
	})
	destroyed1 := w.index(events.ActionDestroy, "1")
	created2 := w.index(events.ActionCreate, "2")
	evs := w.snapshot()
	if destroyed1 < 0 || created2 < 0 || destroyed1 > created2 {
		t.Fatalf("attempt 1 destroyed at event %d, attempt 2 created at %d (events: %s): the rescue must remove first",
			destroyed1, created2, describe(evs))
	}
	if evs[destroyed1].Actor.ID != first.Actor.ID {
		t.Fatalf("destroyed %s, not the first container %s", evs[destroyed1].Actor.ID, first.Actor.ID)
	}
	// Removed by the rescue, not by attempt 2 meeting a stale container:
	// gone before attempt 1 was recorded lost (engine and database share
	// the host's clock).
	if gone := time.Unix(0, evs[destroyed1].TimeNano); !gone.Before(attempts[0].EndedAt) {
		t.Fatalf("attempt 1's container was removed at %s, after its rescue at %s", gone, attempts[0].EndedAt)
	}
	peak, seen, samples := w.sampled()
	if peak != 1 || !seen["1"] || !seen["2"] {
		t.Fatalf("sampler (%d samples): peak %d containers of the job at once (want 1), attempts seen running %v",
			samples, peak, seen)
	}
	if n := w.leftovers(t); n != 0 {
		t.Fatalf("%d container(s) of the task left", n)
	}
}

// startSurvivor runs an in-process replica with container tasks and a
// short lease, stopped when the test ends.
func startSurvivor(t *testing.T, st *store.Store, policy containerspec.Policy) *scheduler.Scheduler {
	t.Helper()
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	s, err := scheduler.New(scheduler.Config{
		Store:           st,
		Logger:          zaptest.NewLogger(t).Named("survivor"),
		Tasks:           tasks.Registry{},
		Containers:      tasks.Container(pool, st, st, tasks.ContainerOptions{Policy: policy, StopGrace: time.Second}),
		Claimant:        "survivor",
		Interval:        time.Second,
		ClaimTTL:        2 * time.Second,
		MaxConcurrent:   4,
		ShutdownTimeout: 5 * time.Second,
		RetryBackoff:    func(int) time.Duration { return 50 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.TestSignals.Init(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("survivor did not stop")
		}
	})
	return s
}

// awaitFinished waits for the replica to write the end of the job.
func awaitFinished(t *testing.T, s *scheduler.Scheduler, job int64, timeout time.Duration) scheduler.FinishedSignal {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case f := <-s.TestSignals.Finished.C():
			if f.JobID == job {
				return f
			}
		case <-timer.C:
			t.Fatalf("job %d did not finish on the survivor within %s", job, timeout)
		}
	}
}

// apiCall POSTs body and checks the status; into, if not nil, gets the
// answer.
func apiCall(t *testing.T, base, token, path string, want int, body string, into any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", path, resp.StatusCode, b, want)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("POST %s: %v: %s", path, err, b)
		}
	}
}

// engineWatch records the engine's events for a task's containers, in the
// engine's order, and samples its running containers every 20 ms.
type engineWatch struct {
	cli     *client.Client
	key     string
	changed chan struct{}

	mu      sync.Mutex
	events  []events.Message
	peak    int             // most running containers of one job at one sample
	seen    map[string]bool // attempts seen running
	samples int
}

func watchEngine(t *testing.T, key string) *engineWatch {
	t.Helper()
	w := &engineWatch{cli: testenv.Docker(t), key: key, changed: make(chan struct{}, 1), seen: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		w.removeAll()
	})
	// Clients of their own: the engine client's version negotiation is not
	// safe for first use from two goroutines.
	evCli, sampleCli := testenv.Docker(t), testenv.Docker(t)
	msgs, errs := evCli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", "container"), filters.Arg("label", tasks.LabelTask+"="+key))})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case m := <-msgs:
				w.mu.Lock()
				w.events = append(w.events, m)
				w.mu.Unlock()
				select {
				case w.changed <- struct{}{}:
				default:
				}
			case <-errs:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			list, err := sampleCli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
				filters.Arg("label", tasks.LabelTask+"="+key), filters.Arg("status", "running"))})
			if err == nil {
				perJob := map[string]int{}
				w.mu.Lock()
				for _, c := range list {
					perJob[c.Labels[tasks.LabelJob]]++
					w.seen[c.Labels[tasks.LabelAttempt]] = true
				}
				for _, n := range perJob {
					w.peak = max(w.peak, n)
				}
				w.samples++
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	return w
}

// await returns the first event that matches, waiting for the engine's
// stream up to timeout.
func (w *engineWatch) await(t *testing.T, what string, timeout time.Duration, logs fmt.Stringer, match func(events.Message) bool) events.Message {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		for _, m := range w.snapshot() {
			if match(m) {
				return m
			}
		}
		select {
		case <-w.changed:
		case <-timer.C:
			t.Fatalf("timed out waiting for %s (events: %s); process output:\n%s", what, describe(w.snapshot()), logs.String())
		}
	}
}

func (w *engineWatch) snapshot() []events.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]events.Message(nil), w.events...)
}

// index is the position of the first event with this action for the
// attempt, or -1.
func (w *engineWatch) index(action events.Action, attempt string) int {
	for i, m := range w.snapshot() {
		if m.Action == action && m.Actor.Attributes[tasks.LabelAttempt] == attempt {
			return i
		}
	}
	return -1
}

func (w *engineWatch) sampled() (peak int, seen map[string]bool, samples int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen = map[string]bool{}
	for k, v := range w.seen {
		seen[k] = v
	}
	return w.peak, seen, w.samples
}

// list is every container of the task, running or not.
func (w *engineWatch) list() ([]container.Summary, error) {
	return w.cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", tasks.LabelTask+"="+w.key))})
}

func (w *engineWatch) leftovers(t *testing.T) int {
	t.Helper()
	list, err := w.list()
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func (w *engineWatch) removeAll() {
	list, _ := w.list()
	for _, c := range list {
		_ = w.cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	}
}

// describe lists events as action/attempt, for failure messages.
func describe(evs []events.Message) string {
	var b strings.Builder
	for _, m := range evs {
		fmt.Fprintf(&b, "%s/%s ", m.Action, m.Actor.Attributes[tasks.LabelAttempt])
	}
	return b.String()
}
