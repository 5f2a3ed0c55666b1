package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// scheduleInput is a schedule create/edit body. The task is named by
// task_key (what GET shows) or task (the column name, docs/DESIGN.md §2).
type scheduleInput struct {
	Name                Opt[string]              `json:"name"`
	TaskKey             Opt[string]              `json:"task_key"`
	Task                Opt[string]              `json:"task"`
	DirectiveID         Opt[int64]               `json:"directive_id"`
	CustomDirectiveText Opt[string]              `json:"custom_directive_text"`
	TargetHostID        Opt[int64]               `json:"target_host_id"`
	Enabled             Opt[bool]                `json:"enabled"`
	ScheduleType        Opt[domain.ScheduleType] `json:"schedule_type"`
	IntervalMinutes     Opt[int]                 `json:"interval_minutes"`
	CronExpr            Opt[string]              `json:"cron_expr"`
	Timezone            Opt[string]              `json:"timezone"`
	MaxGlobal           Opt[int]                 `json:"max_global"`
	MaxPerJob           Opt[int]                 `json:"max_per_job"`
	NextRunAt           Opt[time.Time]           `json:"next_run_at"`
	readOnly
	// Maintained by the schedulers; accepted back from a GET, never written.
	LastRunAt    json.RawMessage `json:"last_run_at"`
	ClaimedBy    json.RawMessage `json:"claimed_by"`
	ClaimedUntil json.RawMessage `json:"claimed_until"`
}

// maxLimit bounds the integer limits to what the database columns hold and
// what makes sense.
const maxLimit = 1_000_000

// decodeSchedule decodes a schedule body onto cur (PATCH) or onto a fresh
// schedule (POST, PUT: full) and validates the result. It never touches the
// database; references are checked by the store.
func decodeSchedule(body []byte, cur store.Schedule, full bool) (*store.ScheduleWrite, error) {
	var in scheduleInput
	if err := decodeJSON(body, &in, false); err != nil {
		return nil, err
	}
	sc := cur
	if full {
		sc = store.Schedule{ID: cur.ID, Enabled: true, Timezone: "UTC"}
	}
	fields := map[string][]string{}
	bad := func(f, msg string) { fields[f] = append(fields[f], msg) }
	str := func(o Opt[string], dst *string) {
		if o.Set {
			*dst = o.V
		}
	}
	id := func(name string, o Opt[int64], dst **int64) {
		switch {
		case !o.Set:
		case o.Null:
			*dst = nil
		case o.V <= 0:
			bad(name, "must be a positive integer id")
		default:
			v := o.V
			*dst = &v
		}
	}
	limit := func(name string, o Opt[int], dst **int) {
		switch {
		case !o.Set:
		case o.Null:
			*dst = nil
		case o.V <= 0 || o.V > maxLimit:
			bad(name, "must be a positive integer up to 1000000 (or null)")
		default:
			v := o.V
			*dst = &v
		}
	}
	str(in.Name, &sc.Name)
	sc.Name = strings.TrimSpace(sc.Name)
	if sc.Name != cur.Name && store.ReservedScheduleName(sc.Name) {
		// The prefix is what marks a launch's own schedule.
		bad("name", "names starting with launch-run- are reserved for launches")
	}
	if in.TaskKey.Set && in.Task.Set && in.TaskKey.V != in.Task.V {
		bad("task_key", "task and task_key disagree; give one of them")
	}
	str(in.Task, &sc.Task)
	str(in.TaskKey, &sc.Task)
	id("directive_id", in.DirectiveID, &sc.DirectiveID)
	str(in.CustomDirectiveText, &sc.CustomDirectiveText)
	id("target_host_id", in.TargetHostID, &sc.TargetHostID)
	if in.Enabled.Set && !in.Enabled.Null {
		sc.Enabled = in.Enabled.V
	}
	if in.ScheduleType.Set && in.ScheduleType.V != sc.ScheduleType {
		sc.ScheduleType = in.ScheduleType.V
		// A type change drops the other type's timing field unless given.
		if !in.IntervalMinutes.Set {
			sc.IntervalMinutes = nil
		}
		if !in.CronExpr.Set {
			sc.CronExpr = ""
		}
	}
	if in.IntervalMinutes.Set {
		sc.IntervalMinutes = nil
		if !in.IntervalMinutes.Null {
			v := in.IntervalMinutes.V
			sc.IntervalMinutes = &v
		}
	}
	str(in.CronExpr, &sc.CronExpr)
	sc.CronExpr = strings.TrimSpace(sc.CronExpr)
	str(in.Timezone, &sc.Timezone)
	if sc.Timezone == "" {
		sc.Timezone = "UTC"
	}
	limit("max_global", in.MaxGlobal, &sc.MaxGlobal)
	limit("max_per_job", in.MaxPerJob, &sc.MaxPerJob)
	w := &store.ScheduleWrite{}
	if in.NextRunAt.Set && !in.NextRunAt.Null {
		t := in.NextRunAt.V.UTC()
		if t.Year() < 2000 || t.Year() > 9999 {
			bad("next_run_at", "must be an RFC 3339 time between the years 2000 and 9999")
		}
		w.ExplicitNextRunAt = &t
	}
	for f, msgs := range store.ValidateSchedule(&sc) {
		for _, m := range msgs {
			bad(f, m)
		}
	}
	if len(fields) > 0 {
		return nil, badRequest(fields, "invalid schedule")
	}
	w.Schedule = sc
	return w, nil
}

// schedules serves /api/schedules. Create and update are its own: a
// schedule's edit is validated against the row read for update inside the
// store's transaction (decodeSchedule), not onto a row loaded beforehand.
func (s *Server) schedules() collection {
	return collection{list: s.listSchedules, create: s.createSchedule, get: getByID(s.st.GetSchedule),
		update: s.updateSchedule, remove: deleteByID(s.st.DeleteSchedule)}
}

func (s *Server) createSchedule(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	w, err := decodeSchedule(body, store.Schedule{}, true)
	if err != nil {
		return err
	}
	sc, err := s.st.CreateSchedule(c.Request().Context(), w)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sc)
}

func (s *Server) updateSchedule(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	full := c.Request().Method == http.MethodPut
	sc, err := s.st.UpdateSchedule(c.Request().Context(), id, func(cur store.Schedule) (*store.ScheduleWrite, error) {
		return decodeSchedule(body, cur, full)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sc)
}

func (s *Server) setScheduleEnabled(enabled bool) echo.HandlerFunc {
	return actionByID(func(ctx context.Context, id int64) (*store.Schedule, error) {
		return s.st.SetScheduleEnabled(ctx, id, enabled)
	})
}

// runScheduleNow creates the run and answers at once; a scheduler executes
// it (the API never does).
func (s *Server) runScheduleNow(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := readBody(c); err != nil {
		return err
	}
	key, err := idempotencyKey(c, store.ScopeRunNow, id)
	if err != nil {
		return err
	}
	runID, replayed, err := s.st.RunScheduleNowWithKey(c.Request().Context(), id, key)
	if err != nil {
		return keyError(err)
	}
	return c.JSON(markReplayed(c, replayed, http.StatusCreated), map[string]int64{"run_id": runID})
}

func (s *Server) scheduleHistory(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	limit, offset, err := limitOffset(c)
	if err != nil {
		return err
	}
	items, n, err := s.st.ScheduleHistory(c.Request().Context(), id, limit, offset)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"count": n, "items": items})
}
