package dockerhost

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func uniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// scratchImage builds a one-file image FROM scratch (there is no registry);
// its containers are created, never started.
func scratchImage(t *testing.T, cli *client.Client) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, data string }{
		{"Dockerfile", "FROM scratch\nCOPY marker /marker\nCMD [\"/marker\"]\n"},
		{"marker", "cyberbrain dockerhost test\n"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(f.data))
	}
	_ = tw.Close()
	tag := uniqueName("cyberbrain-test-dockerhost") + ":latest"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("image build: %v", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("image build output: %v", err)
		}
		if msg.Error != "" {
			t.Fatalf("image build: %s", msg.Error)
		}
	}
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	return tag
}

// TestRealEngineErrorsAndAllowlist: the engine's own answers are classified
// (a missing container and a name conflict are permanent and name the host),
// and the allow-list matches the names and ids the engine really reports.
func TestRealEngineErrorsAndAllowlist(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	ctx := context.Background()
	host := &store.WorkerHost{ID: 1, Name: "local", BaseURL: "unix://" + localSocket(t)}
	pool := NewPool()
	t.Cleanup(pool.Close)
	pc, err := pool.Client(host)
	if err != nil {
		t.Fatal(err)
	}

	_, err = pc.ContainerInspect(ctx, uniqueName("cb-missing"))
	cerr := Classify(host, "inspect container", err)
	if cerr == nil || domain.IsRetryable(cerr) || !strings.Contains(cerr.Error(), `worker host "local" (unix://`) {
		t.Errorf("missing container: %v (retryable %v)", cerr, domain.IsRetryable(cerr))
	}

	img := scratchImage(t, cli)
	name := uniqueName("cb-allow")
	created, err := pc.ContainerCreate(ctx, &container.Config{Image: img}, nil, nil, nil, name)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	_, err = pc.ContainerCreate(ctx, &container.Config{Image: img}, nil, nil, nil, name)
	if cerr := Classify(host, "create container", err); cerr == nil || domain.IsRetryable(cerr) || !strings.Contains(cerr.Error(), "create container") {
		t.Errorf("name conflict: %v (retryable %v)", cerr, domain.IsRetryable(cerr))
	}

	list, err := pc.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("id", created.ID))})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %d containers", err, len(list))
	}
	c := list[0]
	if len(c.Names) == 0 || !strings.HasPrefix(c.Names[0], "/") {
		t.Fatalf("engine names %v lack the leading '/' the allow-list strips", c.Names)
	}
	cases := []struct {
		name  string
		entry store.ContainerAllowlistEntry
		want  bool
	}{
		{"by name", store.ContainerAllowlistEntry{ContainerName: name, Enabled: true}, true},
		{"by name with slash", store.ContainerAllowlistEntry{ContainerName: "/" + name, Enabled: true}, true},
		{"by short id", store.ContainerAllowlistEntry{ContainerID: c.ID[:12], Enabled: true}, true},
		{"by upper-case id", store.ContainerAllowlistEntry{ContainerID: strings.ToUpper(c.ID[:12]), Enabled: true}, true},
		{"name and id", store.ContainerAllowlistEntry{ContainerName: name, ContainerID: c.ID[:12], Enabled: true}, true},
		{"name and someone else's id", store.ContainerAllowlistEntry{ContainerName: name, ContainerID: "ffffffffffff", Enabled: true}, false},
		{"name prefix is not the name", store.ContainerAllowlistEntry{ContainerName: name[:len(name)-1], Enabled: true}, false},
		{"disabled", store.ContainerAllowlistEntry{ContainerName: name, Enabled: false}, false},
	}
	for _, tc := range cases {
		al := NewAllowlist([]store.ContainerAllowlistEntry{tc.entry})
		if got := al.AllowsAny(c.Names, c.ID); got != tc.want {
			t.Errorf("%s: AllowsAny(%v, %s) = %v, want %v", tc.name, c.Names, c.ID[:12], got, tc.want)
		}
	}
}

