package main

import (
	"os"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
)

// docs/CONFIGURATION.md's scheduler table is the flags as defined: a flag missing,
// or with another default, env twin or meaning, fails here (go generate
// ./cmd/... rewrites the table).
func TestConfigurationReference(t *testing.T) {
	ok, err := cmdutil.SyncSection("../../docs/CONFIGURATION.md", "scheduler flags",
		cmdutil.FlagTable(newRootCmd(), cmdutil.EnvName), os.Getenv(cmdutil.CheckDocEnv) == "1")
	if err != nil {
		t.Fatal(err)
	}
	if !ok && os.Getenv(cmdutil.CheckDocEnv) != "1" {
		t.Error("docs/CONFIGURATION.md's scheduler flags differ from the flag definitions: run go generate ./cmd/...")
	}
}
