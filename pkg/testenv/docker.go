package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Docker returns a client for the local Docker engine. Without a reachable
// engine the test is skipped, unless CYBERBRAIN_REQUIRE_DOCKER=1 (set by CI)
// makes that a failure.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("CYBERBRAIN_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker engine required (CYBERBRAIN_REQUIRE_DOCKER=1) but not reachable: %v", err)
		}
		t.Skipf("no Docker engine reachable: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
