package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Error renders err as a dashboard error page.
func (u *UI) Error(err error, c echo.Context) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side; the log has the details."
	var he *echo.HTTPError
	var pe *pageError
	switch {
	case errors.As(err, &pe):
		status, msg = pe.status, pe.msg
	case errors.As(err, &he):
		status = he.Code
		msg = http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
	}
	if status >= 500 {
		u.log.Error("dashboard page failed", zap.String("path", c.Request().URL.Path), zap.Error(err))
	}
	u.renderStatus(c, status, "error", http.StatusText(status), errorPage{Status: status, Message: msg})
}

// pageError is an error with the status and message the page shows.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

func notFound(what string) error { return &pageError{http.StatusNotFound, what + " not found"} }

func badRequest(msg string) error { return &pageError{http.StatusBadRequest, msg} }

type errorPage struct {
	Status  int
	Message string
}

// pathID reads a numeric path parameter; a malformed or non-positive one is
// a 404 naming what, as no such page exists.
func pathID(c echo.Context, name, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound(what)
	}
	return id, nil
}

// storeErr turns the store's client errors (not found, conflict, invalid)
// into error pages with the store's message and field errors; others stay
// server errors.
func storeErr(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	msg := de.Message
	names := make([]string, 0, len(de.Fields))
	for k := range de.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		msg += "; " + k + ": " + strings.Join(de.Fields[k], ", ")
	}
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return &pageError{http.StatusNotFound, msg}
	case errors.Is(err, domain.ErrConflict):
		return &pageError{http.StatusConflict, msg}
	}
	return &pageError{http.StatusBadRequest, msg}
}
