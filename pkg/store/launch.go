package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// DefaultDirectiveName is the directive a launch without directive_id uses.
const DefaultDirectiveName = "default"

// LaunchRequest is a validated POST /api/runs/launch/ body.
type LaunchRequest struct {
	DirectiveID  *int64
	Tasks        []string // task keys; empty = every enabled task
	TaskIDs      []int64  // alternative to Tasks
	TargetHostID *int64
}

// RunDetail is a run with its jobs.
type RunDetail struct {
	Run
	Jobs []Job `json:"jobs"`
}

// Launch creates, in one transaction, the run, one job per task, one one-shot
// schedule `launch-run-{run}-{task}` per job and one pending ScheduledRun per
// schedule, then wakes the schedulers (NOTIFY is delivered at commit).
func (s *Store) Launch(ctx context.Context, req LaunchRequest) (*RunDetail, error) {
	db := s.DB.WithContext(ctx)
	// One round trip reads everything the launch decides on (directive, task
	// definitions, hosts with their running jobs): reads were most of a
	// launch's cost when each was its own query.
	lc, err := s.loadLaunchContext(ctx, req.DirectiveID)
	if err != nil {
		return nil, err
	}
	dir := lc.Directive
	if req.DirectiveID != nil && dir == nil {
		return nil, domain.NotFound("Directive not found")
	}
	defs, err := resolveTasks(lc.Tasks, req)
	if err != nil {
		return nil, err
	}
	hostID, err := pickHost(lc.Hosts, defs, req.TargetHostID)
	if err != nil {
		return nil, err
	}
	if dir == nil { // the default directive is created only by a valid launch
		if dir, err = s.launchDirective(ctx, nil); err != nil {
			return nil, err
		}
	}
	snapshot, _ := json.Marshal(map[string]any{
		"id": dir.ID, "name": dir.Name, "description": dir.Description, "task_config": dir.TaskConfig,
	})
	type taskRow struct {
		Task        string          `json:"task"`
		Pos         int             `json:"pos"`
		Config      json.RawMessage `json:"config"`
		MaxAttempts int             `json:"max_attempts"`
		Timeout     int             `json:"timeout"`
	}
	rows := make([]taskRow, len(defs))
	for i, d := range defs {
		rows[i] = taskRow{Task: d.Key, Pos: i, Config: MergeConfig(d.DefaultConfig, dir.TaskConfig, d.Key),
			MaxAttempts: d.MaxAttempts, Timeout: d.TimeoutSeconds}
	}
	tasksJSON, _ := json.Marshal(rows)
	var out struct {
		Run  json.RawMessage
		Jobs json.RawMessage
	}
	err = db.Raw(sqlLaunch, dir.ID, string(snapshot), hostID, string(tasksJSON)).Row().Scan(&out.Run, &out.Jobs)
	if err != nil {
		return nil, fmt.Errorf("launch run: %w", err)
	}
	s.Wake()
	detail := &RunDetail{}
	if err := json.Unmarshal(out.Run, &detail.Run); err != nil {
		return nil, fmt.Errorf("decode launched run: %w", err)
	}
	if err := json.Unmarshal(out.Jobs, &detail.Jobs); err != nil {
		return nil, fmt.Errorf("decode launched jobs: %w", err)
	}
	detail.Run.toUTC()
	for i := range detail.Jobs {
		detail.Jobs[i].toUTC()
	}
	sort.Slice(detail.Jobs, func(i, j int) bool { return detail.Jobs[i].Position < detail.Jobs[j].Position })
	return detail, nil
}

// sqlLaunch inserts a launch in one statement (one round trip). Schedules are
// inserted before jobs so each job can reference its schedule (limits). The
// caller wakes the schedulers after the commit.
const sqlLaunch = `
WITH r AS (
    INSERT INTO runs (directive_id, directive_snapshot, worker_host_id)
    VALUES (?, ?::jsonb, ?)
    RETURNING *
), t AS (
    SELECT * FROM jsonb_to_recordset(?::jsonb)
        AS t(task text, pos int, config jsonb, max_attempts int, timeout int)
), s AS (
    INSERT INTO schedules (name, task, directive_id, target_host_id, enabled, schedule_type, next_run_at, due_at)
    SELECT 'launch-run-' || r.id || '-' || t.task, t.task, r.directive_id, r.worker_host_id, true, 'one_shot', now(), now()
    FROM r, t
    RETURNING id, task
), j AS (
    INSERT INTO jobs (run_id, schedule_id, task_type, position, config, worker_host_id, max_attempts, timeout_seconds)
    SELECT r.id, s.id, t.task, t.pos, t.config, r.worker_host_id, t.max_attempts, t.timeout
    FROM r, t JOIN s ON s.task = t.task
    RETURNING *
), sr AS (
    INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for)
    SELECT j.schedule_id, j.run_id, j.id, now() FROM j
    RETURNING id
)
SELECT to_jsonb(r.*), (SELECT jsonb_agg(to_jsonb(j.*)) FROM j)
FROM r, (SELECT count(*) FROM sr) AS linked`

