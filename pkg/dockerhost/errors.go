package dockerhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Classify wraps an engine error with the host's name and address and marks
// it retryable (engine unreachable, timeouts, 5xx answers) or permanent (the
// engine understood and refused: not found, invalid, unauthorized, conflict).
// what says what was being done ("list containers").
func Classify(host *store.WorkerHost, what string, err error) error {
	if err == nil {
		return nil
	}
	var te *domain.TaskError
	if errors.As(err, &te) {
		return err
	}
	wrapped := fmt.Errorf("%s: %s: %w", Describe(host), what, err)
	if IsRetryable(err) {
		return domain.Retryable(wrapped)
	}
	return domain.Permanent(wrapped)
}

// IsRetryable reports whether an engine error is worth another attempt.
func IsRetryable(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, context.Canceled):
		// Cancelled by us (lease lost, run cancelled): the scheduler decides.
		return true
	case client.IsErrConnectionFailed(err):
		return true
	case cerrdefs.IsUnavailable(err), cerrdefs.IsInternal(err), cerrdefs.IsUnknown(err),
		cerrdefs.IsDeadlineExceeded(err):
		return true
	case cerrdefs.IsNotFound(err), cerrdefs.IsInvalidArgument(err), cerrdefs.IsUnauthorized(err),
		cerrdefs.IsPermissionDenied(err), cerrdefs.IsConflict(err), cerrdefs.IsNotImplemented(err),
		cerrdefs.IsAlreadyExists(err), cerrdefs.IsFailedPrecondition(err):
		return false
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return true
	}
	var operr *net.OpError
	if errors.As(err, &operr) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "no such host", "i/o timeout", "connection reset", "EOF", "Cannot connect to the Docker daemon"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	// Anything else the engine said is a 4xx-style refusal.
	return false
}
