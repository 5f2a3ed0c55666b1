package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func (u *UI) hostRoutes(r router) {
	r.get("/hosts", u.hostList)
	r.get("/hosts/:id", u.hostPage)
	r.post("/hosts/:id/check", u.hostCheck)
	r.post("/hosts/:id/allowlist", u.hostAllowAdd)
	// A refused post leaves the browser on these URLs; reloading them (or
	// the page's live refresh) shows the host page again.
	r.get("/hosts/:id/check", u.hostPage)
	r.get("/hosts/:id/allowlist", u.hostPage)
	r.post("/hosts/:id/allowlist/:entry/delete", u.hostAllowDelete)
	r.get("/hosts/:id/map", u.hostMap)
	r.get("/hosts/:id/gpus", u.hostGPUs)
}

// Page sizes of the host pages: hosts and allow-list entries are written by
// operators and few; running jobs are bounded by the replicas' concurrency.
const (
	maxHostsListed   = 500
	maxAllowListed   = 500
	maxRunningListed = 100
)

// hostRow is a worker host as the pages show it.
type hostRow struct{ store.WorkerHost }

// Health is the host's health badge: healthy, unhealthy or unknown (never
// checked); a disabled host says so.
func (h hostRow) Health() string {
	switch {
	case !h.Enabled:
		return "disabled"
	case h.Healthy == nil:
		return "unknown"
	case *h.Healthy:
		return "healthy"
	}
	return "unhealthy"
}

// Address is the engine address, or what an empty base_url means.
func (h hostRow) Address() string {
	if h.BaseURL == "" {
		return "the engine local to the scheduler (DOCKER_HOST or the default socket)"
	}
	return h.BaseURL
}

// GPUCount is the host's known GPU count ("" when unknown).
func (h hostRow) GPUCount() string {
	var caps store.HostCapabilities
	if json.Unmarshal(h.Capabilities, &caps) != nil || caps.GPUs == nil {
		return ""
	}
	return strconv.Itoa(*caps.GPUs)
}

type hostsPage struct {
	Hosts     []hostRow
	Truncated bool
}

// hostList is /hosts: every worker host with its health.
func (u *UI) hostList(c echo.Context) error {
	ctx := c.Request().Context()
	page, err := u.st.ListWorkerHosts(ctx, store.ListParams{Limit: maxHostsListed, Ordering: "name"})
	if err != nil {
		return err
	}
	out := hostsPage{Truncated: page.Count > int64(len(page.IDs))}
	if err := page.Each(ctx, func(h *store.WorkerHost) error { out.Hosts = append(out.Hosts, hostRow{*h}); return nil }); err != nil {
		return err
	}
	return u.render(c, "hosts", "Hosts", out)
}

// allowForm is the allow-list form's values and, after a refused post, the
// messages per field.
type allowForm struct {
	ContainerName string
	ContainerID   string
	Description   string
	Tags          string
	Errors        map[string]string
	Message       string
}

type allowRow struct {
	store.ContainerAllowlistEntry
}

// TagList is the entry's tags.
func (a allowRow) TagList() []string {
	var tags []string
	_ = json.Unmarshal(a.Tags, &tags)
	return tags
}

type hostPage struct {
	Host       hostRow
	Running    []store.Job
	Allow      []allowRow
	Global     []allowRow
	Form       allowForm
	CanCheck   bool
	CheckError string
}

// loadHost loads the :id host, 404 when there is none.
func (u *UI) loadHost(c echo.Context) (*store.WorkerHost, error) {
	id, err := pathID(c, "id", "Worker host")
	if err != nil {
		return nil, err
	}
	h, err := u.st.GetWorkerHost(c.Request().Context(), id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, notFound("Worker host")
	}
	return h, err
}

// hostPage is /hosts/{id}: health, running jobs and the allow-list.
func (u *UI) hostPage(c echo.Context) error {
	return u.renderHost(c, http.StatusOK, allowForm{}, "")
}

