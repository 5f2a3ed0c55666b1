package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// specsFake serves one definition.
type specsFake struct {
	config, env string
}

func (f specsFake) ContainerTaskSpec(_ context.Context, key string) (*store.ContainerTask, error) {
	return &store.ContainerTask{Key: key, DefaultConfig: json.RawMessage(f.config), Env: json.RawMessage(f.env)}, nil
}

// installFake is an installation id of its own per rig, as each test
// database would have.
type installFake string

func (f installFake) InstallationID(context.Context) (string, error) { return string(f), nil }

type ctaskRig struct {
	cli     *client.Client
	img     string
	install string
	task    *ContainerTask
	job     store.Job
	host    *store.WorkerHost
}

// newCTask sets up a container task over the ctask image with the given
// command; the job id is random so parallel tests never share a name.
func newCTask(t *testing.T, extra string, cmd ...string) *ctaskRig {
	t.Helper()
	cli := testenv.Docker(t)
	img := testenv.CTask(t, cli)
	c, _ := json.Marshal(cmd)
	cfg := fmt.Sprintf(`{"image": %q, "command": %s, "pull": "never"%s}`, img, c, extra)
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	install := unique("inst")
	r := &ctaskRig{cli: cli, img: img, install: install, host: &store.WorkerHost{ID: 1, Name: "local", Type: domain.HostDockerSocket},
		task: Container(pool, specsFake{config: cfg, env: `{"SECRET": "hunter2"}`}, installFake(install),
			ContainerOptions{Policy: containerspec.Policy{Images: []string{img}}, StopGrace: time.Second})}
	r.job = store.Job{ID: 1_000_000 + rand.Int64N(1_000_000_000), RunID: 9, TaskType: "ctest", Attempt: 1,
		ClaimedBy: "test:1", Config: json.RawMessage(cfg)}
	t.Cleanup(func() {
		_ = clearJob(context.Background(), cli, r.host, r.ref(), 0)
	})
	return r
}

// ref names the rig's job on the engine.
func (r *ctaskRig) ref() jobRef {
	return jobRef{install: r.install, id: r.job.ID, name: jobContainerName("cyberbrain", r.install, r.job.ID)}
}

func (r *ctaskRig) run(ctx context.Context) (*Result, error) {
	return r.task.Run(ctx, Env{Job: r.job, Host: r.host})
}

// containers lists the job's containers (all states).
func (r *ctaskRig) containers(t *testing.T) []container.Summary {
	t.Helper()
	list, err := r.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: r.ref().filter()})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func outArtifact(res *Result, name string) string {
	for _, a := range res.Artifacts {
		if a.Name == name {
			return string(a.Content)
		}
	}
	return ""
}

