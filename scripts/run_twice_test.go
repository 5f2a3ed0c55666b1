package scripts

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A second make run in the same checkout refuses at once, naming the first
// (pid and port), and leaves the first one and its PostgreSQL running;
// before, it failed to bind and its cleanup stopped the first one's
// PostgreSQL. Runs the real private cluster of make run.
func TestSecondRunRefusesAndLeavesTheFirstAlone(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql not found")
	}
	if out, err := exec.Command("bash", "-c", "command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl").Output(); err != nil || len(out) == 0 {
		t.Skip("PostgreSQL server binaries not found")
	}
	// Not t.TempDir: PostgreSQL may run as another user, who must reach it.
	data, err := os.MkdirTemp("", "cyberbrain-run.")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(data, 0o755)
	t.Cleanup(func() {
		_ = exec.Command("./pg.sh", "stop", filepath.Join(data, "postgres"), "immediate").Run()
		os.RemoveAll(data)
	})
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	pgPort := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	env := []string{"BIN=" + fakeBin(t), "CYBERBRAIN_DATA_DIR=" + data, "CYBERBRAIN_ADDR=" + addr,
		"CYBERBRAIN_PG_PORT=" + pgPort, "DATABASE_URL="}
	first := startRun(t, env...)
	eventually(t, 90*time.Second, "the first make run to answer", func() bool { return healthy(addr) })

	second := startRun(t, env...)
	out := second.wait(t, 10*time.Second)
	want := fmt.Sprintf("make run: already running (pid %d, :%s)", first.cmd.Process.Pid, port)
	if !strings.Contains(out, want) || second.err == nil {
		t.Errorf("second make run: %v\n%s\nwant %q", second.err, out, want)
	}
	if strings.Contains(out, "PostgreSQL:") || strings.Contains(out, "stopped") {
		t.Errorf("the second make run touched the first one's PostgreSQL or processes:\n%s", out)
	}
	pgURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%s/cyberbrain?sslmode=disable", pgPort)
	if b, err := exec.Command("psql", pgURL, "-tAc", "SELECT 1").CombinedOutput(); err != nil {
		t.Errorf("the first one's PostgreSQL no longer answers: %v %s", err, b)
	}
	if !healthy(addr) {
		t.Error("the first one's API no longer answers")
	}

	_ = first.cmd.Process.Signal(syscall.SIGINT)
	if out := first.wait(t, 30*time.Second); !strings.Contains(out, "stopped") {
		t.Errorf("first make run after Ctrl-C:\n%s", out)
	}
	// Nothing it started (PostgreSQL included) holds the lock now.
	if b, err := exec.Command("flock", "-n", filepath.Join(data, "run.lock"), "true").CombinedOutput(); err != nil {
		t.Errorf("the lock outlives make run: %v %s", err, b)
	}
	if _, err := os.Stat(filepath.Join(data, "run.pid")); !os.IsNotExist(err) {
		t.Errorf("run.pid left behind: %v", err)
	}
}
