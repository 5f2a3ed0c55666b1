package api

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// listFindings serves log_triage's ranked findings, newest first, in the
// usual page envelope: ?host= (worker host id), ?container=, ?severity=,
// ?since= (RFC 3339).
func (s *Server) listFindings(c echo.Context) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	var f store.FindingFilter
	if f.HostID, err = idQuery(c, "host"); err != nil {
		return err
	}
	f.Container = c.QueryParam("container")
	if f.Severity, err = enumQuery(c, "severity", store.FindingSeverities); err != nil {
		return err
	}
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fieldError("since", "must be an RFC 3339 time like 2026-01-02T15:04:05Z")
		}
		f.Since = &t
	}
	items, n, err := s.st.ListFindings(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return respondPage(s, c, items, n, p, page)
}
