package deployments

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildStatic builds ./cmd/<name> the way the Dockerfiles do and returns the
// binary's path. It fails the test unless the result is a static ELF with the
// time zone database embedded.
func buildStatic(t *testing.T, name string) string {
	t.Helper()
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, msg)
	}
	assertStatic(t, out)
	assertTZData(t, out)
	return out
}

// assertStatic fails unless path is an ELF executable with no interpreter and
// no shared-library dependencies.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: not an ELF binary: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s has a dynamic loader (PT_INTERP): not static", filepath.Base(path))
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("%s: reading imported libraries: %v", path, err)
	}
	if len(libs) > 0 {
		t.Fatalf("%s links shared libraries %v: not static", filepath.Base(path), libs)
	}
}

// assertTZData fails unless the binary embeds time/tzdata: its zip holds the
// zone names in clear, which nothing else in these binaries spells out.
func assertTZData(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney"} {
		if !bytes.Contains(b, []byte(zone)) {
			name := filepath.Base(path)
			t.Fatalf("%s lacks the embedded time zone database (no %q): add cmd/%s/tzdata.go with import _ \"time/tzdata\"",
				name, zone, strings.TrimSuffix(name, ".exe"))
		}
	}
}
