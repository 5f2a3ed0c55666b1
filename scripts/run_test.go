// Package scripts holds the tests of the shell scripts (make run).
package scripts

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestMain lets this test binary stand in for bin/api and bin/scheduler
// (CYBERBRAIN_FAKE=api|scheduler), so run.sh is tested without a build.
func TestMain(m *testing.M) {
	switch os.Getenv("CYBERBRAIN_FAKE") {
	case "api":
		os.Exit(fakeAPI(os.Args[1:]))
	case "scheduler":
		if os.Getenv("FAKE_SCHEDULER_FAILS") == "1" {
			fmt.Fprintln(os.Stderr, "error: scheduler broke")
			os.Exit(3)
		}
		waitForSignal()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeAPI binds --addr like the real API (failing at once when it is
// taken), answers /healthz and runs until SIGTERM.
func fakeAPI(args []string) int {
	addr := "127.0.0.1:9595"
	for i, a := range args {
		if a == "--addr" && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: listen on %s: %v\n", addr, err)
		return 1
	}
	go func() { _ = http.Serve(ln, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) }()
	waitForSignal()
	return 0
}

func waitForSignal() {
	c := make(chan os.Signal, 1)
	signalNotify(c)
	<-c
}

// runScript is one `scripts/run.sh` in the background.
type runScript struct {
	testenv.Buffer // its output
	cmd            *exec.Cmd
	done           chan struct{}
	err            error
}

// fakeBin writes bin/api and bin/scheduler scripts that run this binary.
func fakeBin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"api", "scheduler"} {
		script := fmt.Sprintf("#!/bin/sh\nCYBERBRAIN_FAKE=%s exec %q \"$@\"\n", name, self)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startRun starts run.sh with env on top of the test's environment.
func startRun(t *testing.T, env ...string) *runScript {
	t.Helper()
	r := &runScript{done: make(chan struct{})}
	r.cmd = exec.Command("./run.sh")
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout, r.cmd.Stderr = r, r
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return r
}

// wait waits for the script to exit and returns its output.
func (r *runScript) wait(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case <-r.done:
		return r.String()
	case <-time.After(within):
		t.Fatalf("run.sh still running after %v:\n%s", within, r.String())
		return ""
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func healthy(addr string) bool {
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return true
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-time.After(50 * time.Millisecond)
	}
}

// The scheduler ending (here: failing) ends make run, which says which
// process it was.
func TestRunReportsWhichProcessFailed(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	r := startRun(t, "BIN="+fakeBin(t), "CYBERBRAIN_DATA_DIR="+t.TempDir(), "CYBERBRAIN_ADDR="+addr,
		"DATABASE_URL=postgres://unused", "FAKE_SCHEDULER_FAILS=1")
	out := r.wait(t, 20*time.Second)
	if !strings.Contains(out, "make run: scheduler exited (status 3)") || !strings.Contains(out, "error: scheduler broke") {
		t.Errorf("output:\n%s", out)
	}
	if r.err == nil {
		t.Error("make run exited 0 after the scheduler failed")
	}
}

// A port in use ends make run at once, naming the API and its error,
// instead of waiting for the API to answer.
func TestRunFailsAtOnceWhenThePortIsTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	start := time.Now()
	r := startRun(t, "BIN="+fakeBin(t), "CYBERBRAIN_DATA_DIR="+t.TempDir(), "CYBERBRAIN_ADDR="+addr,
		"DATABASE_URL=postgres://unused")
	out := r.wait(t, 20*time.Second)
	if !strings.Contains(out, "make run: api exited (status 1)") || !strings.Contains(out, "listen on "+addr) {
		t.Errorf("output:\n%s", out)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v to give up on a taken port", took)
	}
}
