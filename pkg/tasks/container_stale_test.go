package tasks

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// An attempt whose replica was paused past its lease may resume after the
// job was rescued and retried. Finding the job's container taken by the
// later attempt, it fails as retryable and leaves that container running:
// removing it would kill the retry and let two attempts fight over the job.
func TestStaleAttemptLeavesTheRetrysContainerAlone(t *testing.T) {
	t.Parallel()
	r := newCTask(t, "", "sleep:30s")
	ctx := context.Background()
	retry := r.job
	retry.Attempt = 2
	name := jobContainerName("cyberbrain", r.install, r.job.ID)
	created, err := r.cli.ContainerCreate(ctx, &container.Config{Image: r.img, Cmd: []string{"sleep:30s"},
		Labels: labels(retry, r.install)}, nil, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	_, err = r.run(ctx) // attempt 1, resumed
	if err == nil || !domain.IsRetryable(err) || !strings.Contains(err.Error(), "lost the job") {
		t.Fatalf("stale attempt: err = %v, want a retryable 'lost the job'", err)
	}
	cur, err := r.cli.ContainerInspect(ctx, name)
	if err != nil {
		t.Fatalf("the retry's container is gone: %v", err)
	}
	if cur.ID != created.ID || cur.State == nil || !cur.State.Running {
		t.Fatalf("the retry's container was replaced or stopped: %s running=%v", cur.ID, cur.State != nil && cur.State.Running)
	}
	if n := len(r.containers(t)); n != 1 {
		t.Fatalf("%d containers of the job, want only the retry's", n)
	}
}
