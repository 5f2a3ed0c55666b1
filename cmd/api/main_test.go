package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestProbeURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ addr, path, want string }{
		{"127.0.0.1:9595", "/healthz", "http://127.0.0.1:9595/healthz"},
		{"0.0.0.0:8080", "/readyz", "http://127.0.0.1:8080/readyz"},
		{":9595", "/healthz", "http://127.0.0.1:9595/healthz"},
		{"[::]:9595", "/healthz", "http://127.0.0.1:9595/healthz"},
		{"[::1]:9595", "/healthz", "http://[::1]:9595/healthz"},
		{"api.internal:9000", "/healthz", "http://api.internal:9000/healthz"},
		{"garbage", "/healthz", "http://127.0.0.1:9595/healthz"},
	}
	for _, tc := range cases {
		if got := probeURL(tc.addr, tc.path); got != tc.want {
			t.Errorf("probeURL(%q, %q) = %q, want %q", tc.addr, tc.path, got, tc.want)
		}
	}
}

// runCmd executes the api root command with args and returns its output.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// TestHealthcheckCommand: exit 0 only on a 200 from the probed path.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(200)
		case "/readyz":
			w.WriteHeader(503)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	if _, err := runCmd(t, "healthcheck", "--addr", addr); err != nil {
		t.Errorf("healthy: %v", err)
	}
	_, err := runCmd(t, "healthcheck", "--addr", addr, "--path", "/readyz")
	if err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Errorf("503: %v", err)
	}
	// Nothing listening: an error, within the timeout.
	dead := testenv.FreeAddr(t)
	start := time.Now()
	if _, err := runCmd(t, "healthcheck", "--addr", dead, "--healthcheck-timeout", "2s"); err == nil {
		t.Errorf("nothing listening: no error")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("healthcheck ignored its timeout")
	}
	if _, err := runCmd(t, "healthcheck", "extra-arg"); err == nil {
		t.Errorf("healthcheck accepted an argument")
	}
}

// TestMigrateCommands: status reports current and latest versions; down
// rolls back one and status then says what to run; up brings it back.
func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	u := testenv.NewDatabaseURL(t)
	out, err := runCmd(t, "migrate", "status", "--database-url", u)
	if err != nil || !strings.Contains(out, "current version") || strings.Contains(out, "pending") {
		t.Fatalf("status of a migrated database: %q %v", out, err)
	}
	var cur, latest int
	if _, err := fmt.Sscanf(strings.SplitN(out, "\n", 2)[0], "current version %d, latest %d", &cur, &latest); err != nil || cur != latest || cur < 1 {
		t.Fatalf("status %q: %d %d %v", out, cur, latest, err)
	}
	if _, err := runCmd(t, "migrate", "down", "--database-url", u); err != nil {
		t.Fatalf("down: %v", err)
	}
	out, err = runCmd(t, "migrate", "status", "--database-url", u)
	if err != nil || !strings.Contains(out, "pending migrations: run `api migrate up`") {
		t.Errorf("status after down: %q %v", out, err)
	}
	if _, err := runCmd(t, "migrate", "up", "--database-url", u); err != nil {
		t.Fatalf("up: %v", err)
	}
	out, _ = runCmd(t, "migrate", "status", "--database-url", u)
	if strings.Contains(out, "pending") {
		t.Errorf("status after up: %q", out)
	}
	if _, err := runCmd(t, "migrate", "status"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("status without a database: %v", err)
	}
}

// TestServeRefusesOpenAddressWithoutToken: without a token the API will not
// listen beyond loopback unless told --insecure-no-auth; the message says how
// to fix it and carries no credential.
func TestServeRefusesOpenAddressWithoutToken(t *testing.T) {
	t.Parallel()
	u := testenv.NewDatabaseURL(t)
	_, err := runCmd(t, "--database-url", u, "--addr", "0.0.0.0:0", "--log-level", "error")
	if err == nil || !strings.Contains(err.Error(), "CYBERBRAIN_API_TOKEN") || !strings.Contains(err.Error(), "--insecure-no-auth") {
		t.Fatalf("serve on 0.0.0.0 without a token: %v", err)
	}
	if strings.Contains(err.Error(), u) {
		t.Errorf("error carries the database URL: %v", err)
	}
}

// TestServeAnswersAndStops: the server answers on its address and stops
// cleanly when its context ends.
func TestServeAnswersAndStops(t *testing.T) {
	t.Parallel()
	u := testenv.NewDatabaseURL(t)
	addr := testenv.FreeAddr(t)
	cmd := newRootCmd()
	cmd.SetArgs([]string{"--database-url", u, "--addr", addr, "--api-token", "tok", "--log-level", "error", "--shutdown-timeout", "5s"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	var status int
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			status = res.StatusCode
			res.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if status != 200 {
		t.Fatalf("readyz: %d", status)
	}
	res, err := http.Get("http://" + addr + "/api/runs/")
	if err != nil || res.StatusCode != 401 {
		t.Errorf("/api without the token: %v %v", res, err)
	}
	if res != nil {
		res.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after its context ended", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}
