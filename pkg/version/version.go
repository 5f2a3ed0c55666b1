// Package version holds the build's version, set at link time so that the
// daemons' --version and `cyberbrain version` name the same build:
//
//	go build -ldflags "-X github.com/cyberbrain/cyberbrain/pkg/version.Version=v1.2.3" ./cmd/...
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is replaced by the linker (Makefile, Dockerfiles); "dev" otherwise.
var Version = "dev"

// String is the version line: the linked version, or for a plain `go build`
// the VCS revision Go recorded, plus the Go release that built it.
func String() string {
	v := Version
	if v == "dev" {
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v = "dev-" + s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("%s (%s)", v, runtime.Version())
}
