package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestMain lets the test binary act as the scheduler command, so the test
// can start and SIGKILL real scheduler processes.
func TestMain(m *testing.M) {
	if os.Getenv("CYBERBRAIN_TEST_AS_SCHEDULER") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProcess starts a scheduler process (this test binary, see TestMain)
// with a 2 s lease and a 1 s poll; extra flags follow.
func startProcess(t *testing.T, dbURL, claimant string, extra ...string) (*exec.Cmd, *testenv.Buffer) {
	t.Helper()
	args := append([]string{"--claimant", claimant, "--claim-ttl", "2s", "--interval", "1", "--log-format", "json"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CYBERBRAIN_TEST_AS_SCHEDULER=1", "DATABASE_URL="+dbURL)
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}

// SIGKILL of a real scheduler process in the middle of a job: after
// claim-ttl + interval another process has finished the run.
func TestSIGKILLedSchedulerLeavesNoRunUnfinished(t *testing.T) {
	t.Parallel()
	url := testenv.NewDatabaseURL(t)
	st, err := store.Open(context.Background(), url, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = true, default_config = '{"sleep_ms": 60000}' WHERE key = 'noop'`)
	victim, vout := startProcess(t, url, "victim")
	run, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "victim runs the job", func() bool {
		var n int
		testenv.SQL(t, st).Raw(`SELECT count(*) FROM jobs WHERE run_id = ? AND status = 'running' AND claimed_by = 'victim'`, run.ID).Scan(&n)
		return n == 1
	}, vout)
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	killedAt := time.Now()
	// The retry must not sleep a minute: make it quick.
	testenv.SQL(t, st).Exec(`UPDATE jobs SET config = '{"sleep_ms": 10}' WHERE run_id = ?`, run.ID)
	_, sout := startProcess(t, url, "survivor")
	waitFor(t, 20*time.Second, "run completed by the survivor", func() bool {
		var n int
		testenv.SQL(t, st).Raw(`SELECT count(*) FROM runs WHERE id = ? AND status = 'completed'`, run.ID).Scan(&n)
		return n == 1
	}, sout)
	if took := time.Since(killedAt); took > 2*time.Second+time.Second+2*time.Second {
		t.Errorf("run finished %s after the kill; claim-ttl + interval is 3s", took)
	}
	var outcomes []string
	testenv.SQL(t, st).Raw(`SELECT a.outcome || ':' || a.claimant FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? ORDER BY a.attempt`, run.ID).Scan(&outcomes)
	if len(outcomes) != 2 || outcomes[0] != "lost:victim" || outcomes[1] != "completed:survivor" {
		t.Fatalf("attempts = %v", outcomes)
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; process output:\n%s", what, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
