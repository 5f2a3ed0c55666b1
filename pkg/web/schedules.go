package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// schedulePageSize is how many schedules, and how many history entries of
// one schedule, a page shows.
const schedulePageSize = 50

func (u *UI) scheduleRoutes(r router) {
	r.get("/schedules", u.scheduleList)
	r.get("/schedules/new", u.scheduleNew)
	r.get("/schedules/preview", u.schedulePreview)
	r.post("/schedules", u.scheduleCreate)
	r.get("/schedules/:id", u.scheduleDetail)
	r.post("/schedules/:id/enable", u.scheduleSetEnabled(true))
	r.post("/schedules/:id/disable", u.scheduleSetEnabled(false))
	r.post("/schedules/:id/run-now", u.scheduleRunNow)
	r.post("/schedules/:id/delete", u.scheduleDelete)
}

// schedulePager is a page's position in a list of Total items.
type schedulePager struct {
	Page, Pages int
	Total       int64
	Query       url.Values // the other query parameters, kept on page links
}

func newSchedulePager(page int, total int64, q url.Values) schedulePager {
	pages := int((total + schedulePageSize - 1) / schedulePageSize)
	return schedulePager{Page: page, Pages: max(pages, 1), Total: total, Query: q}
}

// Link is the URL of page p, keeping the other parameters.
func (p schedulePager) Link(page int) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(page))
	return "?" + q.Encode()
}

// schedulePageParam reads ?page= (1-based).
func schedulePageParam(c echo.Context) (int, error) {
	s := c.QueryParam("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, badRequest("page must be a positive number")
	}
	return n, nil
}

type scheduleListPage struct {
	Rows   []scheduleRow
	ByName bool
	Pager  schedulePager
}

// scheduleRow is one schedule of the list.
type scheduleRow struct {
	store.ScheduleSummary
	Description string
}

// scheduleList is /schedules: the schedules people made (not the one-shot
// schedule each launch creates), newest first or by name.
func (u *UI) scheduleList(c echo.Context) error {
	page, err := schedulePageParam(c)
	if err != nil {
		return err
	}
	order := c.QueryParam("order")
	if order != "" && order != store.ScheduleOrderByName {
		return badRequest("order must be empty (newest first) or name")
	}
	rows, n, err := u.st.ListScheduleSummaries(c.Request().Context(), order, schedulePageSize, (page-1)*schedulePageSize)
	if err != nil {
		return err
	}
	out := scheduleListPage{ByName: order == store.ScheduleOrderByName}
	q := url.Values{}
	if out.ByName {
		q.Set("order", order)
	}
	out.Pager = newSchedulePager(page, n, q)
	for _, r := range rows {
		out.Rows = append(out.Rows, scheduleRow{ScheduleSummary: r, Description: describeSchedule(&r.Schedule)})
	}
	return u.render(c, "schedules", "Schedules", out)
}

// scheduleNew is the empty form: a cron schedule, enabled, in UTC.
func (u *UI) scheduleNew(c echo.Context) error {
	f := &scheduleForm{Type: string(domain.ScheduleCron), Timezone: "UTC", Enabled: true, Errors: map[string]string{}}
	if err := u.scheduleFormOptions(c.Request().Context(), f); err != nil {
		return err
	}
	return u.render(c, "schedule_new", "New schedule", f)
}

// scheduleFormOptions loads the form's choices: tasks, directives, hosts.
func (u *UI) scheduleFormOptions(ctx context.Context, f *scheduleForm) error {
	var err error
	p := byName(store.MaxPageSize)
	if f.Tasks, err = listAll(ctx, p, u.st.ListTasks); err != nil {
		return err
	}
	if f.Directives, err = listAll(ctx, p, u.st.ListDirectives); err != nil {
		return err
	}
	if f.Hosts, err = listAll(ctx, p, u.st.ListWorkerHosts); err != nil {
		return err
	}
	f.Zones = scheduleZones
	return nil
}

