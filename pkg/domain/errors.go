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

// Error is a client-facing failure: Kind is ErrNotFound, ErrConflict or
// ErrInvalid, Message is the human text, Fields names bad input fields.
type Error struct {
	Kind    error
	Message string
	Fields  map[string][]string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// NotFound builds a not-found error.
func NotFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflict builds a conflict error.
func Conflict(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds a validation error; fields may be nil.
func Invalid(fields map[string][]string, format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(format, args...), Fields: fields}
}
