package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The linked version is printed as is, with the Go release.
func TestStringLinkedVersion(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"
	if got, want := String(), "v1.2.3 ("+runtime.Version()+")"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	Version = "v2.0.0-rc.1+meta"
	if !strings.HasPrefix(String(), "v2.0.0-rc.1+meta (go") {
		t.Errorf("String() = %q", String())
	}
}

// Unlinked, the version is dev, or dev-<12 hex> when Go recorded the VCS
// revision (a test binary records none).
func TestStringDev(t *testing.T) {
	if Version != "dev" {
		t.Skipf("built with a linked version %q", Version)
	}
	re := regexp.MustCompile(`^dev(-[0-9a-f]{12})? \(` + regexp.QuoteMeta(runtime.Version()) + `\)$`)
	if s := String(); !re.MatchString(s) {
		t.Errorf("String() = %q", s)
	}
}

// The Makefile and the Dockerfiles link the version into this variable:
// renaming the package or the variable must not silently give "dev" builds.
func TestBuildsLinkThisVariable(t *testing.T) {
	const flag = "-X github.com/cyberbrain/cyberbrain/pkg/version.Version="
	for _, f := range []string{"Makefile", "Dockerfile.api", "Dockerfile.scheduler"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), flag) {
			t.Errorf("%s does not link %s", f, flag)
		}
	}
}

// A binary built with the Makefile's -X flag answers `version` with it.
func TestLinkedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "cyberbrain")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/cyberbrain/cyberbrain/pkg/version.Version=v7.7.7-test",
		"-o", bin, "../../cmd/cyberbrain")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "cyberbrain v7.7.7-test ("+runtime.Version()+")\n"; got != want {
		t.Errorf("version: %q, want %q", got, want)
	}
	out, err = exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "v7.7.7-test") {
		t.Errorf("--version: %q %v", out, err)
	}
}
