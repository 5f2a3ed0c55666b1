package api

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

var containerIDRe = regexp.MustCompile(`^[0-9a-f]{0,64}$`)

// allowlistInput is a container allow-list create/edit body.
type allowlistInput struct {
	WorkerHostID  Opt[int64]    `json:"worker_host_id"`
	ContainerName Opt[string]   `json:"container_name"`
	ContainerID   Opt[string]   `json:"container_id"`
	Description   Opt[string]   `json:"description"`
	Enabled       Opt[bool]     `json:"enabled"`
	Tags          Opt[[]string] `json:"tags"`
	readOnly
}

func (in *allowlistInput) apply(e *store.ContainerAllowlistEntry, full bool) error {
	if full {
		*e = store.ContainerAllowlistEntry{ID: e.ID, Enabled: true, Tags: json.RawMessage(`[]`)}
	}
	fields := map[string][]string{}
	bad := func(f, m string) { fields[f] = append(fields[f], m) }
	if in.WorkerHostID.Set {
		e.WorkerHostID = nil
		if !in.WorkerHostID.Null {
			if in.WorkerHostID.V <= 0 {
				bad("worker_host_id", "must be a positive integer id (or null for every host)")
			}
			v := in.WorkerHostID.V
			e.WorkerHostID = &v
		}
	}
	if in.ContainerName.Set {
		e.ContainerName = in.ContainerName.V
	}
	if in.ContainerID.Set {
		e.ContainerID = in.ContainerID.V
	}
	if in.Description.Set {
		e.Description = in.Description.V
	}
	if in.Enabled.Set && !in.Enabled.Null {
		e.Enabled = in.Enabled.V
	}
	if in.Tags.Set {
		tags := in.Tags.V
		if tags == nil {
			tags = []string{}
		}
		b, _ := json.Marshal(tags)
		e.Tags = b
	}
	if len(e.ContainerName) > 255 {
		bad("container_name", "must be at most 255 characters")
	}
	if !containerIDRe.MatchString(e.ContainerID) {
		bad("container_id", "must be a lower-case hex id or id prefix (at most 64)")
	}
	if e.ContainerName == "" && e.ContainerID == "" {
		bad("container_name", "give container_name and/or container_id")
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid allow-list entry")
	}
	return nil
}

func (s *Server) listAllowlist(c echo.Context) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	items, n, err := s.st.ListAllowlist(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return respondPage(c, items, n, p, page)
}

func (s *Server) getAllowlistEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := s.st.GetAllowlistEntry(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) createAllowlistEntry(c echo.Context) error {
	var in allowlistInput
	if err := decodeBody(c, &in, false); err != nil {
		return err
	}
	e := &store.ContainerAllowlistEntry{}
	if err := in.apply(e, true); err != nil {
		return err
	}
	if err := s.st.SaveAllowlistEntry(c.Request().Context(), e); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

func (s *Server) updateAllowlistEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in allowlistInput
	if err := decodeBody(c, &in, false); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.st.GetAllowlistEntry(ctx, id)
	if err != nil {
		return err
	}
	if err := in.apply(e, c.Request().Method == http.MethodPut); err != nil {
		return err
	}
	if err := s.st.SaveAllowlistEntry(ctx, e); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) deleteAllowlistEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteAllowlistEntry(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