func (s *Store) launchDirective(ctx context.Context, id *int64) (*Directive, error) {
	db := s.DB.WithContext(ctx)
	var d Directive
	if id != nil {
		err := db.Take(&d, *id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, domain.NotFound("Directive not found")
		}
		if err != nil {
			return nil, fmt.Errorf("load directive: %w", err)
		}
		return &d, nil
	}
	err := db.Exec(`INSERT INTO directives (name, description) VALUES (?, 'Created on first launch without a directive')
		ON CONFLICT (name) DO NOTHING`, DefaultDirectiveName).Error
	if err != nil {
		return nil, fmt.Errorf("create default directive: %w", err)
	}
	if err := db.Where("name = ?", DefaultDirectiveName).Take(&d).Error; err != nil {
		return nil, fmt.Errorf("load default directive: %w", err)
	}
	return &d, nil
}

// launchTasks resolves the requested task keys (or ids) to enabled
// definitions, in request order with duplicates collapsed.
func resolveTasks(all []TaskDefinition, req LaunchRequest) ([]TaskDefinition, error) {
	if len(req.Tasks) > 0 && len(req.TaskIDs) > 0 {
		return nil, domain.Invalid(map[string][]string{"tasks": {"give either tasks or task_ids, not both"}},
			"give either tasks or task_ids, not both")
	}
	byKey := map[string]TaskDefinition{}
	byID := map[int64]TaskDefinition{}
	for _, d := range all {
		byKey[d.Key], byID[d.ID] = d, d
	}
	var out []TaskDefinition
	seen := map[string]bool{}
	var unknown, disabled []string
	add := func(d TaskDefinition, ok bool, name string) {
		switch {
		case !ok:
			unknown = append(unknown, name)
		case !d.Enabled:
			disabled = append(disabled, name)
		case !seen[d.Key]:
			seen[d.Key] = true
			out = append(out, d)
		}
	}
	switch {
	case len(req.Tasks) > 0:
		for _, k := range req.Tasks {
			d, ok := byKey[k]
			add(d, ok, k)
		}
	case len(req.TaskIDs) > 0:
		for _, id := range req.TaskIDs {
			d, ok := byID[id]
			add(d, ok, fmt.Sprint(id))
		}
	default:
		for _, d := range all {
			if d.Enabled {
				out = append(out, d)
			}
		}
	}
	if len(unknown) > 0 || len(disabled) > 0 {
		var msgs []string
		if len(unknown) > 0 {
			msgs = append(msgs, "unknown task(s): "+strings.Join(unknown, ", "))
		}
		if len(disabled) > 0 {
			msgs = append(msgs, "disabled task(s): "+strings.Join(disabled, ", "))
		}
		field := "tasks"
		if len(req.TaskIDs) > 0 {
			field = "task_ids"
		}
		return nil, domain.Invalid(map[string][]string{field: msgs}, "%s", strings.Join(msgs, "; "))
	}
	if len(out) == 0 {
		return nil, domain.Invalid(map[string][]string{"tasks": {"no task definition is enabled"}}, "no task definition is enabled")
	}
	return out, nil
}

// MergeConfig returns a task's config: its default config overlaid with the
// directive's task_config entry for that task (task_config[key]) when present.
func MergeConfig(defaults, directiveConfig json.RawMessage, key string) json.RawMessage {
	merged := map[string]any{}
	_ = json.Unmarshal(defaults, &merged)
	var dc map[string]json.RawMessage
	if json.Unmarshal(directiveConfig, &dc) == nil {
		var over map[string]any
		if json.Unmarshal(dc[key], &over) == nil {
			for k, v := range over {
				merged[k] = v
			}
		}
	}
	b, _ := json.Marshal(merged)
	return b
}

// hostCandidate is a worker host with its computed load.
type hostCandidate struct {
	WorkerHost
	Running int64 `json:"running"`
}

// routeHost picks the worker host for the tasks that need Docker (SPEC §8):
// an explicit target must be usable (400 otherwise); else among enabled
// hosts with the capabilities, not known unhealthy, prefer healthy ones seen
// recently, then the fewest running jobs.
func (s *Store) routeHost(ctx context.Context, defs []TaskDefinition, target *int64) (*int64, error) {
	var hosts []hostCandidate
	q := s.DB.WithContext(ctx).Raw(`SELECT h.*, (SELECT count(*) FROM jobs j WHERE j.worker_host_id = h.id AND j.status = 'running') AS running
		FROM worker_hosts h ORDER BY h.id`)
	if err := q.Scan(&hosts).Error; err != nil {
		return nil, fmt.Errorf("load worker hosts: %w", err)
	}
	return pickHost(hosts, defs, target)
}

