package domain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestTaskErrorClassification(t *testing.T) {
	t.Parallel()
	base := errors.New("engine said no")
	cases := []struct {
		name      string
		err       error
		retryable bool
	}{
		{"retryable", Retryable(base), true},
		{"permanent", Permanent(base), false},
		{"permanentf", Permanentf("task %q unknown", "nope"), false},
		{"wrapped retryable", fmt.Errorf("job 7: %w", Retryable(base)), true},
		{"wrapped permanent", fmt.Errorf("job 7: %w", Permanent(base)), false},
		{"joined with a permanent", errors.Join(io.EOF, Permanent(base)), false},
		// Failures nobody classified are worth another attempt.
		{"unclassified", base, true},
		{"unclassified deadline", context.DeadlineExceeded, true},
	}
	for _, c := range cases {
		if got := IsRetryable(c.err); got != c.retryable {
			t.Errorf("%s: IsRetryable(%v) = %v, want %v", c.name, c.err, got, c.retryable)
		}
	}
}

func TestTaskErrorKeepsTheCause(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	for _, err := range []error{Retryable(cause), Permanent(cause)} {
		if err.Error() != "dial: context deadline exceeded" {
			t.Errorf("message %q, want the cause's own message", err.Error())
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v does not unwrap to its cause", err)
		}
		var te *TaskError
		if !errors.As(err, &te) || te.Err != cause {
			t.Errorf("%v: TaskError %+v does not hold the cause", err, te)
		}
	}
	err := Permanentf("container %s not allowed: %w", "web", ErrInvalid)
	if err.Error() != "container web not allowed: invalid" || !errors.Is(err, ErrInvalid) {
		t.Errorf("Permanentf = %q, is ErrInvalid %v", err, errors.Is(err, ErrInvalid))
	}
}

func TestClassifyingNilIsNil(t *testing.T) {
	t.Parallel()
	// `return domain.Retryable(err)` must be safe to write after a call that succeeded.
	if err := Retryable(nil); err != nil {
		t.Errorf("Retryable(nil) = %#v, want a nil error", err)
	}
	if err := Permanent(nil); err != nil {
		t.Errorf("Permanent(nil) = %#v, want a nil error", err)
	}
}

func TestClientErrorsMapToTheirKind(t *testing.T) {
	t.Parallel()
	kinds := []error{ErrNotFound, ErrConflict, ErrInvalid}
	cases := []struct {
		err  error
		kind error
		msg  string
	}{
		{NotFound("run %d not found", 42), ErrNotFound, "run 42 not found"},
		{Conflict("schedule %q is claimed", "nightly"), ErrConflict, `schedule "nightly" is claimed`},
		{Invalid(nil, "bad request"), ErrInvalid, "bad request"},
		// Wrapping by callers keeps the kind.
		{fmt.Errorf("launch: %w", NotFound("task %s", "x")), ErrNotFound, "launch: task x"},
		{Permanent(Invalid(nil, "no container")), ErrInvalid, "no container"},
	}
	for _, c := range cases {
		if c.err.Error() != c.msg {
			t.Errorf("message %q, want %q", c.err.Error(), c.msg)
		}
		for _, k := range kinds {
			if got, want := errors.Is(c.err, k), k == c.kind; got != want {
				t.Errorf("%q: errors.Is(%v) = %v, want %v", c.msg, k, got, want)
			}
		}
	}
}

func TestInvalidCarriesFields(t *testing.T) {
	t.Parallel()
	fields := map[string][]string{"cron_expr": {"invalid cron expression"}, "timezone": {"unknown"}}
	err := fmt.Errorf("create schedule: %w", Invalid(fields, "%d fields are invalid", len(fields)))
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("%v is not a *domain.Error", err)
	}
	if de.Message != "2 fields are invalid" || len(de.Fields) != 2 || de.Fields["cron_expr"][0] != "invalid cron expression" {
		t.Errorf("error = %+v", de)
	}
	if de.Kind != ErrInvalid {
		t.Errorf("kind = %v, want ErrInvalid", de.Kind)
	}
	var nf *Error
	_ = errors.As(NotFound("x"), &nf)
	if nf.Fields != nil {
		t.Errorf("not-found error carries fields %v", nf.Fields)
	}
}
