package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"gorm.io/gorm"
)

// resolveTasks resolves the requested task keys (or ids) to enabled
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
		// "Every task" means every diagnostic: an operator's container
		// tasks (backups, clean-ups) run only when named.
		for _, d := range all {
			if d.Enabled && d.Kind != domain.TaskContainer {
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

// runSpec is what a run is created from, whichever path creates it.
type runSpec struct {
	Req LaunchRequest
	// Schedule is the schedule whose slot or run-now creates the run; nil
	// for a launch. Its task, directive and target host are the run's.
	Schedule *Schedule
	// Slot is the fired slot: the job is handed to execution at once, and a
	// slot without a usable host is recorded as a failed run instead of
	// refused. Nil for a launch or a run-now.
	Slot *time.Time
}

func scheduleSpec(sch *Schedule, slot *time.Time) runSpec {
	return runSpec{Schedule: sch, Slot: slot,
		Req: LaunchRequest{DirectiveID: sch.DirectiveID, Tasks: []string{sch.Task}, TargetHostID: sch.TargetHostID}}
}

// runInputs is what planning runs reads before anything is written.
type runInputs struct {
	Directives map[int64]*Directive
	Default    *Directive
	Tasks      []TaskDefinition
	Hosts      []hostCandidate
	Now        time.Time // the database clock: how recently a host was seen
	// Fingerprint is a digest of everything above but the clock, computed by
	// the database; sqlCreateRuns can check that it still holds.
	Fingerprint  string
	DirectiveIDs []int64 // the directives requested when read
	readAt       time.Time
}

// sqlInputsRead reads the requested directives and the default one, every
// task definition, and every worker host with its running job count, as
// JSON (parameters: directive ids, default directive name).
const sqlInputsRead = `
    (SELECT coalesce(jsonb_agg(to_jsonb(d)), '[]') FROM directives d WHERE d.id = ANY(?) OR d.name = ?),
    (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM task_definitions t),
    (SELECT coalesce(jsonb_agg(to_jsonb(h) || jsonb_build_object('running',
        (SELECT count(*) FROM jobs j WHERE j.worker_host_id = h.id AND j.status = 'running')) ORDER BY h.id), '[]')
     FROM worker_hosts h)`

// sqlInputsFingerprint is a digest of the rows sqlInputsRead reads: each
// row's id and xmin (any insert, update or delete of such a row changes
// it) and each host's running job count (same parameters). It is cheap
// next to the read: no row is turned into JSON.
const sqlInputsFingerprint = `md5(
    (SELECT coalesce(string_agg(d.id || ':' || d.xmin, ',' ORDER BY d.id), '') FROM directives d WHERE d.id = ANY(?) OR d.name = ?)
    || '|' || (SELECT coalesce(string_agg(t.id || ':' || t.xmin, ',' ORDER BY t.id), '') FROM task_definitions t)
    || '|' || (SELECT coalesce(string_agg(h.id || ':' || h.xmin || ':' ||
        (SELECT count(*) FROM jobs j WHERE j.worker_host_id = h.id AND j.status = 'running'), ',' ORDER BY h.id), '')
        FROM worker_hosts h))`

// sqlRunInputs reads the inputs, the database clock and the inputs'
// fingerprint in one round trip (parameters: directive ids and default
// directive name, twice).
const sqlRunInputs = `SELECT ` + sqlInputsRead + `, now(), ` + sqlInputsFingerprint

// loadRunInputs reads what specs need; db may be a transaction.
func loadRunInputs(ctx context.Context, db *gorm.DB, specs []runSpec) (*runInputs, error) {
	var ids []int64
	for _, sp := range specs {
		if sp.Req.DirectiveID != nil {
			ids = append(ids, *sp.Req.DirectiveID)
		}
	}
	var dirsJSON, tasksJSON, hostsJSON []byte
	in := &runInputs{Directives: map[int64]*Directive{}, DirectiveIDs: ids, readAt: time.Now()}
	err := db.WithContext(ctx).Raw(sqlRunInputs, Int64s(ids), DefaultDirectiveName, Int64s(ids), DefaultDirectiveName).Row().
		Scan(&dirsJSON, &tasksJSON, &hostsJSON, &in.Now, &in.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("load run inputs: %w", err)
	}
	var dirs []Directive
	if err := json.Unmarshal(dirsJSON, &dirs); err != nil {
		return nil, fmt.Errorf("decode directives: %w", err)
	}
	for i := range dirs {
		in.Directives[dirs[i].ID] = &dirs[i]
		if dirs[i].Name == DefaultDirectiveName {
			in.Default = &dirs[i]
		}
	}
	if err := json.Unmarshal(tasksJSON, &in.Tasks); err != nil {
		return nil, fmt.Errorf("decode task definitions: %w", err)
	}
	if err := json.Unmarshal(hostsJSON, &in.Hosts); err != nil {
		return nil, fmt.Errorf("decode worker hosts: %w", err)
	}
	if in.Default == nil && in.needDefault(specs) {
		if in.Default, err = defaultDirective(ctx, db); err != nil {
			return nil, err
		}
		in.Fingerprint = "" // read before the default directive was created
	}
	return in, nil
}

// needDefault reports whether some spec will create a run with the default
// directive: a schedule's, or a launch that would pass (the default
// directive is not created for a launch that is refused).
func (in *runInputs) needDefault(specs []runSpec) bool {
	for _, sp := range specs {
		if sp.Req.DirectiveID != nil {
			continue
		}
		if sp.Schedule != nil {
			return true
		}
		if defs, err := resolveTasks(in.Tasks, sp.Req); err == nil {
			if _, err := pickHost(in.Hosts, defs, sp.Req.TargetHostID, in.Now); err == nil {
				return true
			}
		}
	}
	return false
}

// plan validates one spec against the inputs (docs/DESIGN.md §5) and builds
// its row: the directive (the requested one, else the default), the task
// definitions, the host and the directive snapshot.
func (in *runInputs) plan(idx int, sp runSpec) (*newRun, error) {
	dir := in.Default
	if sp.Req.DirectiveID != nil {
		if dir = in.Directives[*sp.Req.DirectiveID]; dir == nil {
			return nil, domain.NotFound("Directive not found")
		}
	}
	defs, err := in.taskDefs(sp)
	if err != nil {
		return nil, err
	}
	hostID, routeErr := pickHost(in.Hosts, defs, sp.Req.TargetHostID, in.Now)
	if routeErr != nil && sp.Slot == nil {
		return nil, routeErr
	}
	if dir == nil {
		return nil, fmt.Errorf("default directive missing")
	}
	row := &newRun{Idx: idx, DirectiveID: dir.ID, Snapshot: directiveSnapshot(dir, sp.Schedule), HostID: hostID,
		ScheduledFor: sp.Slot, HandOff: sp.Slot != nil}
	if routeErr != nil {
		// A slot's run is history even when it cannot run: it fails at once.
		msg := routeErr.Error()
		row.Error = &msg
	}
	for i, d := range defs {
		job := newJob{Task: d.Key, Pos: i, Config: MergeConfig(d.DefaultConfig, dir.TaskConfig, d.Key),
			MaxAttempts: d.MaxAttempts, Timeout: d.TimeoutSeconds}
		if sp.Schedule != nil {
			job.ScheduleID = &sp.Schedule.ID
		}
		row.Jobs = append(row.Jobs, job)
	}
	return row, nil
}

// taskDefs returns the task definitions a spec runs: a launch's requested
// enabled tasks, or a schedule's task — refused when disabled for a run-now
// (a user is there to read why), run anyway for a slot (the schedule was set
// up to run it).
func (in *runInputs) taskDefs(sp runSpec) ([]TaskDefinition, error) {
	if sp.Schedule == nil {
		return resolveTasks(in.Tasks, sp.Req)
	}
	for _, d := range in.Tasks {
		if d.Key != sp.Schedule.Task {
			continue
		}
		if !d.Enabled && sp.Slot == nil {
			return nil, domain.Invalid(map[string][]string{"task_key": {fmt.Sprintf("task %q is disabled", d.Key)}},
				"task %q of this schedule is disabled", d.Key)
		}
		return []TaskDefinition{d}, nil
	}
	return nil, fmt.Errorf("task %q of schedule %d: %w", sp.Schedule.Task, sp.Schedule.ID, domain.ErrNotFound)
}

// planOne reads what one spec needs and plans its run; db may be a
// transaction.
func planOne(ctx context.Context, db *gorm.DB, sp runSpec) (*newRun, error) {
	in, err := loadRunInputs(ctx, db, []runSpec{sp})
	if err != nil {
		return nil, err
	}
	return in.plan(0, sp)
}
