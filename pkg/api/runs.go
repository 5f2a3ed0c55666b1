package api

import (
	"context"
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
	status, err := enumQuery(c, "status", domain.RunStatuses)
	if err != nil {
		return err
	}
	f.Status = string(status) // store filters take plain text
	if f.DirectiveID, err = idQuery(c, "directive"); err != nil {
		return err
	}
	rows, err := s.st.ListRuns(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return streamPage(s, c, rows, p, page)
}

func (s *Server) listJobs(c echo.Context) error {
	var f store.JobFilter
	var err error
	if f.RunID, err = idQuery(c, "run"); err != nil {
		return err
	}
	status, err := enumQuery(c, "status", domain.RunStatuses)
	if err != nil {
		return err
	}
	f.Status = string(status) // store filters take plain text
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

func (s *Server) listScheduledRuns(c echo.Context) error {
	var f store.ScheduledRunFilter
	var err error
	if f.RunID, err = idQuery(c, "run"); err != nil {
		return err
	}
	if f.ScheduleID, err = idQuery(c, "schedule"); err != nil {
		return err
	}
	status, err := enumQuery(c, "status", domain.ScheduledRunStatuses)
	if err != nil {
		return err
	}
	f.Status = string(status) // store filters take plain text
	if f.Limit, f.Offset, err = limitOffset(c); err != nil {
		return err
	}
	srs, err := s.st.ListScheduledRuns(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, srs)
}

// artifactMeta loads an artifact without its bytes.
func (s *Server) artifactMeta(ctx context.Context, id int64) (*store.Artifact, error) {
	return s.st.GetArtifact(ctx, id, false)
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
