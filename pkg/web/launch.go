package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// launchPage is /launch: the enabled tasks, the directives and the worker
// hosts to choose from, what was chosen, and why a launch was refused.
type launchPage struct {
	Tasks      []store.TaskDefinition
	Directives []store.Directive
	Hosts      []store.WorkerHost
	Chosen     map[string]bool
	Directive  int64
	Host       int64
	Error      string
	Fields     map[string][]string // the store's per-field reasons
}

// launchForm is GET /launch; ?task= preselects tasks.
func (u *UI) launchForm(c echo.Context) error {
	p := &launchPage{Chosen: map[string]bool{}}
	for _, k := range c.QueryParams()["task"] {
		p.Chosen[k] = true
	}
	if err := u.launchChoices(c, p); err != nil {
		return err
	}
	return u.render(c, "launch", "Launch a run", p)
}

// launchSubmit is POST /launch: launches through the API's launch path and
// lands on the new run's page; a refused launch shows the form again with
// the reason.
func (u *UI) launchSubmit(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return badRequest("The form could not be read.")
	}
	p := &launchPage{Chosen: map[string]bool{}}
	var req store.LaunchRequest
	for _, k := range form["task"] {
		if !p.Chosen[k] {
			p.Chosen[k] = true
			req.Tasks = append(req.Tasks, k)
		}
	}
	var bad string
	if req.DirectiveID, err = launchOptionalID(form.Get("directive")); err != nil {
		bad = "Choose a directive from the list."
	}
	if req.TargetHostID, err = launchOptionalID(form.Get("host")); err != nil {
		bad = "Choose a worker host from the list."
	}
	if req.DirectiveID != nil {
		p.Directive = *req.DirectiveID
	}
	if req.TargetHostID != nil {
		p.Host = *req.TargetHostID
	}
	if len(req.Tasks) == 0 {
		bad = "Choose at least one task."
	}
	if bad == "" {
		run, err := u.launch(c.Request().Context(), req)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/runs/"+strconv.FormatInt(run.ID, 10))
		}
		var de *domain.Error
		if !errors.As(err, &de) {
			return err
		}
		bad, p.Fields = de.Message, de.Fields
	}
	p.Error = bad
	if err := u.launchChoices(c, p); err != nil {
		return err
	}
	u.renderStatus(c, http.StatusBadRequest, "launch", "Launch a run", p)
	return nil
}

// launchOptionalID reads an optional id field ("" = none).
func launchOptionalID(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, errors.New("not an id")
	}
	return &id, nil
}

// launchChoices loads what the form offers: enabled tasks, directives and
// worker hosts.
func (u *UI) launchChoices(c echo.Context, p *launchPage) error {
	defs, err := listAll(c.Request().Context(), byName(store.MaxPageSize), u.st.ListTasks)
	if err != nil {
		return err
	}
	for _, d := range defs {
		if d.Enabled {
			p.Tasks = append(p.Tasks, d)
		}
	}
	if p.Directives, err = listAll(c.Request().Context(), byName(runDirectiveChoices), u.st.ListDirectives); err != nil {
		return err
	}
	p.Hosts, err = listAll(c.Request().Context(), byName(store.MaxPageSize), u.st.ListWorkerHosts)
	return err
}
