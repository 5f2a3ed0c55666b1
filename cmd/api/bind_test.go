package main

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
)

// A port in use fails at once, naming the address, before the database is
// even tried (here it is unreachable and would be waited for a minute).
func TestServeFailsAtOnceWhenThePortIsTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	start := time.Now()
	_, err = runCmd(t, "--addr", addr, "--db-wait", "60s", "--log-level", "error",
		"--database-url", "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
	if err == nil || !strings.Contains(err.Error(), "listen on "+addr) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("serve on a taken port: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v to notice the port is taken", took)
	}
}

// The API's own flags are checked before anything starts.
func TestServeChecksItsFlags(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"--addr 9595":             `--addr "9595": want host:port`,
		"--db-timeout 0":          "--db-timeout 0s: must be at least 100ms",
		"--db-timeout 2m":         "--db-timeout 2m0s: must be at most 30s",
		"--max-conns 1":           "--max-conns 1: must be between 2 and",
		"--shutdown-timeout 1e20": "out of range",
	} {
		_, err := runCmd(t, append(strings.Fields(args), "--database-url", "postgres://nobody@127.0.0.1:1/none")...)
		var ue *cmdutil.UsageError
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		} else if !strings.Contains(want, "out of range") && !errors.As(err, &ue) {
			t.Errorf("%s: %T is not a usage error (exit 2)", args, err)
		}
	}
}
