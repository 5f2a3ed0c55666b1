package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// runOnce runs the scheduler binary (this test binary, see TestMain) with
// --once and waits for it to exit.
func runOnce(t *testing.T, dbURL string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"--once", "--log-format", "json"}, args...)...)
	cmd.Env = append(append(os.Environ(), "CYBERBRAIN_TEST_AS_SCHEDULER=1", "DATABASE_URL="+dbURL), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("scheduler --once: %v\n%s", err, out.String())
	}
}

// TestOnceHonoursMaxClaimFromEnvAndFlag: `scheduler --once` makes one claim
// pass, executes what it claimed and exits 0. --max-claim bounds the pass;
// its environment twin CYBERBRAIN_MAX_CLAIM sets it, and the flag wins over
// the environment.
func TestOnceHonoursMaxClaimFromEnvAndFlag(t *testing.T) {
	st := testenv.NewStore(t)
	db := testenv.SQL(t, st)
	if err := db.Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}}); err != nil {
			t.Fatal(err)
		}
	}
	completed := func() int {
		var n int
		if err := db.Raw(`SELECT count(*) FROM runs WHERE status = 'completed'`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	runOnce(t, st.URL(), []string{"CYBERBRAIN_MAX_CLAIM=2"}, "--claimant", "once-1")
	if n := completed(); n != 2 {
		t.Fatalf("after a pass with CYBERBRAIN_MAX_CLAIM=2: %d runs completed, want 2", n)
	}
	runOnce(t, st.URL(), []string{"CYBERBRAIN_MAX_CLAIM=1"}, "--claimant", "once-2", "--max-claim", "2")
	if n := completed(); n != 4 {
		t.Fatalf("after a pass with --max-claim 2 over CYBERBRAIN_MAX_CLAIM=1: %d runs completed, want 4", n)
	}
	var claimants []string
	if err := db.Raw(`SELECT DISTINCT claimant FROM job_attempts ORDER BY 1`).Scan(&claimants).Error; err != nil {
		t.Fatal(err)
	}
	if len(claimants) != 2 || claimants[0] != "once-1" || claimants[1] != "once-2" {
		t.Errorf("attempt claimants = %v, want once-1 and once-2 (--claimant)", claimants)
	}
}
