package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// startAPI serves the real API on a fresh database and returns its URL.
func startAPI(t *testing.T) (string, *store.Store) {
	t.Helper()
	st := testenv.NewStore(t)
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, st
}

// startScheduler runs one real replica with the noop task only: any other
// task a run holds fails as unknown, which is how the tests make a run fail.
// The poll interval is long so that NOTIFY has to wake it.
func startScheduler(t *testing.T, st *store.Store) {
	t.Helper()
	sch, err := scheduler.New(scheduler.Config{Store: st, Logger: zap.NewNop(), Tasks: tasks.Registry{"noop": tasks.Noop()},
		Interval: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sch.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// cli runs one command line against server and returns exit code, stdout, stderr.
func cli(t *testing.T, server string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, append([]string{"--server", server}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// mustCLI is cli that fails the test on a non-zero exit.
func mustCLI(t *testing.T, server string, args ...string) string {
	t.Helper()
	code, stdout, stderr := cli(t, server, args...)
	if code != 0 {
		t.Fatalf("cyberbrain %v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout
}
