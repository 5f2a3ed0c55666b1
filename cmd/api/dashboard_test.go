package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// serveAPI runs the api command with args on a free loopback port until the
// test ends and returns its base URL once it answers.
func serveAPI(t *testing.T, args ...string) string {
	t.Helper()
	addr := testenv.FreeAddr(t)
	cmd := newRootCmd()
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(append([]string{"--addr", addr, "--database-url", testenv.NewDatabaseURL(t), "--log-level", "error"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-done:
			t.Fatalf("api exited before answering: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("api at %s never became ready", addr)
		}
	}
}

// The api serves the dashboard on its own port by default; with
// --no-dashboard it serves the REST API alone and / is a JSON 404.
func TestDashboardOnTheAPIPort(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args        []string
		status      int
		contentType string
	}{
		{nil, http.StatusOK, "text/html"},
		{[]string{"--no-dashboard"}, http.StatusNotFound, "application/json"},
	} {
		base := serveAPI(t, c.args...)
		res, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), c.contentType) {
			t.Errorf("api %v: GET / = %d %s, want %d %s", c.args, res.StatusCode, res.Header.Get("Content-Type"), c.status, c.contentType)
		}
	}
}
