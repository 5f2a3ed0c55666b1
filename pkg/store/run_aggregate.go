package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// aggregateRuns re-derives the status of the given runs from their jobs
// (domain.AggregateRunStatus) under the runs' row locks, and on a run's terminal
// transition writes its report — in one UPDATE per batch, so a finished run
// costs one new row version. A run cancelled by a user stays cancelled.
func aggregateRuns(tx *gorm.DB, runIDs []int64) ([]RunTransition, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	runs, err := lockRunsForReport(tx, runIDs)
	if err != nil {
		return nil, err
	}
	// A separate statement after the locks: it sees every job change that
	// committed while this transaction waited for them.
	jobs, err := reportJobs(tx, runIDs)
	if err != nil {
		return nil, err
	}
	byRun := map[int64][]reportJob{}
	for _, j := range jobs {
		byRun[j.RunID] = append(byRun[j.RunID], j)
	}
	var changed []RunTransition
	var updates []runUpdate
	for _, r := range runs {
		u, moved := deriveRun(r, byRun[r.ID])
		if moved {
			changed = append(changed, RunTransition{ID: r.ID, Status: u.Status})
		}
		if moved || u.Markdown != "" {
			updates = append(updates, u)
		}
	}
	if err := notifyRunsFailed(tx, runs, changed, byRun); err != nil {
		return nil, err
	}
	if len(updates) == 0 {
		return changed, nil
	}
	return changed, tx.Exec(`UPDATE runs r SET status = x.status,
			started_at = CASE WHEN x.started THEN coalesce(r.started_at, now()) ELSE r.started_at END,
			completed_at = CASE WHEN x.status IN ('completed', 'failed', 'cancelled') THEN coalesce(r.completed_at, now()) END,
			error_message = coalesce(x.error, r.error_message),
			report_markdown = coalesce(x.md, r.report_markdown), report_json = coalesce(x.js, r.report_json)
		FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, status text, started bool, error text, md text, js jsonb)
		WHERE r.id = x.id`, jsonArg(updates)).Error
}

// reportRun is what the aggregation reads of a locked run.
type reportRun struct {
	ID           int64
	Status       domain.RunStatus
	WorkerHostID *int64
	Directive    string // the directive snapshot's name
	Reported     bool   // report_json is written
}

// lockRunsForReport takes the row locks of runs in id order (as lockRuns)
// and reads what the aggregation needs of them.
func lockRunsForReport(tx *gorm.DB, runIDs []int64) ([]reportRun, error) {
	var runs []reportRun
	err := queryRows(tx, func(rows *sql.Rows) error {
		var r reportRun
		err := rows.Scan(&r.ID, &r.Status, &r.WorkerHostID, &r.Directive, &r.Reported)
		runs = append(runs, r)
		return err
	}, `SELECT id, status, worker_host_id, coalesce(directive_snapshot->>'name', ''), report_json IS NOT NULL
		FROM runs WHERE id = ANY(?) ORDER BY id FOR UPDATE`, Int64s(runIDs))
	return runs, err
}

// reportJobs reads the jobs of runs with their summaries and artifacts.
func reportJobs(tx *gorm.DB, runIDs []int64) ([]reportJob, error) {
	var jobs []reportJob
	err := queryRows(tx, func(rows *sql.Rows) error {
		var j reportJob
		err := rows.Scan(&j.RunID, &j.ID, &j.TaskType, &j.Status, &j.Attempt, &j.StartedAt, &j.CompletedAt,
			&j.ErrorMessage, &j.ScheduleID, &j.WorkerHostID, &j.Summary, &j.Section, &j.Artifacts)
		jobs = append(jobs, j)
		return err
	}, `SELECT run_id, id, task_type, status, attempt, started_at, completed_at, error_message,
			schedule_id, worker_host_id,
			coalesce(result->>'summary', ''),
			coalesce((SELECT convert_from(a.content, 'UTF8') FROM artifacts a
			          WHERE a.run_id = jobs.run_id AND a.job_id = jobs.id AND a.name = 'report.md' ORDER BY a.id LIMIT 1), ''),
			coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name, 'size', a.size) ORDER BY a.id)
			          FROM artifacts a WHERE a.run_id = jobs.run_id AND a.job_id = jobs.id), '[]')
		FROM jobs WHERE run_id = ANY(?) ORDER BY run_id, position, id`, Int64s(runIDs))
	return jobs, err
}

type runUpdate struct {
	ID       int64            `json:"id"`
	Status   domain.RunStatus `json:"status"`
	Started  bool             `json:"started"`
	Error    *string          `json:"error"`
	Markdown string           `json:"md,omitempty"`
	JSON     json.RawMessage  `json:"js,omitempty"`
}

