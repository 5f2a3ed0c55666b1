package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a private PostgreSQL server a test owns (scripts/pg.sh), for
// drills that stop, restart or crash the database: the shared test server
// must never be touched that way.
type Cluster struct {
	t    testing.TB
	dir  string
	port int
	pgsh string
	// URL is the postgres database's URL on the cluster.
	URL string
}

// NewCluster starts a private cluster in a temporary folder on a free port
// and removes it when the test ends. It skips the test when the server
// binaries are missing, unless CYBERBRAIN_REQUIRE_PG=1.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, pgsh: filepath.Join(root, "scripts", "pg.sh"), port: freePort(t)}
	if !hasServer() {
		if os.Getenv("CYBERBRAIN_REQUIRE_PG") == "1" {
			t.Fatal("PostgreSQL server binaries (initdb, pg_ctl) not found")
		}
		t.Skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
	}
	// Not t.TempDir: the server may run as another user (pg.sh as root),
	// who must reach the folder.
	if c.dir, err = os.MkdirTemp("", "cyberbrain-drill-pg."); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command(c.pgsh, "stop", c.dir, "immediate").Run()
		os.RemoveAll(c.dir)
	})
	c.URL = strings.TrimSpace(c.run("start", c.dir, fmt.Sprint(c.port)))
	return c
}

// Restart restarts the server (mode "fast" or "immediate").
func (c *Cluster) Restart(mode string) { c.run("restart", c.dir, mode) }

// Stop stops the server (mode "fast" or "immediate", a crash).
func (c *Cluster) Stop(mode string) { c.run("stop", c.dir, mode) }

// Start starts it again on the same port; it returns once it accepts
// connections.
func (c *Cluster) Start() { c.run("start", c.dir, fmt.Sprint(c.port)) }

func (c *Cluster) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.pgsh, args...)
	// Durable settings: a crash (stop -m immediate) must not lose commits
	// the way the fast, fsync-off test settings may.
	cmd.Env = append(os.Environ(), "PG_DURABLE=1")
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		c.t.Fatalf("pg.sh %s: %s", strings.Join(args, " "), msg)
	}
	return string(out)
}

func hasServer() bool {
	for _, name := range []string{"initdb", "pg_ctl"} {
		if _, err := exec.LookPath(name); err == nil {
			continue
		}
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name); len(m) == 0 {
			return false
		}
	}
	return true
}

// repoRoot is the folder holding go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(FreeAddr(t))
	n, _ := strconv.Atoi(port)
	return n
}

// FreeAddr returns a loopback address (host:port) nobody listens on right
// now, for a server a test starts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
