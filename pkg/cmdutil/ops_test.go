package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Console logs carry colours only on a terminal, and no file:line.
func TestConsoleLogsPlainOffATerminal(t *testing.T) {
	t.Parallel()
	var plain, coloured bytes.Buffer
	for _, c := range []struct {
		buf    *bytes.Buffer
		colour bool
	}{{&plain, false}, {&coloured, true}} {
		log, err := newLogger(c.buf, c.colour, "console", "")
		if err != nil {
			t.Fatal(err)
		}
		log.Info("Scheduler starting", zap.Int("n", 1))
		log.Warn("careful")
		_ = log.Sync() // lines are buffered until a flush
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("ANSI colours off a terminal: %q", plain.String())
	}
	if !strings.Contains(plain.String(), "INFO\tScheduler starting") {
		t.Errorf("plain console line: %q", plain.String())
	}
	if strings.Contains(plain.String(), ".go:") {
		t.Errorf("file:line on console lines: %q", plain.String())
	}
	if !strings.Contains(coloured.String(), "\x1b[") {
		t.Errorf("no colours on a terminal: %q", coloured.String())
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Error("a pipe taken for a terminal")
	}
	var js bytes.Buffer
	log, _ := newLogger(&js, true, "json", "")
	log.Info("x")
	_ = log.Sync()
	if strings.Contains(js.String(), "\x1b[") || !strings.Contains(js.String(), `"caller"`) {
		t.Errorf("json line: %q", js.String())
	}
}

// waitLogs waits until at least n lines with msg were logged.
func waitLogs(t *testing.T, logs *observer.ObservedLogs, msg string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for logs.FilterMessage(msg).Len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d %q lines after %v: %v", n, msg, within, logs.All())
		}
		<-time.After(20 * time.Millisecond)
	}
}

// A binary started before its database waits for it with backoff, logging
// each try, and starts once it answers (containers start in any order).
func TestBootWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	proxy, u := testenv.NewProxy(t, testenv.NewDatabaseURL(t))
	proxy.Refuse() // not up yet: connection refused
	core, logs := observer.New(zapcore.InfoLevel)
	c := &Common{DatabaseURL: u, MaxConns: 2, DBWait: 30 * time.Second, DBTimeout: 5 * time.Second, Migrate: true}
	type result struct{ err error }
	done := make(chan result, 1)
	go func() {
		st, err := c.openStore(context.Background(), zap.New(core))
		if err == nil {
			st.Close()
		}
		done <- result{err}
	}()
	waitLogs(t, logs, "database not reachable yet; retrying", 2, 10*time.Second)
	proxy.Resume(true)
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("open after the database came up: %v", r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still waiting 15 s after the database came up")
	}
	retry := logs.FilterMessage("database not reachable yet; retrying").All()[0]
	if retry.Level != zapcore.WarnLevel || retry.ContextMap()["try"] != int64(1) || retry.ContextMap()["error"] == nil {
		t.Errorf("retry line: %v %v", retry.Level, retry.ContextMap())
	}
	if logs.FilterMessage("database is up").Len() != 1 || logs.FilterMessage("schema migrated").Len() != 1 {
		t.Errorf("logs: %v", logs.All())
	}
}

// --db-wait bounds the wait; 0 fails at once.
func TestBootGivesUpAfterDBWait(t *testing.T) {
	t.Parallel()
	proxy, u := testenv.NewProxy(t, testenv.NewDatabaseURL(t))
	proxy.Refuse()
	core, logs := observer.New(zapcore.InfoLevel)
	start := time.Now()
	_, err := (&Common{DatabaseURL: u, MaxConns: 2, DBWait: 700 * time.Millisecond}).openStore(context.Background(), zap.New(core))
	if err == nil || !strings.Contains(err.Error(), "--db-wait 700ms") {
		t.Errorf("after --db-wait: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v", took)
	}
	if logs.FilterMessage("database not reachable yet; retrying").Len() < 2 {
		t.Errorf("tries not logged: %v", logs.All())
	}
	core, logs = observer.New(zapcore.InfoLevel)
	if _, err := (&Common{DatabaseURL: u, MaxConns: 2}).openStore(context.Background(), zap.New(core)); err == nil || logs.Len() != 0 {
		t.Errorf("--db-wait 0: %v, logs %v", err, logs.All())
	}
}

