package tasks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// attempt is one container run of a job.
type attempt struct {
	cli   *client.Client
	host  *store.WorkerHost
	job   store.Job
	spec  *containerspec.Spec
	grace time.Duration
	// install is the installation id, labelled on the container.
	install string
	name    string // the job's container name
	id      string // container id once created
	out     *output
}

// cleanupTimeout bounds the stop and removal that follow an attempt, which
// run on a context of their own: the attempt's may already be cancelled.
const cleanupTimeout = 30 * time.Second

func (a *attempt) run(ctx context.Context) (*Result, error) {
	if err := ensureImage(ctx, a.cli, a.host, a.spec.Image, a.spec.Pull); err != nil {
		return nil, err
	}
	if err := a.create(ctx); err != nil {
		return nil, err
	}
	// Registered before the start so a container that exits at once is
	// not missed.
	waitCtx, stopWait := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWait()
	waitCh, waitErr := a.cli.ContainerWait(waitCtx, a.id, container.WaitConditionNextExit)
	started := time.Now()
	// The start is not cancelled with the attempt: the engine may have
	// started the container already when ctx ends, and what happens to a
	// started container is abort's decision (a killed replica leaves it).
	if err := a.cli.ContainerStart(context.WithoutCancel(ctx), a.id, container.StartOptions{}); err != nil {
		a.cleanup(ctx, false)
		return nil, dockerhost.Classify(a.host, "start container", err)
	}
	a.out = newOutput()
	logsDone := a.follow(waitCtx)
	select {
	case <-ctx.Done():
		return nil, a.abort(ctx, logsDone)
	case err := <-waitErr:
		a.cleanup(ctx, false)
		return nil, dockerhost.Classify(a.host, "wait for container", err)
	case st := <-waitCh:
		<-logsDone
		return a.finish(ctx, st.StatusCode, time.Since(started))
	}
}

// create makes the job's container. The name is the job's, so a container
// of an earlier attempt still there (its replica was paused, or the rescue
// could not reach the host) makes the engine answer conflict: this attempt
// holds the lease, so that one is stale and is removed first.
func (a *attempt) create(ctx context.Context) error {
	cfg, hc := a.config()
	for try := 0; ; try++ {
		created, err := a.cli.ContainerCreate(ctx, cfg, hc, nil, nil, a.name)
		if err == nil {
			a.id = created.ID
			return nil
		}
		if !cerrdefs.IsConflict(err) || try > 0 {
			return dockerhost.Classify(a.host, "create container", err)
		}
		if err := a.removeEarlier(ctx); err != nil {
			return err
		}
	}
}

// removeEarlier removes the container holding the job's name when it is an
// earlier attempt's. One of a later attempt means this attempt lost its lease
// while it was paused (the job was rescued and retried): it must not touch
// the retry's container, so it fails as retryable and its fenced end is
// refused like any lost attempt's.
func (a *attempt) removeEarlier(ctx context.Context) error {
	cur, err := a.cli.ContainerInspect(ctx, a.name)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return dockerhost.Classify(a.host, "inspect the job's container", err)
	}
	if err == nil && cur.Config != nil {
		if n, perr := strconv.Atoi(cur.Config.Labels[LabelAttempt]); perr == nil && n > a.job.Attempt {
			return domain.Retryable(fmt.Errorf("attempt %d of job %d is running in %s: this attempt %d lost the job",
				n, a.job.ID, a.name, a.job.Attempt))
		}
	}
	if err := removeForce(ctx, a.cli, a.name, a.grace); err != nil {
		return dockerhost.Classify(a.host, "remove the stale container of an earlier attempt", err)
	}
	return nil
}

// config maps the checked spec onto the engine's: never privileged, no host
// namespaces, only the mounts the policy allowed, no privilege escalation.
func (a *attempt) config() (*container.Config, *container.HostConfig) {
	env := make([]string, 0, len(a.spec.Env))
	for k, v := range a.spec.Env {
		env = append(env, k+"="+v)
	}
	cfg := &container.Config{Image: a.spec.Image, Cmd: a.spec.Command, Env: env, Labels: labels(a.job, a.install)}
	hc := &container.HostConfig{
		NetworkMode: container.NetworkMode(a.spec.Network),
		SecurityOpt: []string{"no-new-privileges"},
		Resources: container.Resources{
			Memory:   int64(a.spec.MemoryMB) << 20,
			NanoCPUs: int64(a.spec.CPUs * 1e9),
		},
	}
	hc.Mounts = mounts(a.spec.Mounts)
	return cfg, hc
}

// follow copies the container's stdout and stderr into a.out until the
// container's streams end.
func (a *attempt) follow(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		rd, err := a.cli.ContainerLogs(ctx, a.id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
		if err != nil {
			a.out.note(fmt.Sprintf("[cyberbrain: output could not be read: %v]", err))
			return
		}
		defer rd.Close()
		_, _ = stdcopy.StdCopy(a.out, a.out, rd)
	}()
	return done
}

// abort ends an attempt whose context ended. A killed replica leaves the
// container to the rescuer, as a SIGKILLed process would; otherwise the
// container is stopped (SIGTERM, then SIGKILL after the grace) before the
// attempt returns, so a retry never overlaps it.
func (a *attempt) abort(ctx context.Context, logsDone <-chan struct{}) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrReplicaKilled) {
		return cause
	}
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	a.cleanup(ctx, timedOut)
	<-logsDone
	if timedOut {
		return domain.Retryable(fmt.Errorf("%w; container stopped (last lines: %s)", cause, a.out.lastLines(5)))
	}
	return cause
}

// cleanup stops the container and removes it, or keeps it (renamed after
// its attempt) when the attempt failed and the spec asks to keep failures.
func (a *attempt) cleanup(ctx context.Context, failed bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout+a.grace)
	defer cancel()
	if failed && a.spec.KeepOnFailure {
		secs := int(a.grace.Seconds())
		_ = a.cli.ContainerStop(cctx, a.id, container.StopOptions{Timeout: &secs})
		_ = a.cli.ContainerRename(cctx, a.id, fmt.Sprintf("%s-attempt-%d", a.name, a.job.Attempt))
		return
	}
	_ = removeForce(cctx, a.cli, a.id, a.grace)
}

// finish turns the exit code into the attempt's result.
func (a *attempt) finish(ctx context.Context, code int64, took time.Duration) (*Result, error) {
	res := a.result(code, took)
	a.cleanup(ctx, code != 0)
	if code == 0 {
		return res, nil
	}
	err := domain.Permanentf("exit code %d; last lines:\n%s", code, strings.Join(a.out.tail(20), "\n"))
	return nil, &FailedWithResult{Err: err, Result: res}
}

// FailedWithResult is a failed attempt that still has output worth keeping
// (a container's log and report): the scheduler stores its result and
// artifacts with the failure.
type FailedWithResult struct {
	Err    error
	Result *Result
}

func (e *FailedWithResult) Error() string { return e.Err.Error() }
func (e *FailedWithResult) Unwrap() error { return e.Err }
