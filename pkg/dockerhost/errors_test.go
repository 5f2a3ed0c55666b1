package dockerhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// TestIsRetryable: docs/DESIGN.md §9 — engine unreachable and timeouts are retried,
// refusals of an engine that understood the request are not.
func TestIsRetryable(t *testing.T) {
	t.Parallel()
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"deadline", context.DeadlineExceeded, true},
		{"wrapped deadline", fmt.Errorf("list containers: %w", context.DeadlineExceeded), true},
		{"cancelled", context.Canceled, true},
		{"unavailable", fmt.Errorf("engine: %w", cerrdefs.ErrUnavailable), true},
		{"internal (5xx)", cerrdefs.ErrInternal, true},
		{"unknown", cerrdefs.ErrUnknown, true},
		{"dial refused", opErr, true},
		{"url error", &url.Error{Op: "Get", URL: "http://docker/v1.41/_ping", Err: io.ErrUnexpectedEOF}, true},
		{"dns", &net.DNSError{Err: "no such host", Name: "gpu-box", IsNotFound: true}, true},
		{"text: refused", errors.New("dial unix /var/run/docker.sock: connect: connection refused"), true},
		{"text: daemon down", errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"), true},
		{"text: reset", errors.New("read: connection reset by peer"), true},
		{"text: eof", io.EOF, true},
		{"not found", fmt.Errorf("No such container: web: %w", cerrdefs.ErrNotFound), false},
		{"invalid argument", cerrdefs.ErrInvalidArgument, false},
		{"unauthorized", cerrdefs.ErrUnauthenticated, false},
		{"permission denied", cerrdefs.ErrPermissionDenied, false},
		{"conflict", cerrdefs.ErrConflict, false},
		{"not implemented", cerrdefs.ErrNotImplemented, false},
		{"already exists", cerrdefs.ErrAlreadyExists, false},
		{"failed precondition", cerrdefs.ErrFailedPrecondition, false},
		{"any other engine answer", errors.New("Error response from daemon: bad parameter"), false},
	}
	for _, c := range cases {
		if got := IsRetryable(c.err); got != c.want {
			t.Errorf("%s: IsRetryable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestClassifyWrapsWithTheHost(t *testing.T) {
	t.Parallel()
	host := &store.WorkerHost{ID: 3, Name: "gpu-box", BaseURL: "tcp://10.0.0.7:2376"}
	if Classify(host, "ping", nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
	cause := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	err := Classify(host, "list containers", cause)
	if err.Error() != `worker host "gpu-box" (tcp://10.0.0.7:2376): list containers: dial: context deadline exceeded` {
		t.Errorf("message = %q", err)
	}
	if !domain.IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: retryable %v, is deadline %v", domain.IsRetryable(err), errors.Is(err, context.DeadlineExceeded))
	}
	err = Classify(host, "inspect web", cerrdefs.ErrNotFound)
	if domain.IsRetryable(err) || !errors.Is(err, cerrdefs.ErrNotFound) {
		t.Errorf("not found: retryable %v", domain.IsRetryable(err))
	}
	// An error already classified (by a nested call) is passed through
	// untouched: no second host prefix, no change of class.
	inner := domain.Permanent(errors.New("container web not allowed"))
	if got := Classify(host, "read logs", fmt.Errorf("triage: %w", inner)); got.Error() != "triage: container web not allowed" || domain.IsRetryable(got) {
		t.Errorf("already classified: %q retryable %v", got, domain.IsRetryable(got))
	}
}

func TestDescribeAndAddress(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	cases := []struct {
		host        store.WorkerHost
		env         string
		describe    string
		local       bool
		description string
	}{
		{store.WorkerHost{Name: "a", BaseURL: "tcp://10.0.0.1:2376"}, "", `worker host "a" (tcp://10.0.0.1:2376)`, false, "tcp"},
		{store.WorkerHost{Name: "b", BaseURL: "ssh://ops@box"}, "", `worker host "b" (ssh://ops@box)`, false, "ssh"},
		{store.WorkerHost{Name: "c", BaseURL: "unix:///run/user/1000/docker.sock"}, "", `worker host "c" (unix:///run/user/1000/docker.sock)`, true, "rootless socket"},
		{store.WorkerHost{Name: "local"}, "", `worker host "local" (unix:///var/run/docker.sock)`, true, "default socket"},
		{store.WorkerHost{Name: "local"}, "tcp://127.0.0.1:2375", `worker host "local" (tcp://127.0.0.1:2375)`, false, "DOCKER_HOST"},
		// A host row's own address wins over the environment.
		{store.WorkerHost{Name: "d", BaseURL: "unix:///x.sock"}, "tcp://127.0.0.1:2375", `worker host "d" (unix:///x.sock)`, true, "row over env"},
	}
	for _, c := range cases {
		t.Setenv("DOCKER_HOST", c.env)
		if got := Describe(&c.host); got != c.describe {
			t.Errorf("%s: Describe = %q, want %q", c.description, got, c.describe)
		}
		if got := IsLocal(&c.host); got != c.local {
			t.Errorf("%s: IsLocal = %v, want %v", c.description, got, c.local)
		}
	}
}
