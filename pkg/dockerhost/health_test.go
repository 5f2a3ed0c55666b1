package dockerhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// localSocket is the engine's socket path on this machine.
func localSocket(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("DOCKER_HOST")
	if addr == "" {
		addr = "unix:///var/run/docker.sock"
	}
	if !strings.HasPrefix(addr, "unix://") {
		t.Skipf("DOCKER_HOST %s is not a unix socket", addr)
	}
	return strings.TrimPrefix(addr, "unix://")
}

func createHost(t *testing.T, st *store.Store, name, url string) store.WorkerHost {
	t.Helper()
	typ := domain.HostDockerSocket
	if strings.HasPrefix(url, "tcp://") {
		typ = domain.HostDockerTCP
	}
	h := store.WorkerHost{Name: name, Type: typ, BaseURL: url, TLSVerify: true, Enabled: true, Capabilities: store.JSON(`{}`)}
	if err := testenv.SQL(t, st).Create(&h).Error; err != nil {
		t.Fatalf("create host %s: %v", name, err)
	}
	return h
}

func loadHost(t *testing.T, st *store.Store, id int64) store.WorkerHost {
	t.Helper()
	h, err := st.GetWorkerHost(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

// TestHealthPass (acceptance 3): an unreachable host is recorded unhealthy
// with the engine error naming it; a second host reaching the same engine
// through a symlinked socket, and the seeded local host, are healthy.
func TestHealthPass(t *testing.T) {
	t.Parallel()
	testenv.Docker(t)
	st := testenv.NewStore(t)
	ctx := context.Background()
	link := filepath.Join(t.TempDir(), "docker.sock")
	if err := os.Symlink(localSocket(t), link); err != nil {
		t.Fatal(err)
	}
	down := createHost(t, st, "down", "tcp://127.0.0.1:1")
	alias := createHost(t, st, "alias", "unix://"+link)
	pool := NewPool()
	t.Cleanup(pool.Close)

	if err := CheckAllHosts(ctx, st, pool, nil, 0); err != nil {
		t.Fatalf("health pass: %v", err)
	}
	d := loadHost(t, st, down.ID)
	if d.Healthy == nil || *d.Healthy || d.LastSeenAt != nil || d.LastCheckedAt == nil {
		t.Errorf("down host: healthy=%v last_seen=%v checked=%v", d.Healthy, d.LastSeenAt, d.LastCheckedAt)
	}
	// Recorded: the class only; the address and the raw error go to the log.
	if d.LastError != ClassUnreachable {
		t.Errorf("down host last_error = %q", d.LastError)
	}
	for _, h := range []store.WorkerHost{alias, loadHostByName(t, st, "local")} {
		got := loadHost(t, st, h.ID)
		if got.Healthy == nil || !*got.Healthy || got.EngineVersion == "" || got.LastSeenAt == nil || got.LastError != "" {
			t.Errorf("host %s: healthy=%v version=%q seen=%v error=%q", got.Name, got.Healthy, got.EngineVersion, got.LastSeenAt, got.LastError)
		}
	}

	// A job talking to the unreachable host gets a retryable error naming it.
	cli, err := pool.Client(&d)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli.Ping(ctx)
	cerr := Classify(&d, "ping", err)
	if cerr == nil || !domain.IsRetryable(cerr) || !strings.Contains(cerr.Error(), `worker host "down"`) {
		t.Errorf("classified error = %v (retryable %v)", cerr, domain.IsRetryable(cerr))
	}

	// Checked just now: nothing is due within a minute.
	due, err := st.HostsDueForCheck(ctx, 60e9)
	if err != nil || len(due) != 0 {
		t.Errorf("hosts due right after a pass = %d, %v", len(due), err)
	}

	// A failing check never refreshes last_seen_at of a host seen before.
	seen := loadHost(t, st, alias.ID).LastSeenAt
	if err := testenv.SQL(t, st).Model(&store.WorkerHost{}).Where("id = ?", alias.ID).Update("base_url", "tcp://127.0.0.1:1").Error; err != nil {
		t.Fatal(err)
	}
	moved := loadHost(t, st, alias.ID)
	if _, err := pool.CheckAndRecord(ctx, st, &moved); err != nil {
		t.Fatal(err)
	}
	after := loadHost(t, st, alias.ID)
	if after.Healthy == nil || *after.Healthy || after.LastSeenAt == nil || !after.LastSeenAt.Equal(*seen) {
		t.Errorf("after the host moved: healthy=%v last_seen %v (was %v)", after.Healthy, after.LastSeenAt, seen)
	}
}

func loadHostByName(t *testing.T, st *store.Store, name string) store.WorkerHost {
	t.Helper()
	var h store.WorkerHost
	if err := testenv.SQL(t, st).Where("name = ?", name).First(&h).Error; err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPoolRebuildsClientWhenHostChanges(t *testing.T) {
	t.Parallel()
	pool := NewPool()
	t.Cleanup(pool.Close)
	h := &store.WorkerHost{ID: 7, Name: "x", BaseURL: "unix:///tmp/a.sock"}
	a, err := pool.Client(h)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pool.Client(h); b != a {
		t.Error("unchanged host got a new client")
	}
	h.BaseURL = "unix:///tmp/b.sock"
	c, err := pool.Client(h)
	if err != nil || c == a || c.DaemonHost() != "unix:///tmp/b.sock" {
		t.Errorf("changed host: client %v (same %v), err %v", c.DaemonHost(), c == a, err)
	}
	_, err = pool.Client(&store.WorkerHost{ID: 8, Name: "bad", BaseURL: "ftp://nope"})
	if err == nil || domain.IsRetryable(err) || !strings.Contains(err.Error(), `worker host "bad" (ftp://nope)`) {
		t.Errorf("unsupported scheme: %v", err)
	}
}
