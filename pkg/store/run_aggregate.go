package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// aggregateRuns re-derives the status of the given runs from their jobs
// (SPEC §6) under the runs' row locks, and writes the report of every run
// that reached a terminal state.
func aggregateRuns(tx *gorm.DB, runIDs []int64) ([]RunTransition, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	if err := lockRuns(tx, runIDs); err != nil {
		return nil, err
	}
	var rows []struct {
		ID        int64
		ChangedTo string
		Done      bool
	}
	if err := tx.Raw(sqlAggregateRuns, Int64s(runIDs)).Scan(&rows).Error; err != nil {
		return nil, err
	}
	var changed []RunTransition
	var done []int64
	for _, r := range rows {
		if r.ChangedTo != "" {
			changed = append(changed, RunTransition{ID: r.ID, Status: r.ChangedTo})
		}
		if r.Done {
			done = append(done, r.ID)
		}
	}
	if err := writeReports(tx, done); err != nil {
		return nil, err
	}
	return changed, nil
}

// sqlAggregateRuns: any running → running; else any pending → running once a
// job started, else pending; else failed; else cancelled; else completed. A
// run cancelled by a user stays cancelled. It reads jobs only through their
// run_id, so the plan cannot depend on (possibly stale) status statistics.
const sqlAggregateRuns = `
WITH agg AS (
    SELECT run_id,
        CASE
            WHEN bool_or(status = 'running') THEN 'running'
            WHEN bool_or(status = 'pending') AND bool_or(started_at IS NOT NULL) THEN 'running'
            WHEN bool_or(status = 'pending') THEN 'pending'
            WHEN bool_or(status = 'failed') THEN 'failed'
            WHEN bool_or(status = 'cancelled') THEN 'cancelled'
            ELSE 'completed'
        END AS status,
        bool_and(status IN ('completed', 'failed', 'cancelled')) AS done,
        string_agg(CASE WHEN status = 'failed' THEN task_type || ': ' || error_message END, '; ' ORDER BY position) AS errors
    FROM jobs WHERE run_id = ANY(?) GROUP BY run_id
), upd AS (
UPDATE runs r SET status = agg.status,
    started_at = CASE WHEN agg.status = 'running' THEN coalesce(r.started_at, now()) ELSE r.started_at END,
    completed_at = CASE WHEN agg.status IN ('completed', 'failed', 'cancelled') THEN coalesce(r.completed_at, now()) END,
    error_message = CASE WHEN agg.status = 'failed' THEN left(coalesce(agg.errors, ''), 2000) ELSE r.error_message END
FROM agg
WHERE r.id = agg.run_id AND r.status <> 'cancelled' AND r.status <> agg.status
RETURNING r.id, r.status
)
SELECT agg.run_id AS id, coalesce(upd.status, '') AS changed_to, agg.done
FROM agg LEFT JOIN upd ON upd.id = agg.run_id`

type reportJob struct {
	RunID        int64
	ID           int64
	TaskType     string
	Status       string
	Attempt      int
	StartedAt    *time.Time
	CompletedAt  *time.Time
	ErrorMessage string
	Summary      string
	Section      string
}

type reportArtifact struct {
	RunID int64
	ID    int64
	JobID *int64
	Name  string
	Size  int64
}

// writeReports writes report_markdown and report_json for the given runs
// (all of whose jobs are terminal) that have no report yet.
func writeReports(tx *gorm.DB, runIDs []int64) error {
	if len(runIDs) == 0 {
		return nil
	}
	var runs []Run
	if err := tx.Raw(`SELECT r.* FROM runs r WHERE r.id = ANY(?) AND r.report_json IS NULL`,
		Int64s(runIDs)).Scan(&runs).Error; err != nil {
		return err
	}
	if len(runs) == 0 {
		return nil
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	var jobs []reportJob
	if err := tx.Raw(`SELECT run_id, id, task_type, status, attempt, started_at, completed_at, error_message,
			coalesce(result->>'summary', '') AS summary,
			coalesce((SELECT convert_from(a.content, 'UTF8') FROM artifacts a
			          WHERE a.run_id = jobs.run_id AND a.job_id = jobs.id AND a.name = 'report.md' ORDER BY a.id LIMIT 1), '') AS section
		FROM jobs WHERE run_id = ANY(?) ORDER BY run_id, position, id`, Int64s(ids)).Scan(&jobs).Error; err != nil {
		return err
	}
	var arts []reportArtifact
	if err := tx.Raw(`SELECT run_id, id, job_id, name, size FROM artifacts WHERE run_id = ANY(?) ORDER BY id`,
		Int64s(ids)).Scan(&arts).Error; err != nil {
		return err
	}
	type upd struct {
		ID       int64           `json:"id"`
		Markdown string          `json:"md"`
		JSON     json.RawMessage `json:"js"`
	}
	updates := make([]upd, 0, len(runs))
	for _, r := range runs {
		md, js := buildReport(r, jobs, arts)
		updates = append(updates, upd{r.ID, md, js})
	}
	payload, _ := json.Marshal(updates)
	return tx.Exec(`UPDATE runs r SET report_markdown = x.md, report_json = x.js
		FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, md text, js jsonb) WHERE r.id = x.id`, string(payload)).Error
}

// buildReport renders a run's report from its jobs and artifacts.
func buildReport(r Run, jobs []reportJob, arts []reportArtifact) (string, json.RawMessage) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Run %d — %s\n\n", r.ID, r.Status)
	var snap struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(r.DirectiveSnapshot, &snap)
	if snap.Name != "" {
		fmt.Fprintf(&b, "Directive: **%s**\n\n", snap.Name)
	}
	type artOut struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Size        int64  `json:"size"`
		DownloadURL string `json:"download_url"`
	}
	type jobOut struct {
		ID        int64      `json:"id"`
		Task      string     `json:"task_type"`
		Status    string     `json:"status"`
		Attempts  int        `json:"attempts"`
		Summary   string     `json:"summary"`
		Error     string     `json:"error,omitempty"`
		Started   *time.Time `json:"started_at"`
		Completed *time.Time `json:"completed_at"`
		Artifacts []artOut   `json:"artifacts"`
	}
	out := struct {
		RunID   int64    `json:"run_id"`
		Status  string   `json:"status"`
		Summary string   `json:"summary"`
		Jobs    []jobOut `json:"jobs"`
	}{RunID: r.ID, Status: r.Status}
	counts := map[string]int{}
	b.WriteString("| job | task | status | attempts | summary |\n|---|---|---|---|---|\n")
	var sections strings.Builder
	for _, j := range jobs {
		if j.RunID != r.ID {
			continue
		}
		counts[j.Status]++
		jo := jobOut{ID: j.ID, Task: j.TaskType, Status: j.Status, Attempts: j.Attempt, Summary: j.Summary,
			Error: j.ErrorMessage, Started: utc(j.StartedAt), Completed: utc(j.CompletedAt), Artifacts: []artOut{}}
		for _, a := range arts {
			if a.RunID == r.ID && a.JobID != nil && *a.JobID == j.ID {
				jo.Artifacts = append(jo.Artifacts, artOut{a.ID, a.Name, a.Size, fmt.Sprintf("/api/artifacts/%d/download/", a.ID)})
			}
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