func (u *UI) renderHost(c echo.Context, status int, form allowForm, checkErr string) error {
	h, err := u.loadHost(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := hostPage{Host: hostRow{*h}, Form: form, CanCheck: u.cfg.HostChecker != nil, CheckError: checkErr}
	if p.Running, err = u.st.HostRunningJobs(ctx, h.ID, maxRunningListed); err != nil {
		return err
	}
	own, global, err := u.st.HostAllowlist(ctx, h.ID, maxAllowListed)
	if err != nil {
		return err
	}
	for _, e := range own {
		p.Allow = append(p.Allow, allowRow{e})
	}
	for _, e := range global {
		p.Global = append(p.Global, allowRow{e})
	}
	u.renderStatus(c, status, "host", h.Name, p)
	return nil
}

// hostCheck pings the host's engine now and records the result.
func (u *UI) hostCheck(c echo.Context) error {
	h, err := u.loadHost(c)
	if err != nil {
		return err
	}
	if u.cfg.HostChecker == nil {
		return &pageError{http.StatusNotFound, "health checks are not available here"}
	}
	ctx := c.Request().Context()
	hh, err := u.cfg.HostChecker.Health(ctx, *h)
	if err != nil {
		u.log.Warn("host health check failed", zap.Int64("host", h.ID), zap.Error(err))
		return u.renderHost(c, http.StatusBadGateway, allowForm{}, "The check could not run; the log has the details.")
	}
	if hh.Detail != "" {
		u.log.Info("host health check", zap.Int64("host", h.ID), zap.String("detail", hh.Detail))
	}
	if err := u.st.RecordHostHealth(ctx, h.ID, hh); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/hosts/"+strconv.FormatInt(h.ID, 10))
}

// parse checks the form the way the API checks an allow-list body.
func (f *allowForm) parse(c echo.Context) (store.ContainerAllowlistEntry, bool) {
	f.ContainerName = strings.TrimSpace(c.FormValue("container_name"))
	f.ContainerID = strings.ToLower(strings.TrimSpace(c.FormValue("container_id")))
	f.Description = strings.TrimSpace(c.FormValue("description"))
	f.Tags = c.FormValue("tags")
	f.Errors = map[string]string{}
	tags := []string{}
	for _, t := range strings.Split(f.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	b, _ := json.Marshal(tags)
	e := store.ContainerAllowlistEntry{ContainerName: f.ContainerName, ContainerID: f.ContainerID,
		Description: f.Description, Enabled: true, Tags: b}
	for field, msgs := range store.ValidateAllowlistEntry(&e) {
		f.Errors[field] = strings.Join(msgs, "; ")
	}
	if len(f.Description) > 2000 {
		f.Errors["description"] = "At most 2000 characters."
	}
	return e, len(f.Errors) == 0
}

// hostAllowAdd adds an entry to the host's allow-list.
func (u *UI) hostAllowAdd(c echo.Context) error {
	h, err := u.loadHost(c)
	if err != nil {
		return err
	}
	var form allowForm
	e, ok := form.parse(c)
	if !ok {
		return u.renderHost(c, http.StatusBadRequest, form, "")
	}
	e.WorkerHostID = &h.ID
	if err := u.st.SaveAllowlistEntry(c.Request().Context(), &e); err != nil {
		var de *domain.Error
		if !errors.As(err, &de) {
			return err
		}
		form.Message = de.Message
		status := http.StatusBadRequest
		if errors.Is(err, domain.ErrConflict) {
			status = http.StatusConflict
		}
		return u.renderHost(c, status, form, "")
	}
	return c.Redirect(http.StatusSeeOther, "/hosts/"+strconv.FormatInt(h.ID, 10)+"#allowlist")
}

// hostAllowDelete removes one of the host's own allow-list entries (global
// entries are not this page's to remove).
func (u *UI) hostAllowDelete(c echo.Context) error {
	h, err := u.loadHost(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, err := pathID(c, "entry", "Allow-list entry")
	if err != nil {
		return err
	}
	e, err := u.st.GetAllowlistEntry(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return notFound("Allow-list entry")
	case err != nil:
		return err
	case e.WorkerHostID == nil || *e.WorkerHostID != h.ID:
		return notFound("Allow-list entry")
	}
	if err := u.st.DeleteAllowlistEntry(ctx, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/hosts/"+strconv.FormatInt(h.ID, 10)+"#allowlist")
}