// TestCheckCountsLocalGPUs: a local engine's GPUs are counted with
// nvidia-smi -L when it is on PATH; a failing nvidia-smi leaves the count
// unknown rather than zero. Not parallel: it changes PATH.
func TestCheckCountsLocalGPUs(t *testing.T) {
	testenv.Docker(t)
	host := &store.WorkerHost{ID: 1, Name: "local", BaseURL: "unix://" + localSocket(t)}
	pool := NewPool()
	t.Cleanup(pool.Close)

	bin := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = -L ] || exit 2\n" +
		"echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-3617e4ca-b170-8d8e-739c-c4b40f2be17c)'\n" +
		"echo '  MIG 3g.40gb     Device  0: (UUID: MIG-a6f5a6b4-8c2f-5b6b-9b1d-2b1e7d0a8b11)'\n" +
		"echo 'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-4617e4ca-b170-8d8e-739c-c4b40f2be17c)'\n"
	if err := os.WriteFile(filepath.Join(bin, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	r := pool.Check(context.Background(), host)
	if !r.Healthy || r.GPUs == nil || *r.GPUs != 2 {
		t.Errorf("with two GPUs: healthy %v gpus %v error %q", r.Healthy, r.GPUs, r.Error)
	}

	if err := os.WriteFile(filepath.Join(bin, "nvidia-smi"), []byte("#!/bin/sh\necho 'NVIDIA-SMI has failed'\nexit 9\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := pool.Check(context.Background(), host); !r.Healthy || r.GPUs != nil {
		t.Errorf("with a failing nvidia-smi: healthy %v gpus %v", r.Healthy, r.GPUs)
	}

	// A remote engine is never counted from this machine's nvidia-smi.
	remote := &store.WorkerHost{ID: 2, Name: "remote", BaseURL: "tcp://127.0.0.1:1"}
	if r := pool.Check(context.Background(), remote); r.Healthy || r.GPUs != nil {
		t.Errorf("remote: %+v", r)
	}
}

func TestCheckMissingSocket(t *testing.T) {
	t.Parallel()
	pool := NewPool()
	t.Cleanup(pool.Close)
	sock := filepath.Join(t.TempDir(), "no-docker.sock")
	host := &store.WorkerHost{ID: 1, Name: "gone", BaseURL: "unix://" + sock}
	r := pool.Check(context.Background(), host)
	if r.Healthy || r.Error != ClassUnreachable || !strings.Contains(r.Detail, `worker host "gone" (unix://`+sock+`): ping`) {
		t.Errorf("result = %+v", r)
	}
	cli, err := pool.Client(host)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli.Ping(context.Background())
	if cerr := Classify(host, "ping", err); !domain.IsRetryable(cerr) {
		t.Errorf("an engine that is not there is worth a retry: %v", cerr)
	}
	// A cancelled check reports the cancellation instead of hanging.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := pool.Check(ctx, &store.WorkerHost{ID: 2, Name: "slow", BaseURL: "tcp://10.255.255.1:2375"}); r.Healthy ||
		r.Error != ClassUnreachable || !strings.Contains(r.Detail, "context canceled") {
		t.Errorf("cancelled check: %+v", r)
	}
}

// TestHealthPassSkipsDisabledHostsAndLogs: a pass checks every enabled host,
// leaves disabled ones alone, logs each result and counts it in metrics.
func TestHealthPassSkipsDisabledHostsAndLogs(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	// The seeded local host depends on this machine's engine; keep it out.
	if err := testenv.SQL(t, st).Model(&store.WorkerHost{}).Where("name = ?", "local").Update("enabled", false).Error; err != nil {
		t.Fatal(err)
	}
	downName := uniqueName("down")
	down := createHost(t, st, downName, "tcp://127.0.0.1:1")
	off := createHost(t, st, uniqueName("off"), "tcp://127.0.0.1:1")
	if err := testenv.SQL(t, st).Model(&store.WorkerHost{}).Where("id = ?", off.ID).Update("enabled", false).Error; err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	pool := NewPool()
	t.Cleanup(pool.Close)
	before := hostCheckCount(t, downName, "unhealthy")
	if err := CheckAllHosts(ctx, st, pool, zap.New(core), 0); err != nil {
		t.Fatal(err)
	}
	if got := loadHost(t, st, off.ID); got.LastCheckedAt != nil || got.Healthy != nil {
		t.Errorf("disabled host was checked: %+v", got)
	}
	if got := loadHost(t, st, down.ID); got.LastCheckedAt == nil || got.Healthy == nil || *got.Healthy {
		t.Errorf("down host: %+v", got)
	}
	warn := logs.FilterMessage("worker host unhealthy").All()
	if len(warn) != 1 || warn[0].Level != zapcore.WarnLevel || warn[0].ContextMap()["host"] != downName ||
		warn[0].ContextMap()["error"] != ClassUnreachable || !strings.Contains(warn[0].ContextMap()["detail"].(string), downName) {
		t.Errorf("logs = %+v", logs.All())
	}
	if d := hostCheckCount(t, downName, "unhealthy") - before; d != 1 {
		t.Errorf("host_checks_total{host=%s,result=unhealthy} moved by %v, want 1", downName, d)
	}
	// Nothing is due right after the pass: a second pass checks nothing.
	logs.TakeAll()
	if err := CheckAllHosts(ctx, st, pool, zap.New(core), time.Hour); err != nil || logs.Len() != 0 {
		t.Errorf("second pass: %v, logs %v", err, logs.All())
	}
	// A nil logger is allowed.
	if err := CheckAllHosts(ctx, st, pool, nil, 0); err != nil {
		t.Errorf("pass without a logger: %v", err)
	}
}

// TestHealthPassReportsStoreErrors: a pass on a closed store fails with the
// store's error instead of pretending hosts were checked.
func TestHealthPassReportsStoreErrors(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), testenv.NewDatabaseURL(t), store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	err = CheckAllHosts(context.Background(), st, NewPool(), nil, 0)
	if err == nil || !strings.Contains(err.Error(), "worker hosts") {
		t.Errorf("CheckAllHosts on a closed store: %v", err)
	}
}

func hostCheckCount(t *testing.T, host, result string) float64 {
	t.Helper()
	fams, err := metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "cyberbrain_scheduler_host_checks_total" {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if (l.GetName() == "host" && l.GetValue() != host) || (l.GetName() == "result" && l.GetValue() != result) {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
