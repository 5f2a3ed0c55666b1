package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// directiveInput is a directive create/edit body. Read-only fields a client
// may send back from a GET are accepted and ignored.
type directiveInput struct {
	Name        Opt[string]          `json:"name"`
	Description Opt[string]          `json:"description"`
	TaskConfig  Opt[json.RawMessage] `json:"task_config"`
	readOnly
}

// readOnly lists server-maintained fields a GET returns: a client that PUTs
// back what it read is not refused for them, and they are never written.
type readOnly struct {
	ID        json.RawMessage `json:"id"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// apply writes the input onto d; full (PUT, POST) requires name and resets
// absent optional fields.
func (in *directiveInput) apply(d *store.Directive, full bool) error {
	if full {
		*d = store.Directive{ID: d.ID, TaskConfig: json.RawMessage(`{}`)}
	}
	fields := map[string][]string{}
	if in.Name.Set {
		d.Name = strings.TrimSpace(in.Name.V)
	} else if full {
		fields["name"] = []string{"is required"}
	}
	if in.Name.Set && d.Name == "" {
		fields["name"] = []string{"must not be empty"}
	}
	if len(d.Name) > 200 {
		fields["name"] = []string{"must be at most 200 characters"}
	}
	if in.Description.Set {
		d.Description = in.Description.V
	}
	if in.TaskConfig.Set && !in.TaskConfig.Null {
		if err := jsonObject("task_config", in.TaskConfig.V); err != nil {
			return err
		}
		d.TaskConfig = in.TaskConfig.V
	} else if in.TaskConfig.Null {
		d.TaskConfig = json.RawMessage(`{}`)
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid directive")
	}
	return nil
}

func (s *Server) listDirectives(c echo.Context) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	items, n, err := s.st.ListDirectives(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return respondPage(c, items, n, p, page)
}

func (s *Server) getDirective(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := s.st.GetDirective(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) createDirective(c echo.Context) error {
	var in directiveInput
	if err := decodeBody(c, &in, false); err != nil {
		return err
	}
	d := &store.Directive{}
	if err := in.apply(d, true); err != nil {
		return err
	}
	if err := s.st.CreateDirective(c.Request().Context(), d); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) updateDirective(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in directiveInput
	if err := decodeBody(c, &in, false); err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := s.st.GetDirective(ctx, id)
	if err != nil {
		return err
	}
	if err := in.apply(d, c.Request().Method == http.MethodPut); err != nil {
		return err
	}
	if err := s.st.UpdateDirective(ctx, d); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) deleteDirective(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteDirective(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
