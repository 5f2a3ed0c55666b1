package deployments

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/docker/pkg/stdcopy"
)

// scratchImage builds a FROM scratch image holding only the binary at
// binPath (as /<name>, run as uid 65532) and removes it when the test ends.
func scratchImage(t *testing.T, cli *client.Client, binPath, name string) string {
	t.Helper()
	bin, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY %[1]s /%[1]s\nUSER 65532:65532\nENTRYPOINT [\"/%[1]s\"]\n", name)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {name, 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	tag := fmt.Sprintf("cyberbrain-test/%s:%s", name, randomHex())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{tag}, Dockerfile: "Dockerfile", Remove: true, ForceRemove: true, NoCache: true,
	})
	if err != nil {
		t.Fatalf("docker build %s: %v", tag, err)
	}
	defer resp.Body.Close()
	var log bytes.Buffer
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, &log, 0, false, nil); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, log.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Logf("remove image %s: %v", tag, err)
		}
	})
	return tag
}

// runContainer creates and starts a container, removed (forcibly) when the
// test ends.
func runContainer(t *testing.T, cli *client.Client, cfg *container.Config, host *container.HostConfig) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, "cyberbrain-test-"+randomHex())
	if err != nil {
		t.Fatalf("create container from %s: %v", cfg.Image, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Logf("remove container %s: %v", created.ID[:12], err)
		}
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start container from %s: %v", cfg.Image, err)
	}
	return created.ID
}

// containerLogs returns a container's stdout and stderr, demultiplexed.
func containerLogs(cli *client.Client, id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil && err != io.EOF {
		out.WriteString("\n(log read error: " + err.Error() + ")")
	}
	return out.String()
}

// logsContain follows a container's logs until a line holds want (true) or
// timeout passes (false, with what was read). The engine copies a
// container's output to its log asynchronously, so a line the program wrote
// before answering a request may reach the log a moment later.
func logsContain(cli *client.Client, id, want string, timeout time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return false, "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() { _, err := stdcopy.StdCopy(pw, pw, rc); pw.CloseWithError(err) }()
	var seen strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), want) {
			return true, seen.String()
		}
	}
	return false, seen.String()
}

// waitExit waits for a container to exit and returns its exit code.
func waitExit(t *testing.T, cli *client.Client, id string, timeout time.Duration) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	okc, errc := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-okc:
		return res.StatusCode
	case err := <-errc:
		t.Fatalf("wait for container %s: %v\nlogs:\n%s", id[:12], err, containerLogs(cli, id))
	}
	return -1
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stdcopyAll demultiplexes a docker stream (stdout and stderr) into w.
func stdcopyAll(w io.Writer, r io.Reader) (int64, error) { return stdcopy.StdCopy(w, w, r) }
