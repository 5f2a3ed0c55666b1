package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// cRig is a container task on the local engine, with a sampler that polls
// the engine for the task's running containers.
type cRig struct {
	t      *testing.T
	st     *store.Store
	cli    *client.Client
	key    string
	runner *tasks.ContainerTask

	mu       sync.Mutex
	peakJob  int // most containers of one job running at one sample
	peakAll  int // most containers of the task running at one sample
	seen     map[string]bool
	events   []events.Message
	samplers sync.WaitGroup
}

func newCRig(t *testing.T, st *store.Store, cmd []string, set string) *cRig {
	t.Helper()
	cli := testenv.Docker(t)
	img := testenv.CTask(t, cli)
	key := fmt.Sprintf("ct_%d", time.Now().UnixNano()%1e12)
	c, _ := json.Marshal(cmd)
	cfg := fmt.Sprintf(`{"image": %q, "command": %s, "pull": "never"}`, img, c)
	testenv.SQL(t, st).Exec(`INSERT INTO task_definitions (key, kind, default_config, container_env, needs_docker)
		VALUES (?, 'container', ?::jsonb, '{"SECRET": "hunter2-secret"}', true)`, key, cfg)
	if set != "" {
		testenv.SQL(t, st).Exec(`UPDATE task_definitions SET `+set+` WHERE key = ?`, key)
	}
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	r := &cRig{t: t, st: st, cli: cli, key: key, seen: map[string]bool{},
		runner: tasks.Container(pool, st, st, tasks.ContainerOptions{Policy: containerspec.Policy{Images: []string{img}},
			StopGrace: time.Second, NamePrefix: key})}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		r.samplers.Wait()
		r.removeAll()
	})
	r.sample(ctx)
	r.watch(ctx)
	return r
}

func (r *cRig) withContainers(c *scheduler.Config) { c.Containers = r.runner }

// running lists the task's running containers.
func (r *cRig) running(ctx context.Context) ([]container.Summary, error) {
	return r.cli.ContainerList(ctx, container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", tasks.LabelTask+"="+r.key), filters.Arg("status", "running"))})
}

// sample polls the engine until the test ends: the check that no job ever
// runs in two containers at once, and that limits hold.
func (r *cRig) sample(ctx context.Context) {
	r.samplers.Add(1)
	go func() {
		defer r.samplers.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			list, err := r.running(ctx)
			if err == nil {
				perJob := map[string]int{}
				r.mu.Lock()
				for _, c := range list {
					perJob[c.Labels[tasks.LabelJob]]++
					r.seen[c.Labels[tasks.LabelJob]+"/"+c.Labels[tasks.LabelAttempt]] = true
				}
				for _, n := range perJob {
					r.peakJob = max(r.peakJob, n)
				}
				r.peakAll = max(r.peakAll, len(list))
				r.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
}

// watch records the engine's create, start, die and destroy events of the
// task's containers, in the engine's order.
func (r *cRig) watch(ctx context.Context) {
	// A client of its own: the engine client's version negotiation is not
	// safe for first use from two goroutines.
	cli := testenv.Docker(r.t)
	msgs, errs := cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", "container"), filters.Arg("label", tasks.LabelTask+"="+r.key))})
	r.samplers.Add(1)
	go func() {
		defer r.samplers.Done()
		for {
			select {
			case m := <-msgs:
				r.mu.Lock()
				r.events = append(r.events, m)
				r.mu.Unlock()
			case <-errs:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
}

// isRunning reports whether a container of attempt n of the task runs.
func (r *cRig) isRunning(attempt int) bool {
	list, err := r.running(context.Background())
	if err != nil {
		return false
	}
	for _, c := range list {
		if c.Labels[tasks.LabelAttempt] == strconv.Itoa(attempt) {
			return true
		}
	}
	return false
}

// eventIndex is the position of the first event with this action for the
// attempt, or -1.
func (r *cRig) eventIndex(action events.Action, attempt int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range r.events {
		if m.Action == action && m.Actor.Attributes[tasks.LabelAttempt] == strconv.Itoa(attempt) {
			return i
		}
	}
	return -1
}

func (r *cRig) peaks() (perJob, all int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peakJob, r.peakAll
}

func (r *cRig) leftovers(t *testing.T) int {
	list, err := r.cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", tasks.LabelTask+"="+r.key))})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func (r *cRig) removeAll() {
	list, _ := r.cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", tasks.LabelTask+"="+r.key))})
	for _, c := range list {
		_ = r.cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	}
}

func (r *cRig) launch(t *testing.T) int64 {
	t.Helper()
	run, err := r.st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{r.key}})
	if err != nil {
		t.Fatal(err)
	}
	return run.ID
}

func fmtAny(v any) string { return fmt.Sprint(v) }
