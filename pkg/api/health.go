package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database answers and its schema is at the
// latest migration this binary knows; 503 otherwise (with the reason, never
// the connection string).
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, ErrorBody{Error: "database unreachable"})
	}
	cur, latest, err := s.st.SchemaCurrent(ctx)
	if err != nil {
		return c.JSON(http.StatusServiceUnavailable, ErrorBody{Error: "schema version unknown"})
	}
	if cur != latest {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{
			"error": "schema not current: run `api migrate up`", "schema_version": cur, "latest_version": latest})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "schema_version": cur})
}
