package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// launchInput is the POST /api/runs/launch/ body (docs/DESIGN.md §4). Every field is
// optional; unknown fields are refused so a typo ("task": […]) is not
// silently a launch of every task.
type launchInput struct {
	DirectiveID  *int64   `json:"directive_id"`
	Tasks        []string `json:"tasks"`
	TaskIDs      []int64  `json:"task_ids"`
	TargetHostID *int64   `json:"target_host_id"`
}

// maxLaunchTasks bounds the task list (there are a handful of tasks; a list
// of thousands is garbage, not a launch).
const maxLaunchTasks = 100

// decodeLaunch decodes and validates a launch body into a store request.
func decodeLaunch(body []byte) (store.LaunchRequest, error) {
	var in launchInput
	if err := decodeJSON(body, &in, true); err != nil {
		return store.LaunchRequest{}, err
	}
	fields := map[string][]string{}
	positive := func(name string, v *int64) {
		if v != nil && *v <= 0 {
			fields[name] = append(fields[name], "must be a positive integer id")
		}
	}
	positive("directive_id", in.DirectiveID)
	positive("target_host_id", in.TargetHostID)
	if len(in.Tasks) > maxLaunchTasks {
		fields["tasks"] = append(fields["tasks"], "at most "+strconv.Itoa(maxLaunchTasks)+" tasks")
	}
	if len(in.TaskIDs) > maxLaunchTasks {
		fields["task_ids"] = append(fields["task_ids"], "at most "+strconv.Itoa(maxLaunchTasks)+" task ids")
	}
	for _, k := range in.Tasks {
		if k == "" || len(k) > 64 {
			fields["tasks"] = append(fields["tasks"], "task keys are 1 to 64 characters")
			break
		}
	}
	for _, id := range in.TaskIDs {
		if id <= 0 {
			fields["task_ids"] = append(fields["task_ids"], "task ids are positive integers")
			break
		}
	}
	if len(in.Tasks) > 0 && len(in.TaskIDs) > 0 {
		fields["tasks"] = append(fields["tasks"], "give either tasks or task_ids, not both")
	}
	if len(fields) > 0 {
		return store.LaunchRequest{}, badRequest(fields, "invalid launch request")
	}
	return store.LaunchRequest{DirectiveID: in.DirectiveID, Tasks: in.Tasks, TaskIDs: in.TaskIDs,
		TargetHostID: in.TargetHostID}, nil
}

func (s *Server) launchRun(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	req, err := decodeLaunch(body)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c, store.ScopeLaunch, req)
	if err != nil {
		return err
	}
	if key != nil {
		d, replayed, err := s.st.LaunchWithKey(c.Request().Context(), req, *key)
		if err != nil {
			return keyError(err)
		}
		if !replayed {
			metrics.RunLaunched(len(d.Jobs))
		}
		return c.JSON(markReplayed(c, replayed, http.StatusCreated), d)
	}
	d, err := s.cfg.Launcher.Launch(c.Request().Context(), req)
	if err != nil {
		return err
	}
	metrics.RunLaunched(len(d.Jobs))
	return c.JSON(http.StatusCreated, d)
}
