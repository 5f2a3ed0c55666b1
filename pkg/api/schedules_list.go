package api

import (
	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// listSchedules serves GET /api/schedules/ with ?kind=launch|recurring and
// ?enabled=true|false; any other value is a 400 rather than an unfiltered
// list.
func (s *Server) listSchedules(c echo.Context) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	var f store.ScheduleFilter
	if f.Kind, err = enumQuery(c, "kind", store.ScheduleKinds); err != nil {
		return err
	}
	if f.Enabled, err = boolQuery(c, "enabled"); err != nil {
		return err
	}
	rows, err := s.st.ListSchedules(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return streamPage(s, c, rows, p, page)
}

// boolQuery reads an optional true/false filter; absent is nil.
func boolQuery(c echo.Context, name string) (*bool, error) {
	var v bool
	switch c.QueryParam(name) {
	case "":
		return nil, nil
	case "true":
		v = true
	case "false":
	default:
		return nil, fieldError(name, "must be true or false")
	}
	return &v, nil
}