// TestExecuteExitsTwoOnUsageError: a bad flag value, an unknown flag, a bad
// environment twin and a failed check all exit 2 with the reason.
func TestExecuteExitsTwoOnUsageError(t *testing.T) {
	if args := os.Getenv("CMDUTIL_USAGE_CHILD"); args != "" {
		var iv time.Duration
		root := &cobra.Command{Use: "bin", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error {
			var ck Checks
			ck.Duration("interval", iv, time.Second, 0, "polling")
			return ck.Err()
		}}
		DurationFlag(root.Flags(), &iv, "interval", 30*time.Second, "poll interval")
		if args == "-" {
			args = "" // only the environment
		}
		root.SetArgs(strings.Fields(args))
		Execute(root)
		os.Exit(0)
	}
	t.Parallel()
	for _, c := range []struct{ args, env, want string }{
		{"--interval soon", "", `invalid duration "soon"`},
		{"--bogus", "", "unknown flag: --bogus"},
		{"--interval 1ns", "", "--interval 1ns: must be at least 1s"},
		{"-", "CYBERBRAIN_INTERVAL=NaN", "environment CYBERBRAIN_INTERVAL"},
	} {
		args, want := c.args, c.want
		cmd := exec.Command(os.Args[0], "-test.run=^TestExecuteExitsTwoOnUsageError$")
		cmd.Env = append(os.Environ(), "CMDUTIL_USAGE_CHILD="+args, c.env)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Errorf("%s: exit %v (stderr %q), want 2", args, err, stderr.String())
			continue
		}
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr %q, want %q", args, stderr.String(), want)
		}
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	var ck Checks
	if ck.Err() != nil {
		t.Fatal("no checks, an error")
	}
	ck.Duration("claim-ttl", time.Nanosecond, 3*time.Second, time.Hour, "heartbeats")
	ck.Duration("db-timeout", time.Minute, time.Millisecond, 30*time.Second, "write timeout")
	ck.Int("max-claim", -3, 1, 1000)
	ck.Addr("addr", "9595", false)
	ck.Addr("metrics-addr", "", true)
	ck.OneOf("log-format", "xml", "json", "console")
	ck.Duration("interval", 2*time.Second, time.Second, 0, "")
	err := ck.Err()
	var ue *UsageError
	if err == nil || !errors.As(err, &ue) {
		t.Fatalf("Err = %v, want a UsageError", err)
	}
	for _, want := range []string{
		"--claim-ttl 1ns: must be at least 3s (heartbeats)",
		"--db-timeout 1m0s: must be at most 30s",
		"--max-claim -3: must be between 1 and 1000",
		`--addr "9595": want host:port`,
		`--log-format "xml": want one of json, console`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "metrics-addr") || strings.Contains(err.Error(), "--interval") {
		t.Errorf("valid values reported: %v", err)
	}
}

// The common flags' own checks: defaults pass, nonsense does not.
func TestCommonCheck(t *testing.T) {
	t.Parallel()
	var c Common
	var iv time.Duration
	var ran string
	newCmd(&c, &iv, &ran)
	var ck Checks
	c.Check(&ck)
	if err := ck.Err(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c.MaxConns, c.DBTimeout, c.LogLevel = 0, 0, "loud"
	ck = Checks{}
	c.Check(&ck)
	for _, want := range []string{"--max-conns 0", "--db-timeout 0s", `--log-level "loud"`} {
		if err := ck.Err(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
}

// Log lines are buffered, not lost: a line reaches the output without a
// Sync, within a few flush intervals (someone following the log sees it).
func TestLogLinesReachTheOutputWithoutSync(t *testing.T) {
	var out testenv.Buffer
	log, err := newLogger(&out, false, "json", "")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("Claimed 1 due schedule(s)")
	deadline := time.Now().Add(20 * logFlushEvery)
	for !strings.Contains(out.String(), "Claimed 1 due schedule(s)") {
		if time.Now().After(deadline) {
			t.Fatalf("line not written after %v: %q", 20*logFlushEvery, out.String())
		}
		<-time.After(logFlushEvery / 4)
	}
}
