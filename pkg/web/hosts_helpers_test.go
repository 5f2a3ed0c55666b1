package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/gpuinfo"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
	"github.com/cyberbrain/cyberbrain/pkg/web"
)

// xss is a payload that sets window.__xss if it ever runs.
const xss = `<img src=x onerror="window.__xss=1">`

// withChecker gives the dashboard a host checker ("Check now").
func withChecker(c web.HostChecker) envOption {
	return func(_ *api.Config, w *web.Config) { w.HostChecker = c }
}

// fakeChecker answers every health check with h.
type fakeChecker struct{ h store.HostHealth }

func (f fakeChecker) Health(context.Context, store.WorkerHost) (store.HostHealth, error) {
	return f.h, nil
}

func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// newHost stores an enabled docker_socket worker host for the engine local
// to the test (base_url empty: DOCKER_HOST or the default socket).
func newHost(t *testing.T, st *store.Store, name string) *store.WorkerHost {
	t.Helper()
	h := &store.WorkerHost{Name: name, Type: domain.HostDockerSocket, Enabled: true, TLSVerify: true, Capabilities: store.JSON(`{}`)}
	if err := st.SaveWorkerHost(context.Background(), h); err != nil {
		t.Fatalf("save worker host: %v", err)
	}
	return h
}

func allow(t *testing.T, st *store.Store, hostID int64, name string) {
	t.Helper()
	e := store.ContainerAllowlistEntry{WorkerHostID: &hostID, ContainerName: name, Enabled: true, Tags: store.JSON(`[]`)}
	if err := st.SaveAllowlistEntry(context.Background(), &e); err != nil {
		t.Fatalf("allow-list %s: %v", name, err)
	}
}

// launchOn launches one task on a host and returns the run id.
func launchOn(t *testing.T, st *store.Store, task string, hostID int64) int64 {
	t.Helper()
	run, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{task}, TargetHostID: &hostID})
	if err != nil {
		t.Fatalf("launch %s: %v", task, err)
	}
	return run.ID
}

// dockerNetwork creates a user-defined bridge network, removed at cleanup
// (after the containers on it, whose cleanups run first).
func dockerNetwork(t *testing.T, cli *client.Client, name string) {
	t.Helper()
	if _, err := cli.NetworkCreate(context.Background(), name, network.CreateOptions{Driver: "bridge"}); err != nil {
		t.Fatalf("create network %s: %v", name, err)
	}
	t.Cleanup(func() { _ = cli.NetworkRemove(context.Background(), name) })
}

// ctaskContainer runs the ctask test image (sleeping) as name, on netName
// when set, with labels, env and 8080/tcp published on an ephemeral port
// when publish is set. It is removed at cleanup.
func ctaskContainer(t *testing.T, cli *client.Client, name, netName string, labels map[string]string, env []string, publish bool) {
	t.Helper()
	ctx := context.Background()
	cfg := &container.Config{Image: testenv.CTaskImage, Cmd: []string{"sleep:10m"}, Labels: labels, Env: env}
	hc := &container.HostConfig{}
	if publish {
		cfg.ExposedPorts = nat.PortSet{"8080/tcp": {}}
		hc.PortBindings = nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}
	}
	var nc *network.NetworkingConfig
	if netName != "" {
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netName: {}}}
	}
	created, err := cli.ContainerCreate(ctx, cfg, hc, nc, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start container %s: %v", name, err)
	}
}

// installFakeNvidiaSMI puts a nvidia-smi first on PATH that answers
// gpu_report's queries with the given CSV. Not parallel: PATH is
// process-wide.
func installFakeNvidiaSMI(t *testing.T, gpus, apps string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"gpus.csv": gpus, "apps.csv": apps} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := gpuinfo.Args("query-gpu", gpuinfo.QueryGPUFields)
	a := gpuinfo.Args("query-compute-apps", gpuinfo.QueryAppsFields)
	script := "#!/bin/sh\nd='" + dir + "'\ncase \"$1 $2\" in\n" +
		"\"" + g[0] + " " + g[1] + "\") cat \"$d/gpus.csv\";;\n" +
		"\"" + a[0] + " " + a[1] + "\") cat \"$d/apps.csv\";;\n" +
		"\"-L \") echo 'GPU 0: fake';;\n" +
		"*) echo \"unexpected: $*\" >&2; exit 2;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// finishedReport stores a completed job of task on host with doc as its
// JSON artifact, as the scheduler would.
func finishedReport(t *testing.T, st *store.Store, task string, hostID int64, doc any) int64 {
	t.Helper()
	db := testenv.SQL(t, st)
	now := time.Now()
	run := store.Run{Status: domain.StatusCompleted, WorkerHostID: &hostID, DirectiveSnapshot: store.JSON(`{}`), StartedAt: &now, CompletedAt: &now}
	if err := db.Create(&run).Error; err != nil {
		t.Fatalf("create run: %v", err)
	}
	job := store.Job{RunID: run.ID, TaskType: task, Status: domain.StatusCompleted, Config: store.JSON(`{}`), WorkerHostID: &hostID,
		Attempt: 1, MaxAttempts: 3, TimeoutSeconds: 300, StartedAt: &now, CompletedAt: &now, Result: store.JSON(`{}`)}
	if err := db.Create(&job).Error; err != nil {
		t.Fatalf("create job: %v", err)
	}
	b, _ := json.Marshal(doc)
	art := store.Artifact{RunID: run.ID, JobID: &job.ID, Name: task + ".json", ContentType: "application/json", Size: int64(len(b)), Content: b}
	if err := db.Create(&art).Error; err != nil {
		t.Fatalf("create artifact: %v", err)
	}
	return run.ID
}

func hostURL(e *env, id int64, rest string) string {
	return e.url + "/hosts/" + strconv.FormatInt(id, 10) + rest
}

// expectBrowserError waits until the browser has logged an error that
// contains want (a refused form's status, logged asynchronously) and
// forgets the errors; any other error fails the test.
func expectBrowserError(t *testing.T, e *env, want string) {
	t.Helper()
	for _, m := range e.b.WaitErrors(t, 10*time.Second, want) {
		if !strings.Contains(m, want) {
			t.Errorf("unexpected browser error: %s", m)
		}
	}
}
