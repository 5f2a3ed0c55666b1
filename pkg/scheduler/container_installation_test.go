package scheduler_test

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Two deployments (two fresh databases) share the local engine, and each
// runs its job 1 in a container under the default name prefix. Database A's
// replica is killed; A's rescue removes A's container and A's job runs again,
// while B's container, of B's job 1, runs on untouched throughout.
func TestRescueLeavesAnotherDatabasesContainerRunning(t *testing.T) {
	t.Parallel()
	stA, stB := newStore(t), newStore(t)
	rA := newCRig(t, stA, []string{"sleep:1h"}, "max_attempts = 3")
	rB := newCRig(t, stB, []string{"sleep:1h"}, "")
	defaultNames(t, rA)
	defaultNames(t, rB)
	a := startReplica(t, stA, "a", tasks.Registry{}, rA.withContainers)
	startReplica(t, stB, "b", tasks.Registry{}, rB.withContainers)
	runA, runB := rA.launch(t), rB.launch(t)
	if countWhere(t, stA, "jobs WHERE run_id = ? AND id = 1", runA) != 1 ||
		countWhere(t, stB, "jobs WHERE run_id = ? AND id = 1", runB) != 1 {
		t.Fatal("the runs' jobs are not both job 1: the test would prove nothing")
	}
	eventually(t, 60*time.Second, "both job 1 containers running", func() bool { return rA.isRunning(1) && rB.isRunning(1) })

	a.Kill()
	// A's retry must end, B's job never does.
	if err := testenv.SQL(t, stA).Exec(`UPDATE jobs SET config = jsonb_set(config, '{command}', '["say:attempt 2 done"]') WHERE id = 1`).Error; err != nil {
		t.Fatal(err)
	}
	a2 := startReplica(t, stA, "a2", tasks.Registry{}, rA.withContainers)
	waitFor(t, 90*time.Second, "A's run completed", func() bool {
		return countWhere(t, stA, "runs WHERE id = ? AND status = 'completed'", runA) == 1
	}, flushed(a2)...)
	if countWhere(t, stA, "job_attempts WHERE job_id = 1 AND attempt = 1 AND outcome = 'lost'") != 1 {
		t.Fatal("A's attempt 1 is not recorded lost")
	}
	if rA.eventIndex(events.ActionDestroy, 1) < 0 {
		t.Fatal("A's rescue did not remove A's container")
	}
	if !rB.isRunning(1) {
		t.Fatal("B's container of job 1 stopped while A rescued its job 1")
	}
	if i := rB.eventIndex(events.ActionDie, 1); i >= 0 {
		t.Fatalf("B's container died (event %d) during A's rescue", i)
	}
	if countWhere(t, stB, "jobs WHERE id = 1 AND status = 'running' AND attempt = 1") != 1 {
		t.Fatal("B's job 1 is no longer attempt 1 running")
	}
}

// defaultNames gives the rig's runner the default name prefix, as every
// deployment has unless told otherwise: only the installation id then keeps
// two databases' job 1 containers apart.
func defaultNames(t *testing.T, r *cRig) {
	t.Helper()
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	img := testenv.CTask(t, r.cli)
	r.runner = tasks.Container(pool, r.st, r.st, tasks.ContainerOptions{
		Policy: containerspec.Policy{Images: []string{img}}, StopGrace: time.Second})
}
