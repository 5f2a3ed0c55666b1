// Package deployments holds the deployment files (compose .env example,
// Kubernetes manifests) and the tests that check them and the shipped
// Dockerfiles' promise: static, self-contained binaries.
package deployments

import (
	"os"
	"path/filepath"
	"testing"
)

// repoRoot is the module root (tests run in deployments/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	return root
}
