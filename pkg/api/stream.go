package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// errClientGone stops a page whose client stopped reading.
var errClientGone = errors.New("client went away")

// streamPage answers the Page envelope {"count", "next", "previous",
// "results": [...]} writing the rows as the store loads them, a chunk at a
// time: a page of 1000 rows of a few hundred KiB each is never held in
// memory at once (docs/API.md "Limits"). Once the first byte is out the
// status is sent, so a failure while loading a later chunk aborts the
// connection: the client sees a truncated body, never a valid-looking short
// page.
func streamPage[T any](s *Server, c echo.Context, rows *store.PageRows[T], p store.ListParams, page int) error {
	next, prev := s.pageLinks(c, rows.Count, p, page)
	head, err := json.Marshal(struct {
		Count    int64   `json:"count"`
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
	}{rows.Count, next, prev})
	if err != nil {
		return fmt.Errorf("encode page envelope: %w", err)
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	write := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return errClientGone
		}
		return nil
	}
	sep := []byte(`,"results":[`)
	head = append(head[:len(head)-1], sep...)
	if err := write(head); err != nil {
		return nil
	}
	first := true
	err = rows.Each(c.Request().Context(), func(v *T) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode row: %w", err)
		}
		if !first {
			b = append([]byte{','}, b...)
		}
		first = false
		return write(b)
	})
	switch {
	case errors.Is(err, errClientGone):
		return nil
	case err != nil:
		s.log.Warn("page aborted after its status was sent", zap.Error(err), zap.String("request_id", requestID(c)))
		panic(http.ErrAbortHandler) // net/http closes the connection without a stack trace
	}
	_ = write([]byte("]}\n"))
	return nil
}
