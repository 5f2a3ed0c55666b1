package domain

import (
	"errors"
	"fmt"
)

// TaskError classifies a task failure as retryable (the engine was unreachable,
// a timeout talking to it) or permanent (unknown task, container not allowed).
type TaskError struct {
	Retryable bool
	Err       error
}

func (e *TaskError) Error() string { return e.Err.Error() }
func (e *TaskError) Unwrap() error { return e.Err }

// Retryable wraps err as a retryable task error.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &TaskError{Retryable: true, Err: err}
}

// Permanent wraps err as a permanent task error.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &TaskError{Retryable: false, Err: err}
}

// Retryablef formats a retryable task error.
func Retryablef(format string, args ...any) error { return Retryable(fmt.Errorf(format, args...)) }

// Permanentf formats a permanent task error.
func Permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }

// IsRetryable reports whether err is marked retryable. Unclassified errors
// are treated as retryable: a task that failed for an unknown reason is worth
// another attempt while attempts remain.
func IsRetryable(err error) bool {
	var te *TaskError
	if errors.As(err, &te) {
		return te.Retryable
	}
	return true
}

// Store-level sentinel errors the API maps to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)
