package api

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func (s *Server) listRuns(c echo.Context) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	var f store.RunFilter
	if f.Status, err = enumQuery(c, "status", domain.RunStatuses); err != nil {
		return err
	}
	if f.DirectiveID, err = idQuery(c, "directive"); err != nil {
		return err
	}
	items, n, err := s.st.ListRuns(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return respondPage(c, items, n, p, page)
}

func (s *Server) getRun(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := s.st.GetRunDetail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// cancelRun cancels a pending or running run (200 with the run detail); a
// finished run answers 409 and is left unchanged.
func (s *Server) cancelRun(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := readBody(c); err != nil { // any body is ignored, but bounded
		return err
	}
	d, err := s.st.CancelRun(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) runJobs(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	jobs, err := s.st.ListRunJobs(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, jobs)
}

func (s *Server) runReport(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.st.GetRunReport(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) runArtifacts(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	arts, err := s.st.ListRunArtifacts(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, arts)
}

func (s *Server) listJobs(c echo.Context) error {
	var f store.JobFilter
	var err error
	if f.RunID, err = idQuery(c, "run"); err != nil {
		return err
	}
	if f.Status, err = enumQuery(c, "status", domain.RunStatuses); err != nil {
		return err
	}
	f.TaskType = c.QueryParam("task_type")
	if f.Limit, f.Offset, err = limitOffset(c); err != nil {
		return err
	}
	jobs, err := s.st.ListJobs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, jobs)
}

func (s *Server) getJob(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	j, err := s.st.GetJobDetail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (s *Server) listScheduledRuns(c echo.Context) error {
	var f store.ScheduledRunFilter
	var err error
	if f.RunID, err = idQuery(c, "run"); err != nil {
		return err
	}
	if f.ScheduleID, err = idQuery(c, "schedule"); err != nil {
		return err
	}
	if f.Status, err = enumQuery(c, "status", domain.ScheduledRunStatuses); err != nil {
		return err
	}
	if f.Limit, f.Offset, err = limitOffset(c); err != nil {
		return err
	}
	srs, err := s.st.ListScheduledRuns(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, srs)
}

func (s *Server) getArtifact(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.st.GetArtifact(c.Request().Context(), id, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// downloadArtifact sends the stored bytes with their content type, as an
// attachment so a browser never renders task output inline.
func (s *Server) downloadArtifact(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.st.GetArtifact(c.Request().Context(), id, true)
	if err != nil {
		return err
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	c.Response().Header().Set(echo.HeaderContentDisposition, contentDisposition(a.Name))
	return c.Blob(http.StatusOK, ct, a.Content)
}

func (s *Server) tokenStats(c echo.Context) error {
	st, err := s.st.GetTokenStats(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

// contentDisposition names the download, escaped per RFC 6266/2231.
func contentDisposition(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}
