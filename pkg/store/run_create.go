package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Launches are group-committed: concurrent launches are validated against
// one read of the directives, task definitions and hosts, and inserted by
// one statement in one transaction. Each launch stays atomic (its run, jobs,
// schedules and ScheduledRuns commit together); a batch only shares the
// round trips, the planning and the commit. An idle API launches alone, with
// no waiting: a batch is whatever is queued when a worker becomes free.
const (
	launchWorkers  = 4
	maxLaunchBatch = 128
)

type launchItem struct {
	ctx   context.Context
	req   LaunchRequest
	reply chan launchResult
}

type launchResult struct {
	detail *RunDetail
	err    error
}

type launcher struct {
	once sync.Once
	ch   chan launchItem
	done chan struct{} // closed by Store.Close
}

// Launch creates, in one transaction, the run, one job per task, one one-shot
// schedule `launch-run-{run}-{task}` per job and one pending ScheduledRun per
// schedule, then wakes the schedulers (NOTIFY after the commit).
func (s *Store) Launch(ctx context.Context, req LaunchRequest) (*RunDetail, error) {
	s.launcher.once.Do(s.startLaunchers)
	it := launchItem{ctx: ctx, req: req, reply: make(chan launchResult, 1)}
	select {
	case s.launcher.ch <- it:
	case <-s.launcher.done:
		return nil, fmt.Errorf("launch: store closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := <-it.reply // always answered: workers finish what they took
	return res.detail, res.err
}

func (s *Store) startLaunchers() {
	s.launcher.ch = make(chan launchItem, maxLaunchBatch)
	s.launcher.done = make(chan struct{})
	for i := 0; i < launchWorkers; i++ {
		go s.launchWorker()
	}
}

func (s *Store) launchWorker() {
	for {
		var first launchItem
		select {
		case first = <-s.launcher.ch:
		case <-s.launcher.done:
			return
		}
		batch := []launchItem{first}
	drain:
		for len(batch) < maxLaunchBatch {
			select {
			case it := <-s.launcher.ch:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		s.launchBatch(batch)
	}
}

// launchRow is a validated launch ready to insert.
type launchRow struct {
	Idx         int             `json:"idx"`
	DirectiveID int64           `json:"directive_id"`
	Snapshot    json.RawMessage `json:"snapshot"`
	HostID      *int64          `json:"host_id"`
	Tasks       []launchTask    `json:"tasks"`
}

type launchTask struct {
	Task        string          `json:"task"`
	Pos         int             `json:"pos"`
	Config      json.RawMessage `json:"config"`
	MaxAttempts int             `json:"max_attempts"`
	Timeout     int             `json:"timeout"`
}

func (s *Store) launchBatch(batch []launchItem) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := make([]launchResult, len(batch))
	var rows []launchRow
	lc, err := s.loadLaunchContext(ctx, batch)
	for i, it := range batch {
		switch {
		case err != nil:
			results[i].err = err
		case it.ctx.Err() != nil:
			results[i].err = it.ctx.Err() // the client gave up before anything was written
		default:
			row, rerr := lc.prepare(i, it.req)
			if rerr != nil {
				results[i].err = rerr
			} else {
				rows = append(rows, *row)
			}
		}
	}
	if len(rows) > 0 {
		s.insertLaunches(ctx, rows, results)
	}
	for i, it := range batch {
		it.reply <- results[i]
	}
}

// insertLaunches inserts rows in one statement; if that fails, each launch
// is tried alone so one bad launch cannot fail the others.
func (s *Store) insertLaunches(ctx context.Context, rows []launchRow, results []launchResult) {
	details, err := s.insertLaunchRows(ctx, rows)
	if err != nil && len(rows) > 1 {
		for _, r := range rows {
			s.insertLaunches(ctx, []launchRow{r}, results)
		}
		return
	}
	for _, r := range rows {
		if err != nil {
			results[r.Idx].err = fmt.Errorf("launch run: %w", err)
		} else {
			results[r.Idx].detail = details[r.Idx]
		}
	}
	if err == nil {
		s.Wake()
	}
}

// sqlLaunchBatch inserts a batch of launches. Ids come from the sequences up
// front so every row can reference its run, schedule and job; foreign keys
// are checked at the end of the statement.
const sqlLaunchBatch = `
WITH l AS MATERIALIZED (
    SELECT l.*, nextval('runs_id_seq') AS run_id
    FROM jsonb_to_recordset(?::jsonb) AS l(idx int, directive_id bigint, snapshot jsonb, host_id bigint, tasks jsonb)
), t AS MATERIALIZED (
    SELECT l.run_id, l.host_id, x.*, nextval('schedules_id_seq') AS schedule_id, nextval('jobs_id_seq') AS job_id
    FROM l, jsonb_to_recordset(l.tasks) AS x(task text, pos int, config jsonb, max_attempts int, timeout int)
), r AS (
    INSERT INTO runs (id, directive_id, directive_snapshot, worker_host_id)
    SELECT run_id, directive_id, snapshot, host_id FROM l
    RETURNING *
), s AS (
    INSERT INTO schedules (id, name, task, enabled, schedule_type, next_run_at, due_at)
    SELECT schedule_id, 'launch-run-' || run_id || '-' || task, task, true, 'one_shot', now(), now() FROM t
), j AS (
    INSERT INTO jobs (id, run_id, schedule_id, task_type, position, config, worker_host_id, max_attempts, timeout_seconds)
    SELECT job_id, run_id, schedule_id, task, pos, config, host_id, max_attempts, timeout FROM t
    RETURNING *
), sr AS (
    INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for)
    SELECT schedule_id, run_id, job_id, now() FROM t
)
SELECT l.idx, to_jsonb(r.*), jj.jobs
FROM l JOIN r ON r.id = l.run_id
JOIN (SELECT run_id, jsonb_agg(to_jsonb(j.*)) AS jobs FROM j GROUP BY run_id) jj ON jj.run_id = l.run_id`

func (s *Store) insertLaunchRows(ctx context.Context, rows []launchRow) (map[int]*RunDetail, error) {
	payload, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*RunDetail, len(rows))
	err = s.withRetry(ctx, func(tx *gorm.DB) error {
		res, err := tx.Raw(sqlLaunchBatch, string(payload)).Rows()
		if err != nil {
			return err
		}
		defer res.Close()
		for res.Next() {
			var idx int
			var runJSON, jobsJSON []byte
			if err := res.Scan(&idx, &runJSON, &jobsJSON); err != nil {
				return err
			}
			d, err := decodeLaunched(runJSON, jobsJSON)
			if err != nil {
				return err
			}
			out[idx] = d
		}
		return res.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(rows) {
		return nil, fmt.Errorf("launch inserted %d of %d runs", len(out), len(rows))
	}
	return out, nil
}

// decodeLaunched turns the launch statement's JSON into the run detail.
func decodeLaunched(runJSON, jobsJSON []byte) (*RunDetail, error) {
	detail := &RunDetail{}
	if err := json.Unmarshal(runJSON, &detail.Run); err != nil {
		return nil, fmt.Errorf("decode launched run: %w", err)
	}
	if err := json.Unmarshal(jobsJSON, &detail.Jobs); err != nil {
		return nil, fmt.Errorf("decode launched jobs: %w", err)
	}
	detail.Run.toUTC()
	for i := range detail.Jobs {
		detail.Jobs[i].toUTC()
	}
	sort.Slice(detail.Jobs, func(i, j int) bool { return detail.Jobs[i].Position < detail.Jobs[j].Position })
	return detail, nil
}

// launchContext is what a batch of launches reads before it writes.
type launchContext struct {
	Directives map[int64]*Directive
	Default    *Directive
	Tasks      []TaskDefinition
	Hosts      []hostCandidate
}

// sqlLaunchContext reads, in one round trip, the requested directives and
// the default one, every task definition and every worker host with its
// running job count.
const sqlLaunchContext = `SELECT
    (SELECT coalesce(jsonb_agg(to_jsonb(d)), '[]') FROM directives d WHERE d.id = ANY(?) OR d.name = ?),
    (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM task_definitions t),
    (SELECT coalesce(jsonb_agg(to_jsonb(h) || jsonb_build_object('running',
        (SELECT count(*) FROM jobs j WHERE j.worker_host_id = h.id AND j.status = 'running')) ORDER BY h.id), '[]')
     FROM worker_hosts h)`

func (s *Store) loadLaunchContext(ctx context.Context, batch []launchItem) (*launchContext, error) {
	var ids []int64
	needDefault := false
	for _, it := range batch {
		if it.req.DirectiveID != nil {
			ids = append(ids, *it.req.DirectiveID)
		} else {
			needDefault = true
		}
	}
	var dirsJSON, tasksJSON, hostsJSON []byte
	err := s.db.WithContext(ctx).Raw(sqlLaunchContext, Int64s(ids), DefaultDirectiveName).
		Row().Scan(&dirsJSON, &tasksJSON, &hostsJSON)
	if err != nil {
		return nil, fmt.Errorf("load launch context: %w", err)
	}
	var dirs []Directive
	lc := &launchContext{Directives: map[int64]*Directive{}}
	if err := json.Unmarshal(dirsJSON, &dirs); err != nil {
		return nil, fmt.Errorf("decode directives: %w", err)
	}
	for i := range dirs {
		lc.Directives[dirs[i].ID] = &dirs[i]
		if dirs[i].Name == DefaultDirectiveName {
			lc.Default = &dirs[i]
		}
	}
	if err := json.Unmarshal(tasksJSON, &lc.Tasks); err != nil {
		return nil, fmt.Errorf("decode task definitions: %w", err)
	}
	if err := json.Unmarshal(hostsJSON, &lc.Hosts); err != nil {
		return nil, fmt.Errorf("decode worker hosts: %w", err)
	}
	if needDefault && lc.Default == nil && lc.anyValidDefault(batch) {
		// The default directive is created only for a launch that is valid.
		if lc.Default, err = s.defaultDirective(ctx); err != nil {
			return nil, err
		}
	}
	return lc, nil
}

// anyValidDefault reports whether some launch without a directive would pass.
func (lc *launchContext) anyValidDefault(batch []launchItem) bool {
	for _, it := range batch {
		if it.req.DirectiveID != nil {
			continue
		}
		if defs, err := resolveTasks(lc.Tasks, it.req); err == nil {
			if _, err := pickHost(lc.Hosts, defs, it.req.TargetHostID); err == nil {
				return true
			}
		}
	}
	return false
}

// prepare validates one launch against the context (docs/DESIGN.md §4) and builds its row.
func (lc *launchContext) prepare(idx int, req LaunchRequest) (*launchRow, error) {
	dir := lc.Default
	if req.DirectiveID != nil {
		dir = lc.Directives[*req.DirectiveID]
		if dir == nil {
			return nil, domain.NotFound("Directive not found")
		}
	}
	defs, err := resolveTasks(lc.Tasks, req)
	if err != nil {
		return nil, err
	}
	hostID, err := pickHost(lc.Hosts, defs, req.TargetHostID)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, fmt.Errorf("default directive missing")
	}
	snapshot, _ := json.Marshal(map[string]any{
		"id": dir.ID, "name": dir.Name, "description": dir.Description, "task_config": dir.TaskConfig,
	})
	row := &launchRow{Idx: idx, DirectiveID: dir.ID, Snapshot: snapshot, HostID: hostID}
	for i, d := range defs {
		row.Tasks = append(row.Tasks, launchTask{Task: d.Key, Pos: i, Config: MergeConfig(d.DefaultConfig, dir.TaskConfig, d.Key),
			MaxAttempts: d.MaxAttempts, Timeout: d.TimeoutSeconds})
	}
	return row, nil
}
