package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestPerHostAllowlist (acceptance 3): a second worker host reaching the same
// engine through a symlinked socket does not inherit the first host's
// allow-list entries; an unreachable host fails with a retryable error
// naming it.
func TestPerHostAllowlist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "log_triage", "")
	app := unique("cb-app")
	f.start(t, app, nil, false)
	d.allow(t, &d.host.ID, app) // local only

	sock := os.Getenv("DOCKER_HOST")
	if sock == "" {
		sock = "unix:///var/run/docker.sock"
	}
	if !strings.HasPrefix(sock, "unix://") {
		t.Skipf("DOCKER_HOST %s is not a unix socket", sock)
	}
	link := filepath.Join(t.TempDir(), "docker.sock")
	if err := os.Symlink(strings.TrimPrefix(sock, "unix://"), link); err != nil {
		t.Fatal(err)
	}
	alias := store.WorkerHost{Name: "alias", Type: "docker_socket", BaseURL: "unix://" + link, TLSVerify: true, Enabled: true, Capabilities: store.JSON(`{}`)}
	if err := testenv.SQL(d.t, d.st).Create(&alias).Error; err != nil {
		t.Fatal(err)
	}

	res := d.run(t, LogTriage(testPool, LLMConfig{}), &alias, newJob(t, d.st, alias.ID, "log_triage", ""))
	if n := len(decodeTriage(t, res).Containers); n != 0 {
		t.Errorf("alias host triaged %d containers; the entry belongs to host local", n)
	}
	assertNotLeaked(t, res, app)
	res = d.run(t, LogTriage(testPool, LLMConfig{}), &d.host, d.job)
	if c := decodeTriage(t, res).Containers; len(c) != 1 || c[0].Name != app {
		t.Errorf("local host triaged %+v, want %s", c, app)
	}
}