func TestContainerTaskExitZeroCompletesWithOutput(t *testing.T) {
	t.Parallel()
	r := newCTask(t, "", "say:hello from the container", "lines:3", "envlen:SECRET", "exit:0")
	res, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := outArtifact(res, "output.log")
	for _, want := range []string{"hello from the container", "line 3", "len(SECRET)=7"} {
		if !strings.Contains(out, want) {
			t.Errorf("output.log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") || strings.Contains(res.ReportMarkdown, "hunter2") {
		t.Fatal("the secret leaked into the output")
	}
	if res.Data["exit_code"] != int64(0) || !strings.Contains(res.ReportMarkdown, "line 3") {
		t.Fatalf("result %v, report:\n%s", res.Data, res.ReportMarkdown)
	}
	if outArtifact(res, "report.md") == "" || outArtifact(res, "ctest.json") == "" {
		t.Fatal("report.md or ctest.json missing")
	}
	if n := len(r.containers(t)); n != 0 {
		t.Fatalf("%d container(s) left after success", n)
	}
}

func TestContainerTaskExitThreeFailsWithLastLines(t *testing.T) {
	t.Parallel()
	r := newCTask(t, "", "lines:30", "say:giving up", "exit:3")
	_, err := r.run(context.Background())
	var fr *FailedWithResult
	if !errors.As(err, &fr) || domain.IsRetryable(err) {
		t.Fatalf("err = %v (want a permanent FailedWithResult)", err)
	}
	msg := err.Error()
	// stdout and stderr interleave as the engine logged them; only the
	// stderr lines' order is certain.
	if !strings.Contains(msg, "exit code 3") || !strings.Contains(msg, "line 30") {
		t.Fatalf("error lacks the exit code or last lines: %s\nfull:\n%s", msg, outArtifact(fr.Result, "output.log"))
	}
	if strings.Contains(msg, "line 5\n") {
		t.Fatalf("error holds more than the last lines: %s", msg)
	}
	if out := outArtifact(fr.Result, "output.log"); !strings.Contains(out, "line 1\n") || !strings.Contains(out, "giving up") {
		t.Fatal("output.log of the failure lacks the first line")
	}
	if n := len(r.containers(t)); n != 0 {
		t.Fatalf("%d container(s) left after failure without keep_on_failure", n)
	}
}

func TestContainerTaskKeepOnFailureKeepsARenamedContainer(t *testing.T) {
	t.Parallel()
	r := newCTask(t, `, "keep_on_failure": true`, "exit:4")
	if _, err := r.run(context.Background()); err == nil || !strings.Contains(err.Error(), "exit code 4") {
		t.Fatalf("err = %v", err)
	}
	list := r.containers(t)
	want := fmt.Sprintf("/cyberbrain-%s-job-%d-attempt-1", r.install, r.job.ID)
	if len(list) != 1 || list[0].Names[0] != want {
		t.Fatalf("kept containers %+v, want one named %s", list, want)
	}
	t.Cleanup(func() {
		_ = r.cli.ContainerRemove(context.Background(), list[0].ID, container.RemoveOptions{Force: true})
	})
	// The next attempt is not blocked by the kept one, and clearing the job
	// leaves it for inspection.
	r.job.Attempt = 2
	r.task.specs = specsFake{config: fmt.Sprintf(`{"image": %q, "command": ["exit:0"], "pull": "never"}`, r.img), env: `{}`}
	r.job.Config = json.RawMessage(fmt.Sprintf(`{"image": %q, "command": ["exit:0"], "pull": "never"}`, r.img))
	if _, err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.task.Clear(context.Background(), r.host, r.job.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(r.containers(t)); n != 1 {
		t.Fatalf("containers after clear = %d, want the kept one", n)
	}
}

// Past its deadline the container is stopped, killed when it ignores
// SIGTERM, removed, and the attempt fails as retryable.
func TestContainerTaskTimeoutStopsThenKills(t *testing.T) {
	t.Parallel()
	r := newCTask(t, "", "ignore-term", "say:working", "sleep:1h")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 2*time.Second, errors.New("task ctest timed out after 2s"))
	defer cancel()
	start := time.Now()
	_, err := r.run(ctx)
	if err == nil || !domain.IsRetryable(err) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v (want retryable timeout)", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("took %s", took)
	}
	if n := len(r.containers(t)); n != 0 {
		t.Fatalf("%d container(s) left after the timeout", n)
	}
}

// A stale container of an earlier attempt (its replica was paused past its
// lease) is removed before the new attempt's is created.
func TestContainerTaskReplacesAStaleAttempt(t *testing.T) {
	t.Parallel()
	r := newCTask(t, "", "sleep:1h")
	stale, err := r.cli.ContainerCreate(context.Background(), &container.Config{Image: r.img, Cmd: []string{"sleep:1h"},
		Labels: labels(r.job, r.install)}, nil, nil, nil, r.ref().name)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cli.ContainerStart(context.Background(), stale.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	r.job.Attempt = 2
	r.job.Config = json.RawMessage(fmt.Sprintf(`{"image": %q, "command": ["say:second"], "pull": "never"}`, r.img))
	r.task.specs = specsFake{config: string(r.job.Config), env: `{}`}
	res, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(outArtifact(res, "output.log"), "second") {
		t.Fatal("the new attempt did not run")
	}
	if _, err := r.cli.ContainerInspect(context.Background(), stale.ID); err == nil {
		t.Fatal("the stale container is still there")
	}
}

func TestContainerTaskRefusals(t *testing.T) {
	t.Parallel()
	r := newCTask(t, "", "exit:0")
	// An absent image with pull never is permanent.
	r.job.Config = json.RawMessage(`{"image": "cyberbrain-absent:none", "pull": "never"}`)
	r.task.specs = specsFake{config: string(r.job.Config), env: `{}`}
	r.task.opt.Policy.Images = append(r.task.opt.Policy.Images, "cyberbrain-absent:*")
	if _, err := r.run(context.Background()); err == nil || domain.IsRetryable(err) || !strings.Contains(err.Error(), "not present") {
		t.Fatalf("absent image: %v", err)
	}
	// A directive may override command and env, not the image.
	r.task.specs = specsFake{config: fmt.Sprintf(`{"image": %q, "pull": "never"}`, r.img), env: `{}`}
	if _, err := r.run(context.Background()); err == nil || !strings.Contains(err.Error(), "only command and env") {
		t.Fatalf("image override: %v", err)
	}
	// The replica's own policy is checked again.
	r.job.Config = json.RawMessage(fmt.Sprintf(`{"image": %q, "pull": "never"}`, r.img))
	r.task.opt.Policy.Images = []string{"postgres:*"}
	if _, err := r.run(context.Background()); err == nil || !strings.Contains(err.Error(), "allow-list") {
		t.Fatalf("policy: %v", err)
	}
	if n := len(r.containers(t)); n != 0 {
		t.Fatalf("%d container(s) created by refused attempts", n)
	}
}
