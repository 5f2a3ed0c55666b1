package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runScheduler runs this test binary as the scheduler (see TestMain) with args
// and returns its exit code and output. The database URL points at a closed
// port: every case must be refused before any connection is tried.
func runScheduler(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "CYBERBRAIN_TEST_AS_SCHEDULER=1", "CYBERBRAIN_DB_WAIT=0",
		"DATABASE_URL=postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// Every flag is validated before the scheduler starts: out-of-range values
// exit 2 with a message naming the flag and the bound, instead of a panic
// (--claim-ttl 1ns), a silent default (--max-concurrent 0), a spinning
// loop (--interval 1ns) or a surprise (--retention 720 is 12 minutes).
func TestBadFlagsExitTwoWithTheReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--claim-ttl", "1ns"}, "", "--claim-ttl 1ns: must be at least 1s"},
		{[]string{"--max-concurrent", "0"}, "", "--max-concurrent 0: must be between 1 and"},
		{[]string{"--max-claim", "-3"}, "", "--max-claim -3: must be between 1 and"},
		{[]string{"--interval", "0"}, "", "--interval 0s: must be at least 1s"},
		{[]string{"--interval", "1ns"}, "", "--interval 1ns: must be at least 1s"},
		{[]string{"--retention", "720"}, "", "--retention 12m0s: must be 0 (keep everything) or at least 1h"},
		{[]string{"--shutdown-timeout", "0"}, "", "--shutdown-timeout 0s: must be at least 1s"},
		{[]string{"--health-interval", "0"}, "", "--health-interval 0s: must be at least 1s"},
		{[]string{"--max-conns", "0"}, "", "--max-conns 0: must be between 2 and"},
		{[]string{"--db-timeout", "0"}, "", "--db-timeout 0s: must be at least 100ms"},
		{[]string{"--metrics-addr", "9100"}, "", `--metrics-addr "9100": want host:port`},
		{[]string{"--log-format", "xml"}, "", `--log-format "xml": want one of json, console`},
		{[]string{"--interval", "soon"}, "", `invalid duration "soon"`},
		{[]string{"--max-claim", "many"}, "", `invalid argument "many"`},
		{[]string{"--no-such-flag"}, "", "unknown flag: --no-such-flag"},
		{nil, "CYBERBRAIN_MAX_CLAIM=-3", "--max-claim -3"},
		{nil, "CYBERBRAIN_CLAIM_TTL=NaN", "environment CYBERBRAIN_CLAIM_TTL"},
	}
	for _, c := range cases {
		code, out := runScheduler(t, []string{c.env}, c.args...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%v %s: exit %d, output %q; want exit 2 and %q", c.args, c.env, code, out, c.want)
		}
		if strings.Contains(out, "panic") || strings.Contains(out, "ping database") {
			t.Errorf("%v: %q", c.args, out)
		}
	}
	// Several bad flags are reported together.
	_, out := runScheduler(t, nil, "--max-claim", "0", "--interval", "0")
	if !strings.Contains(out, "--max-claim") || !strings.Contains(out, "--interval") {
		t.Errorf("two bad flags: %q", out)
	}
}

// The defaults and the documented values pass the checks.
func TestGoodFlagsPassTheChecks(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		nil,
		{"--interval", "1s", "--claim-ttl", "1s", "--max-claim", "1", "--max-concurrent", "1", "--retention", "0"},
		{"--retention", "720h", "--metrics-addr", ":9100", "--db-timeout", "30s", "--db-wait", "0"},
	} {
		o := &options{}
		if err := newCommand(o).ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		if err := o.check(); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}
