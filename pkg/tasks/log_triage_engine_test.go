package tasks

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// The diagnosis tests run the logger image in its failure modes on the real
// engine and wait on the engine's own events or log stream, never on a
// clock.

// startMode creates and starts a logger container in a LOGGER_MODE; tune
// adjusts its configs (memory limit, restart policy, healthcheck).
func (f *fixture) startMode(t *testing.T, name, mode string, tune func(*container.Config, *container.HostConfig)) string {
	t.Helper()
	ctx := context.Background()
	cfg := &container.Config{Image: imageTag, Env: []string{"LOGGER_MODE=" + mode}}
	hc := &container.HostConfig{}
	if tune != nil {
		tune(cfg, hc)
	}
	created, err := f.cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = f.cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if err := f.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start container %s: %v", name, err)
	}
	return created.ID
}

// waitEvents reads a container's engine events from since on (past ones
// are replayed, so none is missed) until done says so.
func (f *fixture) waitEvents(t *testing.T, id string, since time.Time, what string, done func(map[string]int) bool) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs, errs := f.cli.Events(ctx, events.ListOptions{Since: since.Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("type", "container"), filters.Arg("container", id))})
	seen := map[string]int{}
	for {
		select {
		case m := <-msgs:
			seen[string(m.Action)]++
			if done(seen) {
				return seen
			}
		case err := <-errs:
			t.Fatalf("events of %s while waiting for %s: %v (seen %v)", id, what, err, seen)
		case <-ctx.Done():
			t.Fatalf("container %s: no %s within a minute (events seen %v)", id, what, seen)
		}
	}
}

// followLog reads a container's log stream, as it is written, until a line
// holds marker.
func (f *fixture) followLog(t *testing.T, id, marker string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc, err := f.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		t.Fatalf("follow logs of %s: %v", id, err)
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), marker) {
			return
		}
	}
	t.Fatalf("container %s: log ended without %q (%v)", id, marker, sc.Err())
}

// storedFindings are the finding rows of one container, most severe first.
func storedFindings(t *testing.T, st *store.Store, name string) map[string]store.Finding {
	t.Helper()
	rows, _, err := st.ListFindings(context.Background(), store.FindingFilter{Container: name}, store.ListParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Finding{}
	for _, r := range rows {
		if _, dup := out[r.Kind]; !dup {
			out[r.Kind] = r
		}
	}
	return out
}

func evidence(t *testing.T, f store.Finding) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(f.Evidence, &ev); err != nil {
		t.Fatalf("evidence of %s finding: %v", f.Kind, err)
	}
	return ev
}
