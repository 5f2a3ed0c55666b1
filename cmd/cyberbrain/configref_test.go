package main

import (
	"os"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
)

// docs/CONFIGURATION.md's cyberbrain table is the global flags as defined
// (go generate ./cmd/... rewrites it).
func TestConfigurationReference(t *testing.T) {
	ok, err := cmdutil.SyncSection("../../docs/CONFIGURATION.md", "cyberbrain flags",
		cmdutil.FlagTable(newRootCmd(), func(f string) string { return envTwins[f] }), os.Getenv(cmdutil.CheckDocEnv) == "1")
	if err != nil {
		t.Fatal(err)
	}
	if !ok && os.Getenv(cmdutil.CheckDocEnv) != "1" {
		t.Error("docs/CONFIGURATION.md's cyberbrain flags differ from the flag definitions: run go generate ./cmd/...")
	}
}