// deriveRun computes a locked run's new status and, on its terminal
// transition (all jobs terminal, no report yet), its report.
func deriveRun(r reportRun, jobs []reportJob) (runUpdate, bool) {
	statuses := make([]domain.JobStatus, len(jobs))
	started, done := false, true
	var errs []string
	for i, j := range jobs {
		statuses[i] = j.Status
		started = started || j.StartedAt != nil
		done = done && j.Status.Terminal()
		if j.Status == domain.StatusFailed {
			errs = append(errs, j.TaskType+": "+j.ErrorMessage)
		}
	}
	u := runUpdate{ID: r.ID, Status: domain.AggregateRunStatus(statuses, started), Started: started}
	if r.Status == domain.StatusCancelled {
		u.Status = r.Status
	}
	if u.Status == domain.StatusFailed && r.Status != domain.StatusFailed {
		msg := strings.Join(errs, "; ")
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		u.Error = &msg
	}
	moved := u.Status != r.Status // before r is relabelled for its report
	if done && len(jobs) > 0 && !r.Reported {
		r.Status = u.Status
		u.Markdown, u.JSON = buildReport(r, jobs)
	}
	return u, moved
}

type reportJob struct {
	RunID        int64
	ID           int64
	TaskType     string
	Status       domain.JobStatus
	Attempt      int
	StartedAt    *time.Time
	CompletedAt  *time.Time
	ErrorMessage string
	ScheduleID   *int64
	WorkerHostID *int64
	Summary      string
	Section      string
	Artifacts    json.RawMessage
}

// buildReport renders a run's report from its jobs and artifacts.
func buildReport(r reportRun, jobs []reportJob) (string, json.RawMessage) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Run %d — %s\n\n", r.ID, r.Status)
	if r.Directive != "" {
		fmt.Fprintf(&b, "Directive: **%s**\n\n", r.Directive)
	}
	type artOut struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Size        int64  `json:"size"`
		DownloadURL string `json:"download_url"`
	}
	type jobOut struct {
		ID        int64            `json:"id"`
		Task      string           `json:"task_type"`
		Status    domain.JobStatus `json:"status"`
		Attempts  int              `json:"attempts"`
		Summary   string           `json:"summary"`
		Error     string           `json:"error,omitempty"`
		Started   *time.Time       `json:"started_at"`
		Completed *time.Time       `json:"completed_at"`
		Artifacts []artOut         `json:"artifacts"`
	}
	out := struct {
		RunID   int64            `json:"run_id"`
		Status  domain.RunStatus `json:"status"`
		Summary string           `json:"summary"`
		Jobs    []jobOut         `json:"jobs"`
	}{RunID: r.ID, Status: r.Status}
	counts := map[string]int{}
	b.WriteString("| job | task | status | attempts | summary |\n|---|---|---|---|---|\n")
	var sections strings.Builder
	for _, j := range jobs {
		if j.RunID != r.ID {
			continue
		}
		counts[string(j.Status)]++
		jo := jobOut{ID: j.ID, Task: j.TaskType, Status: j.Status, Attempts: j.Attempt, Summary: j.Summary,
			Error: j.ErrorMessage, Started: utc(j.StartedAt), Completed: utc(j.CompletedAt), Artifacts: []artOut{}}
		var arts []artOut
		_ = json.Unmarshal(j.Artifacts, &arts)
		for _, a := range arts {
			a.DownloadURL = fmt.Sprintf("/api/artifacts/%d/download/", a.ID)
			jo.Artifacts = append(jo.Artifacts, a)
		}
		out.Jobs = append(out.Jobs, jo)
		summary := j.Summary
		if j.ErrorMessage != "" {
			summary = "error: " + j.ErrorMessage
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %s |\n", j.ID, j.TaskType, j.Status, j.Attempt, mdCell(summary))
		if j.Section != "" || len(jo.Artifacts) > 0 {
			fmt.Fprintf(&sections, "\n## %s (job %d)\n\n", j.TaskType, j.ID)
			if j.Section != "" {
				sections.WriteString(strings.TrimSpace(j.Section) + "\n")
			}
			for _, a := range jo.Artifacts {
				fmt.Fprintf(&sections, "\n- artifact [%s](%s) (%d bytes)\n", a.Name, a.DownloadURL, a.Size)
			}
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	out.Summary = strings.Join(parts, ", ")
	b.WriteString("\n" + out.Summary + "\n")
	b.WriteString(sections.String())
	js, _ := json.Marshal(out)
	return b.String(), js
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
