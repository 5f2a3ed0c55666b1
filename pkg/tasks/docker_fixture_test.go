package tasks

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The logger image is built once per test process and removed at its end.
var (
	imageOnce sync.Once
	imageTag  string
	imageErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if imageTag != "" {
		if cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err == nil {
			_, _ = cli.ImageRemove(context.Background(), imageTag, image.RemoveOptions{Force: true, PruneChildren: true})
			cli.Close()
		}
	}
	os.Exit(code)
}

func unique(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// loggerImage builds testdata/logger statically and wraps it in an image
// FROM scratch (there is no registry to pull a base image from).
func loggerImage(t *testing.T, cli *client.Client) string {
	t.Helper()
	imageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cb-logger-")
		if err != nil {
			imageErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "logger"), "./testdata/logger")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			imageErr = errors.New("go build logger: " + err.Error() + ": " + string(out))
			return
		}
		bin, err := os.ReadFile(filepath.Join(dir, "logger"))
		if err != nil {
			imageErr = err
			return
		}
		var ctxTar bytes.Buffer
		tw := tar.NewWriter(&ctxTar)
		for _, f := range []struct {
			name string
			mode int64
			data []byte
		}{
			{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY logger /logger\nENTRYPOINT [\"/logger\"]\n")},
			{"logger", 0o755, bin},
		} {
			_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))})
			_, _ = tw.Write(f.data)
		}
		_ = tw.Close()
		tag := unique("cyberbrain-test-logger") + ":latest"
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		resp, err := cli.ImageBuild(ctx, &ctxTar, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
		if err != nil {
			imageErr = err
			return
		}
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var msg struct {
				Error string `json:"error"`
			}
			if err := dec.Decode(&msg); err == io.EOF {
				break
			} else if err != nil {
				imageErr = err
				return
			}
			if msg.Error != "" {
				imageErr = errors.New("docker build: " + msg.Error)
				return
			}
		}
		imageTag = tag
	})
	if imageErr != nil {
		t.Fatalf("logger image: %v", imageErr)
	}
	return imageTag
}

// fixture is a user network with containers of the logger image.
type fixture struct {
	cli     *client.Client
	network string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cli := testenv.Docker(t)
	loggerImage(t, cli)
	name := unique("cb-net")
	ctx := context.Background()
	if _, err := cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge"}); err != nil {
		t.Fatalf("create network: %v", err)
	}
	t.Cleanup(func() { _ = cli.NetworkRemove(context.Background(), name) })
	return &fixture{cli: cli, network: name}
}

// start runs a logger container on the fixture's network; publish maps its
// 8080/tcp to an ephemeral host port. It returns the container id once the
// first batch of lines is logged.
func (f *fixture) start(t *testing.T, name string, env []string, publish bool) string {
	t.Helper()
	ctx := context.Background()
	hc := &container.HostConfig{}
	cfg := &container.Config{Image: imageTag, Env: env, Labels: map[string]string{
		"com.docker.compose.project": "cbtest", "com.docker.compose.service": name,
	}}
	if publish {
		cfg.ExposedPorts = nat.PortSet{"8080/tcp": {}}
		hc.PortBindings = nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}
	}
	created, err := f.cli.ContainerCreate(ctx, cfg, hc,
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{f.network: {}}}, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = f.cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if err := f.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start container %s: %v", name, err)
	}
	f.waitLog(t, created.ID, "batch 1 done")
	f.waitLog(t, created.ID, "batch 1 stderr done")
	return created.ID
}

// waitLog waits until a container has logged a line containing marker.
func (f *fixture) waitLog(t *testing.T, id, marker string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rc, err := f.cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
		if err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			if strings.Contains(string(b), marker) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s never logged %q (last error %v)", id, marker, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// taskDB is a test database with a run and a job for the task under test.
type taskDB struct {
	t    testing.TB
	st   *store.Store
	host store.WorkerHost
	job  store.Job
}

func newTaskDB(t *testing.T, taskType string, config string) *taskDB {
	t.Helper()
	st := testenv.NewStore(t)
	ctx := context.Background()
	var host store.WorkerHost
	if err := testenv.SQL(t, st).WithContext(ctx).Where("name = ?", "local").First(&host).Error; err != nil {
		t.Fatalf("load local host: %v", err)
	}
	return &taskDB{t: t, st: st, host: host, job: newJob(t, st, host.ID, taskType, config)}
}

func newJob(t *testing.T, st *store.Store, hostID int64, taskType, config string) store.Job {
	t.Helper()
	ctx := context.Background()
	run := store.Run{Status: "running", WorkerHostID: &hostID, DirectiveSnapshot: store.JSON(`{}`)}
	if err := testenv.SQL(t, st).WithContext(ctx).Create(&run).Error; err != nil {
		t.Fatalf("create run: %v", err)
	}
	if config == "" {
		config = "{}"
	}
	job := store.Job{RunID: run.ID, TaskType: taskType, Status: "running", Config: store.JSON(config), WorkerHostID: &hostID, MaxAttempts: 3, TimeoutSeconds: 300, Attempt: 1}
	if err := testenv.SQL(t, st).WithContext(ctx).Create(&job).Error; err != nil {
		t.Fatalf("create job: %v", err)
	}
	return job
}

func (d *taskDB) allow(t *testing.T, hostID *int64, name string) {
	t.Helper()
	e := store.ContainerAllowlistEntry{WorkerHostID: hostID, ContainerName: name, Enabled: true, Tags: store.JSON(`[]`)}
	if err := testenv.SQL(d.t, d.st).Create(&e).Error; err != nil {
		t.Fatalf("allow-list %s: %v", name, err)
	}
}

func (d *taskDB) env(host *store.WorkerHost, job store.Job) Env {
	return Env{Job: job, Host: host, AllowList: d.st, LogCursors: d.st, LLMCalls: d.st, Logger: zap.NewNop(), Directive: json.RawMessage(`{}`)}
}

// run executes a task and, like the scheduler on acceptance, stores its
// artifacts and runs OnCommit in one transaction.
func (d *taskDB) run(t *testing.T, task Task, host *store.WorkerHost, job store.Job) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := task.Run(ctx, d.env(host, job))
	if err != nil {
		t.Fatalf("%s: %v", job.TaskType, err)
	}
	if err := d.st.InTx(ctx, func(tx *store.Tx) error { return res.SaveInTx(ctx, tx, job) }); err != nil {
		t.Fatalf("save result: %v", err)
	}
	return res
}

func artifact(t *testing.T, res *Result, name string) []byte {
	t.Helper()
	for _, a := range res.Artifacts {
		if a.Name == name {
			return a.Content
		}
	}
	t.Fatalf("no artifact %s", name)
	return nil
}

var testPool = dockerhost.NewPool()