// scheduleCreate stores the posted schedule and shows it, or shows the form
// again with what is wrong (422), storing nothing.
func (u *UI) scheduleCreate(c echo.Context) error {
	ctx := c.Request().Context()
	f := readScheduleForm(c)
	w, errs := f.write()
	f.Errors = errs
	if len(errs) == 0 {
		sc, err := u.st.CreateSchedule(ctx, w)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/schedules/%d", sc.ID))
		}
		var de *domain.Error
		switch {
		case !errors.As(err, &de) || errors.Is(err, domain.ErrNotFound):
			return storeErr(err)
		case errors.Is(err, domain.ErrConflict): // the one conflict of an insert: the name is taken
			f.Errors["name"] = de.Message
		default:
			other := addScheduleFieldErrors(f.Errors, de.Fields)
			if len(de.Fields) == 0 || len(other) > 0 {
				f.Message = strings.Join(append([]string{de.Message}, other...), "; ")
			}
		}
	}
	if err := u.scheduleFormOptions(ctx, f); err != nil {
		return err
	}
	u.renderStatus(c, http.StatusUnprocessableEntity, "schedule_new", "New schedule", f)
	return nil
}

type scheduleDetailPage struct {
	Schedule    store.Schedule
	Description string
	Launch      bool // a launch's one-shot schedule: it cannot be enabled again
	Task        string
	Directive   string
	Host        string
	History     []store.ScheduleRunItem
	Pager       schedulePager
}

// scheduleDetail is /schedules/{id}: when it fires, its configuration, its
// actions and its history.
func (u *UI) scheduleDetail(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id", "Schedule")
	if err != nil {
		return err
	}
	page, err := schedulePageParam(c)
	if err != nil {
		return err
	}
	sc, err := u.st.GetSchedule(ctx, id)
	if err != nil {
		return storeErr(err)
	}
	out := scheduleDetailPage{Schedule: *sc, Description: describeSchedule(sc), Launch: store.IsLaunchSchedule(sc), Task: sc.Task}
	if sc.DirectiveID != nil {
		if d, err := u.st.GetDirective(ctx, *sc.DirectiveID); err == nil {
			out.Directive = d.Name
		}
	}
	if sc.TargetHostID != nil {
		if h, err := u.st.GetWorkerHost(ctx, *sc.TargetHostID); err == nil {
			out.Host = h.Name
		}
	}
	items, n, err := u.st.ScheduleRuns(ctx, id, schedulePageSize, (page-1)*schedulePageSize)
	if err != nil {
		return err
	}
	out.History = items
	out.Pager = newSchedulePager(page, n, url.Values{})
	return u.render(c, "schedule", sc.Name, out)
}

func (u *UI) scheduleSetEnabled(enabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id", "Schedule")
		if err != nil {
			return err
		}
		if _, err := u.st.SetScheduleEnabled(c.Request().Context(), id, enabled); err != nil {
			return storeErr(err)
		}
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/schedules/%d", id))
	}
}

// scheduleRunNow creates a run of the schedule's task due at once and shows
// it; a scheduler executes it.
func (u *UI) scheduleRunNow(c echo.Context) error {
	id, err := pathID(c, "id", "Schedule")
	if err != nil {
		return err
	}
	runID, err := u.st.RunScheduleNow(c.Request().Context(), id)
	if err != nil {
		return storeErr(err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/runs/%d", runID))
}

// scheduleDelete deletes a schedule that never ran; one with history is a
// conflict (disable it instead), shown with the store's reason.
func (u *UI) scheduleDelete(c echo.Context) error {
	id, err := pathID(c, "id", "Schedule")
	if err != nil {
		return err
	}
	if err := u.st.DeleteSchedule(c.Request().Context(), id); err != nil {
		return storeErr(err)
	}
	return c.Redirect(http.StatusSeeOther, "/schedules")
}

// Kind names the schedule's type for people.
func (r scheduleRow) Kind() string { return scheduleKind(r.ScheduleType) }

func scheduleKind(t domain.ScheduleType) string {
	if t == domain.ScheduleOneShot {
		return "one-shot"
	}
	return string(t)
}

// Kind names the schedule's type for people.
func (p scheduleDetailPage) Kind() string { return scheduleKind(p.Schedule.ScheduleType) }

// Interval says an interval schedule's period ("" for other kinds).
func (p scheduleDetailPage) Interval() string {
	if p.Schedule.IntervalMinutes == nil {
		return ""
	}
	return "every " + cronDuration(time.Duration(*p.Schedule.IntervalMinutes)*time.Minute)
}

// Limits says the schedule's concurrency limits.
func (p scheduleDetailPage) Limits() string {
	g, j := "no global limit", "no per-task limit"
	if p.Schedule.MaxGlobal != nil {
		g = fmt.Sprintf("at most %d of its jobs running at once", *p.Schedule.MaxGlobal)
	}
	if p.Schedule.MaxPerJob != nil {
		j = fmt.Sprintf("at most %d per task", *p.Schedule.MaxPerJob)
	}
	return g + "; " + j
}