// pickHost is routeHost's decision over loaded hosts.
func pickHost(hosts []hostCandidate, defs []TaskDefinition, target *int64) (*int64, error) {
	needDocker, needGPU := false, false
	for _, d := range defs {
		needDocker = needDocker || d.NeedsDocker
		needGPU = needGPU || d.NeedsGPU
	}
	if !needDocker {
		// No Docker needed: an explicit target must still exist and be usable.
		if target == nil {
			return nil, nil
		}
		needGPU = false
	}
	if target != nil {
		for _, h := range hosts {
			if h.ID == *target {
				if why := unusable(h.WorkerHost, needGPU); why != "" {
					return nil, domain.Invalid(map[string][]string{"target_host_id": {why}}, "%s", why)
				}
				return target, nil
			}
		}
		return nil, domain.Invalid(map[string][]string{"target_host_id": {"worker host not found"}},
			"worker host %d not found", *target)
	}
	var ok []hostCandidate
	var reasons []string
	for _, h := range hosts {
		if why := unusable(h.WorkerHost, needGPU); why != "" {
			reasons = append(reasons, why)
			continue
		}
		ok = append(ok, h)
	}
	if len(ok) == 0 {
		msg := "no usable worker host"
		if len(reasons) > 0 {
			msg += ": " + strings.Join(reasons, "; ")
		}
		return nil, domain.Invalid(map[string][]string{"target_host_id": {msg}}, "%s", msg)
	}
	recent := time.Now().Add(-10 * time.Minute)
	rank := func(h hostCandidate) int {
		switch {
		case h.Healthy != nil && *h.Healthy && h.LastSeenAt != nil && h.LastSeenAt.After(recent):
			return 0
		case h.Healthy != nil && *h.Healthy:
			return 1
		default: // never checked yet: usable
			return 2
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if ri, rj := rank(ok[i]), rank(ok[j]); ri != rj {
			return ri < rj
		}
		return ok[i].Running < ok[j].Running
	})
	return &ok[0].ID, nil
}

// unusable says why a host cannot take a launch, or "" when it can.
func unusable(h WorkerHost, needGPU bool) string {
	if !h.Enabled {
		return fmt.Sprintf("worker host %q is disabled", h.Name)
	}
	if h.Healthy != nil && !*h.Healthy {
		msg := fmt.Sprintf("worker host %q is unhealthy", h.Name)
		if h.LastError != "" {
			msg += " (" + h.LastError + ")"
		}
		return msg
	}
	if needGPU {
		var caps HostCapabilities
		_ = json.Unmarshal(h.Capabilities, &caps)
		if caps.GPUs != nil && *caps.GPUs <= 0 {
			return fmt.Sprintf("worker host %q lacks a GPU (capabilities.gpus = 0), needed by gpu_report", h.Name)
		}
	}
	return ""
}

// launchContext is what a launch reads before it writes.
type launchContext struct {
	Directive *Directive
	Tasks     []TaskDefinition
	Hosts     []hostCandidate
}

// sqlLaunchContext reads the directive (by id, or the default one by name),
// every task definition and every worker host with its running job count.
const sqlLaunchContext = `SELECT
    (SELECT to_jsonb(d) FROM directives d
     WHERE CASE WHEN CAST(? AS bigint) IS NULL THEN d.name = ? ELSE d.id = ? END LIMIT 1),
    (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM task_definitions t),
    (SELECT coalesce(jsonb_agg(to_jsonb(h) || jsonb_build_object('running',
        (SELECT count(*) FROM jobs j WHERE j.worker_host_id = h.id AND j.status = 'running')) ORDER BY h.id), '[]')
     FROM worker_hosts h)`

func (s *Store) loadLaunchContext(ctx context.Context, directiveID *int64) (*launchContext, error) {
	var dirJSON, tasksJSON, hostsJSON []byte
	err := s.DB.WithContext(ctx).Raw(sqlLaunchContext, directiveID, DefaultDirectiveName, directiveID).
		Row().Scan(&dirJSON, &tasksJSON, &hostsJSON)
	if err != nil {
		return nil, fmt.Errorf("load launch context: %w", err)
	}
	lc := &launchContext{}
	if len(dirJSON) > 0 {
		lc.Directive = &Directive{}
		if err := json.Unmarshal(dirJSON, lc.Directive); err != nil {
			return nil, fmt.Errorf("decode directive: %w", err)
		}
	}
	if err := json.Unmarshal(tasksJSON, &lc.Tasks); err != nil {
		return nil, fmt.Errorf("decode task definitions: %w", err)
	}
	if err := json.Unmarshal(hostsJSON, &lc.Hosts); err != nil {
		return nil, fmt.Errorf("decode worker hosts: %w", err)
	}
	return lc, nil
}
