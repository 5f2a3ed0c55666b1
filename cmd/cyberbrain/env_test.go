package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/api"
)

// cliEnv runs a command line as given (no --server added), with the
// environment the test set.
func cliEnv(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// The environment twins are read when their flag is not given, for
// subcommands at any depth too; a flag given wins over its twin. (t.Setenv:
// not parallel.)
func TestEnvTwins(t *testing.T) {
	server, _ := startAPIWith(t, func(c *api.Config) { c.APIToken = "right-token" })
	t.Setenv("CYBERBRAIN_SERVER", server)
	t.Setenv("CYBERBRAIN_API_TOKEN", "right-token")
	t.Setenv("CYBERBRAIN_OUTPUT", "")
	os.Unsetenv("CYBERBRAIN_OUTPUT")

	if code, out, errOut := cliEnv(t, "runs"); code != 0 || !strings.HasPrefix(out, "ID") {
		t.Errorf("server and token from the environment: exit %d %q %q", code, out, errOut)
	}
	// Nested commands see the twins as well.
	if code, out, errOut := cliEnv(t, "schedule", "create", "--name", "x", "--task", "log_triage", "--type", "one_shot"); code != 0 || !strings.Contains(out, " x ") {
		t.Errorf("schedule create from the environment: exit %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cliEnv(t, "host", "check", "1"); code != 1 || !strings.Contains(errOut, "503") {
		t.Errorf("host check from the environment: exit %d %q", code, errOut)
	}

	// A flag wins over its twin.
	if code, _, errOut := cliEnv(t, "--server", "http://127.0.0.1:1", "runs"); code != 1 || !strings.Contains(errOut, "cannot reach the API at http://127.0.0.1:1") {
		t.Errorf("--server over CYBERBRAIN_SERVER: exit %d %q", code, errOut)
	}
	code, _, errOut := cliEnv(t, "--token", "flag-wrong-token", "runs")
	if code != 1 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "CYBERBRAIN_API_TOKEN") {
		t.Errorf("--token over CYBERBRAIN_API_TOKEN: exit %d %q", code, errOut)
	}
	if strings.Contains(errOut, "flag-wrong-token") || strings.Contains(errOut, "right-token") {
		t.Errorf("a token is printed: %q", errOut)
	}

	t.Setenv("CYBERBRAIN_API_TOKEN", "env-wrong-token")
	if code, _, errOut := cliEnv(t, "runs"); code != 1 || !strings.Contains(errOut, "401") || strings.Contains(errOut, "env-wrong-token") {
		t.Errorf("wrong CYBERBRAIN_API_TOKEN: exit %d %q", code, errOut)
	}
	if code, _, errOut := cliEnv(t, "--token", "right-token", "runs"); code != 0 {
		t.Errorf("--token over a wrong CYBERBRAIN_API_TOKEN: exit %d %q", code, errOut)
	}
	if code, _, errOut := cliEnv(t, "--token=", "runs"); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("an empty --token is still given: exit %d %q", code, errOut)
	}
	t.Setenv("CYBERBRAIN_API_TOKEN", "right-token")

	// CYBERBRAIN_OUTPUT, and -o over it.
	t.Setenv("CYBERBRAIN_OUTPUT", "json")
	if code, out, _ := cliEnv(t, "schedules"); code != 0 || !strings.HasPrefix(out, "[") {
		t.Errorf("CYBERBRAIN_OUTPUT=json: exit %d %q", code, out)
	}
	if code, out, _ := cliEnv(t, "-o", "table", "schedules"); code != 0 || !strings.HasPrefix(out, "ID") {
		t.Errorf("-o table over CYBERBRAIN_OUTPUT: exit %d %q", code, out)
	}
	t.Setenv("CYBERBRAIN_OUTPUT", "xml")
	if code, _, errOut := cliEnv(t, "runs"); code != 1 || !strings.Contains(errOut, `unknown output format "xml"`) {
		t.Errorf("CYBERBRAIN_OUTPUT=xml: exit %d %q", code, errOut)
	}
	// Commands that talk to no API need none of it.
	if code, _, errOut := cliEnv(t, "version"); code != 0 {
		t.Errorf("version with a bad CYBERBRAIN_OUTPUT: exit %d %q", code, errOut)
	}
}

// Without flags or twins the client goes to the documented default,
// http://localhost:9595, and says how to change it when nothing answers
// there.
func TestDefaultServer(t *testing.T) {
	t.Setenv("CYBERBRAIN_SERVER", "")
	os.Unsetenv("CYBERBRAIN_SERVER")
	g := &globals{}
	cmd := newRootCmd()
	if f := cmd.PersistentFlags().Lookup("server"); f == nil || f.DefValue != "http://localhost:9595" {
		t.Fatalf("server flag %+v", f)
	}
	if f := cmd.PersistentFlags().Lookup("output"); f == nil || f.DefValue != "table" || f.Shorthand != "o" {
		t.Errorf("output flag %+v", f)
	}
	g.server, g.output = "localhost:9595", "table"
	c, err := g.client()
	if err != nil || c.Server() != "http://localhost:9595" {
		t.Errorf("client of a bare host:port: %v %v", c, err)
	}
	if _, err := (&globals{server: "ftp://x", output: "table"}).client(); err == nil {
		t.Error("an ftp server accepted")
	}
	if code, _, errOut := cliEnv(t, "--server", "ftp://x", "runs"); code != 1 || !strings.Contains(errOut, "invalid server") {
		t.Errorf("--server ftp://x: exit %d %q", code, errOut)
	}
}
