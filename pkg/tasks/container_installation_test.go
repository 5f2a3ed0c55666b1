package tasks

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// Two installations sharing an engine, each with its job 1 running (the
// first job of every database): clearing installation A's job 1, as its
// rescue does, leaves B's container running, and neither attempt's create
// took the other's container for a stale one of its own.
func TestClearLeavesAnotherInstallationsJobRunning(t *testing.T) {
	t.Parallel()
	a, b := newCTask(t, "", "sleep:1h"), newCTask(t, "", "sleep:1h")
	for _, r := range []*ctaskRig{a, b} {
		r.job.ID = 1
	}
	ida, idb := a.startKilled(t), b.startKilled(t)
	if err := a.task.Clear(context.Background(), a.host, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.cli.ContainerInspect(context.Background(), ida); err == nil {
		t.Fatal("A's container outlived A's clear")
	}
	c, err := b.cli.ContainerInspect(context.Background(), idb)
	if err != nil || !c.State.Running {
		t.Fatalf("B's container did not survive A's clear of job 1: %v", err)
	}
	if c.Config.Labels[LabelInstallation] != b.install || c.Name != "/"+b.ref().name {
		t.Fatalf("B's container is %s labelled %v, want installation %s", c.Name, c.Config.Labels, b.install)
	}
	if err := b.task.Clear(context.Background(), b.host, 1); err != nil {
		t.Fatal(err)
	}
	if n := len(b.containers(t)); n != 0 {
		t.Fatalf("%d container(s) of B left after B's clear", n)
	}
}

// startKilled runs the rig's job until its container starts, then ends the
// attempt as a killed replica does, leaving the container running; it
// returns the container's id.
func (r *ctaskRig) startKilled(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, errs := r.cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "container"),
		filters.Arg("event", string(events.ActionStart)), filters.Arg("label", LabelInstallation+"="+r.install))})
	runCtx, kill := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.run(runCtx)
		done <- err
	}()
	var id string
	select {
	case m := <-started:
		id = m.Actor.ID
	case err := <-errs:
		t.Fatalf("engine events: %v", err)
	case err := <-done:
		t.Fatalf("the attempt ended before its container started: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the container did not start within 60s")
	}
	kill(ErrReplicaKilled)
	if err := <-done; !errors.Is(err, ErrReplicaKilled) {
		t.Fatalf("killed attempt returned %v", err)
	}
	t.Cleanup(func() {
		_ = r.cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true})
	})
	return id
}

// The job's filter matches its installation's containers only.
func TestJobRefFilterNamesBothLabels(t *testing.T) {
	ref := jobRef{install: "abc", id: 1, name: jobContainerName("cyberbrain", "abc", 1)}
	got := ref.filter().Get("label")
	want := map[string]bool{fmt.Sprintf("%s=1", LabelJob): true, LabelInstallation + "=abc": true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Fatalf("filter labels = %v, want %v", got, want)
	}
	if ref.name != "cyberbrain-abc-job-1" {
		t.Fatalf("name = %s", ref.name)
	}
}
