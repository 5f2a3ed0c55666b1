package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A Listener receives the store's own wake-ups, and ends its wait with the
// context (which is how a scheduler stops listening).
func TestListenReceivesWake(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := st.Listen(ctx, domain.WakeChannel)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	st.Wake()
	n, err := l.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Channel != domain.WakeChannel || n.Payload != "wake" {
		t.Fatalf("notification = %+v", n)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := l.WaitForNotification(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait without a notification ended with %v, want the context's deadline", err)
	}
}

// Run changes are announced on cyberbrain_runs: a launch names its run, and
// more changes than a payload can list at once become "*".
func TestRunsChangedNotifies(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := st.Listen(ctx, domain.RunsChannel)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	mustExec(t, st, `UPDATE task_definitions SET enabled = true WHERE key = 'noop'`)
	run, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{domain.TaskNoop}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := l.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Payload != strconv.FormatInt(run.ID, 10) {
		t.Fatalf("launch of run %d announced %q", run.ID, n.Payload)
	}
	many := make([]int64, 1000)
	for i := range many {
		many[i] = int64(i + 1)
	}
	st.RunsChanged(many...)
	if n, err = l.WaitForNotification(ctx); err != nil {
		t.Fatal(err)
	}
	if n.Payload != "*" {
		t.Fatalf("1000 changed runs announced as %d bytes %.40q…, want \"*\"", len(n.Payload), n.Payload)
	}
}
