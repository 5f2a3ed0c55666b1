package deployments

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
	"github.com/cyberbrain/cyberbrain/pkg/web"
)

// runSmoke runs scripts/smoke.sh against host with extra environment.
func runSmoke(t *testing.T, host string, env ...string) (int, string, string) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CYBERBRAIN_REQUIRE_DOCKER") == "1" {
				t.Fatalf("%s not installed (apt-get install %s); .ci/run installs it", tool, tool)
			}
			t.Skipf("%s not installed (apt-get install %s)", tool, tool)
		}
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "scripts", "smoke.sh"))
	cmd.Env = append(os.Environ(), "HOST="+host, "CYBERBRAIN_API_TOKEN=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run smoke.sh: %v", err)
	}
	return code, stdout.String(), stderr.String()
}

// startStack serves the real API on a fresh database and, when withScheduler
// is set, runs a real scheduler replica (30 s poll: NOTIFY must wake it) with
// the real tasks against the local Docker engine.
func startStack(t *testing.T, token string, withScheduler bool) string {
	t.Helper()
	testenv.Docker(t)
	st := testenv.NewStore(t)
	ui, err := web.New(web.Config{Store: st, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: st, APIToken: token, Dashboard: ui})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	if withScheduler {
		startScheduler(t, st)
	}
	return strings.TrimPrefix(hs.URL, "http://")
}

func startScheduler(t *testing.T, st *store.Store) {
	t.Helper()
	pool := dockerhost.NewPool()
	sch, err := scheduler.New(scheduler.Config{Store: st, Logger: zap.NewNop(), Tasks: tasks.Default(pool, tasks.LLMConfig{}),
		Interval: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sch.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; pool.Close() })
}

// The customer's verification steps pass against the real API and scheduler,
// with the API token required.
func TestSmokeScriptPassesAgainstTheRealStack(t *testing.T) {
	t.Parallel()
	host := startStack(t, "s3cret", true)
	code, stdout, stderr := runSmoke(t, host, "CYBERBRAIN_API_TOKEN=s3cret")
	if code != 0 {
		t.Fatalf("smoke.sh exited %d:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "smoke: OK (run ") {
		t.Errorf("no OK line:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "s3cret") {
		t.Error("smoke.sh printed the API token")
	}
}

func TestSmokeScriptFailsClearly(t *testing.T) {
	t.Parallel()
	t.Run("no scheduler", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runSmoke(t, startStack(t, "", false), "SMOKE_TIMEOUT=2")
		want := "still pending after 2s: is a scheduler running? (docker-compose ps scheduler"
		if code == 0 || !strings.Contains(stderr, want) {
			t.Fatalf("exit %d, want failure %q:\n%s%s", code, want, stdout, stderr)
		}
	})
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runSmoke(t, startStack(t, "s3cret", false))
		if want := "401 unauthorized: set CYBERBRAIN_API_TOKEN"; code == 0 || !strings.Contains(stderr, want) {
			t.Fatalf("exit %d, want failure %q:\n%s%s", code, want, stdout, stderr)
		}
	})
	t.Run("bad timeout", func(t *testing.T) {
		t.Parallel()
		code, _, stderr := runSmoke(t, startStack(t, "", false), "SMOKE_TIMEOUT=soon")
		if code == 0 || !strings.Contains(stderr, "SMOKE_TIMEOUT must be whole seconds") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
	})
	t.Run("API down", func(t *testing.T) {
		code, _, stderr := runSmoke(t, "127.0.0.1:"+freePort(t))
		if code == 0 || !strings.Contains(stderr, "cannot reach the API") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
