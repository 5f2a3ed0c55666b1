package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
)

var (
	ctaskOnce sync.Once
	ctaskErr  error
)

// CTaskImage is the tag of the container-task test image (pkg/testenv/ctask
// built statically, FROM scratch: no registry is reachable in tests).
const CTaskImage = "cyberbrain-test-ctask:latest"

// CTask builds the container-task test image once per test process and
// returns its tag. The image is shared by the packages' tests and left in
// place (a rebuild only replaces it).
func CTask(t testing.TB, cli *client.Client) string {
	t.Helper()
	ctaskOnce.Do(func() { ctaskErr = buildCTask(cli) })
	if ctaskErr != nil {
		t.Fatalf("ctask image: %v", ctaskErr)
	}
	return CTaskImage
}

func buildCTask(cli *client.Client) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "cb-ctask-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "ctask"), "./pkg/testenv/ctask")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ctask: %w: %s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "ctask"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY ctask /ctask\nENTRYPOINT [\"/ctask\"]\n")},
		{"ctask", 0o755, bin},
	} {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))})
		_, _ = tw.Write(f.data)
	}
	_ = tw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{CTaskImage}, Remove: true, ForceRemove: true})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return errors.New("docker build: " + msg.Error)
		}
	}
}
