package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// RetryAfterSeconds is the Retry-After of a 503 while the database is
// unavailable: long enough for a restart or a fail-over, short enough that a
// client retrying by it does not wait much past the database's return.
const RetryAfterSeconds = 5

// errorKey is where handleError leaves the message it answered with, for
// the request's log line.
const errorKey = "cyberbrain.error"

// ErrorBody is the only error shape the API answers with.
type ErrorBody struct {
	Error  string              `json:"error"`
	Fields map[string][]string `json:"fields,omitempty"`
}

// apiError is a client-facing failure with its HTTP status.
type apiError struct {
	Status  int
	Message string
	Fields  map[string][]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func badRequest(fields map[string][]string, format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Fields: fields}
}

func fieldError(field, msg string) error {
	return badRequest(map[string][]string{field: {msg}}, "invalid %s: %s", field, msg)
}

var errInternal = errors.New("internal error")

// handleError renders every failure as JSON. Client errors carry their
// message; anything unexpected is logged with the request id and answered
// with a generic 500 that leaks nothing.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if d := s.cfg.Dashboard; d != nil && d.Owns(c.Request().URL.Path) {
		d.Error(err, c)
		return
	}
	status, body := s.classify(err, c)
	c.Set(errorKey, body.Error)
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		s.log.Warn("writing error response", zap.Error(err), zap.String("request_id", requestID(c)))
	}
}

func (s *Server) classify(err error, c echo.Context) (int, ErrorBody) {
	var ae *apiError
	var de *domain.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae.Status, ErrorBody{Error: ae.Message, Fields: ae.Fields}
	case errors.As(err, &de):
		status := http.StatusBadRequest
		switch {
		case errors.Is(de.Kind, domain.ErrNotFound):
			status = http.StatusNotFound
		case errors.Is(de.Kind, domain.ErrConflict):
			status = http.StatusConflict
		}
		return status, ErrorBody{Error: de.Message, Fields: de.Fields}
	case errors.Is(err, domain.ErrNotFound) || errors.Is(err, gorm.ErrRecordNotFound):
		return http.StatusNotFound, ErrorBody{Error: "not found"}
	case errors.As(err, &he) && he.Code < 500:
		return he.Code, ErrorBody{Error: httpMessage(he)}
	case errors.As(err, &he) && he.Code == http.StatusServiceUnavailable:
		return he.Code, ErrorBody{Error: httpMessage(he)}
	case store.IsUnavailable(err):
		// Nobody's fault and nothing to debug per request: the outage
		// reporter logs a warning every few seconds while it lasts.
		s.outage.Fail(err)
		c.Response().Header().Set("Retry-After", fmt.Sprint(RetryAfterSeconds))
		return http.StatusServiceUnavailable, ErrorBody{Error: "database unavailable"}
	}
	s.log.Error("request failed", zap.Error(err), zap.String("request_id", requestID(c)),
		zap.String("method", c.Request().Method), zap.String("path", c.Path()))
	return http.StatusInternalServerError, ErrorBody{Error: "internal server error"}
}

func httpMessage(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusNotFound:
		return "not found"
	case http.StatusMethodNotAllowed:
		return "method not allowed"
	case http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("request body too large (limit %d bytes)", MaxBodyBytes)
	}
	if m, ok := he.Message.(string); ok && m != "" {
		return m
	}
	return http.StatusText(he.Code)
}
