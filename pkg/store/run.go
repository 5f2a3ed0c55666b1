package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// RunFilter narrows GET /api/runs/.
type RunFilter struct {
	Status      string
	DirectiveID *int64
}

// ListRuns returns one page of runs (without jobs) and the total count.
func (s *Store) ListRuns(ctx context.Context, f RunFilter, p ListParams) (*PageRows[Run], error) {
	q := s.db.Model(&Run{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.DirectiveID != nil {
		q = q.Where("directive_id = ?", *f.DirectiveID)
	}
	return listRows[Run](ctx, q, s.db.Model(&Run{}), p, false, "runs")
}

// GetRunDetail loads a run with its jobs in position order.
func (s *Store) GetRunDetail(ctx context.Context, id int64) (*RunDetail, error) {
	return getRunDetail(s.db.WithContext(ctx), id)
}

func getRunDetail(db *gorm.DB, id int64) (*RunDetail, error) {
	d := &RunDetail{}
	if err := db.Take(&d.Run, id).Error; err != nil {
		return nil, notFound(fmt.Errorf("load run %d: %w", id, err), "Run not found")
	}
	if err := db.Where("run_id = ?", id).Order("position, id").Find(&d.Jobs).Error; err != nil {
		return nil, fmt.Errorf("load jobs of run %d: %w", id, err)
	}
	if d.Jobs == nil {
		d.Jobs = []Job{}
	}
	return d, nil
}

// sqlCancelRun does everything a cancel changes besides the run row, in one
// statement inside the cancel transaction:
//   - pending jobs end cancelled;
//   - running jobs get cancel_requested: the scheduler executing them stops
//     them within one heartbeat and records them cancelled (it owns their
//     lease, so the API must not write their status);
//   - pending ScheduledRuns end cancelled;
//   - the schedules that held them are re-evaluated: a one-shot whose only
//     slot was the cancelled one (a launch schedule) ends disabled with no
//     next_run_at; due_at is recomputed for every one of them;
//   - the schedulers are woken.
const sqlCancelRun = `
WITH pj AS (
    UPDATE jobs SET status = 'cancelled', completed_at = now(), error_message = 'cancelled by request'
    WHERE run_id = @run AND status = 'pending'
    RETURNING id
), rj AS (
    UPDATE jobs SET cancel_requested = true
    WHERE run_id = @run AND status = 'running'
    RETURNING id
), sr AS (
    UPDATE scheduled_runs SET status = 'cancelled', finished_at = now(), error_summary = 'cancelled by request'
    WHERE run_id = @run AND status = 'pending'
    RETURNING schedule_id, scheduled_for
), touched AS (
    SELECT schedule_id, max(scheduled_for) AS last_for FROM sr GROUP BY schedule_id
), sch AS (
    UPDATE schedules s SET
        enabled     = CASE WHEN x.one_shot_done THEN false ELSE s.enabled END,
        next_run_at = CASE WHEN x.one_shot_done THEN NULL ELSE s.next_run_at END,
        due_at      = least(
            CASE WHEN s.enabled AND NOT x.one_shot_done THEN s.next_run_at END,
            (SELECT min(p.scheduled_for) FROM scheduled_runs p
             WHERE p.schedule_id = s.id AND p.status = 'pending' AND p.run_id <> @run)),
        updated_at  = now()
    FROM (SELECT t.schedule_id,
                 (s2.schedule_type = 'one_shot' AND (s2.next_run_at IS NULL OR s2.next_run_at <= t.last_for)) AS one_shot_done
          FROM touched t JOIN schedules s2 ON s2.id = t.schedule_id) x
    WHERE s.id = x.schedule_id
    RETURNING s.id
)
SELECT (SELECT count(*) FROM pj) AS pending_jobs, (SELECT count(*) FROM rj) AS running_jobs,
       (SELECT count(*) FROM sr) AS scheduled_runs, (SELECT count(*) FROM sch) AS schedules`

// CancelRun cancels a run that is not finished yet, in one transaction (see
// sqlCancelRun). A run already completed, failed or cancelled is left as it
// is and answers a conflict: cancelling history would rewrite it.
func (s *Store) CancelRun(ctx context.Context, id int64) (*RunDetail, error) {
	var out *RunDetail
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		// Lock the run's jobs, then the run — the order every scheduler
		// transaction takes them in, so a cancel never deadlocks with a
		// job start or finish. The run lock orders this cancel with the
		// scheduler's run status derivation.
		var jobIDs []int64
		if err := tx.Raw(`SELECT id FROM jobs WHERE run_id = ? ORDER BY id FOR UPDATE`, id).Scan(&jobIDs).Error; err != nil {
			return fmt.Errorf("lock jobs of run %d: %w", id, err)
		}
		var run Run
		if err := tx.Raw(`SELECT * FROM runs WHERE id = ? FOR UPDATE`, id).Scan(&run).Error; err != nil {
			return fmt.Errorf("lock run %d: %w", id, err)
		}
		if run.ID == 0 {
			return domain.NotFound("Run not found")
		}
		if run.Status.Terminal() {
			return domain.Conflict("run %d is already %s; nothing to cancel", id, run.Status)
		}
		var counts struct{ PendingJobs, RunningJobs, ScheduledRuns, Schedules int64 }
		if err := tx.Raw(sqlCancelRun, map[string]any{"run": id}).Scan(&counts).Error; err != nil {
			return fmt.Errorf("cancel jobs of run %d: %w", id, err)
		}
		if err := tx.Exec(`UPDATE runs SET status = 'cancelled', completed_at = now(),
			error_message = CASE WHEN error_message = '' THEN 'cancelled by request' ELSE error_message END
			WHERE id = ?`, id).Error; err != nil {
			return fmt.Errorf("cancel run %d: %w", id, err)
		}
		d, err := getRunDetail(tx, id)
		out = d
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Wake() // freed capacity: deferred jobs may start
	s.RunsChanged(id)
	return out, nil
}

// RunReport is GET /api/runs/{id}/report/.
type RunReport struct {
	RunID          int64            `json:"run_id"`
	Status         domain.RunStatus `json:"status"`
	ReportMarkdown string           `json:"report_markdown"`
	ReportJSON     JSON             `json:"report_json"`
	Artifacts      []Artifact       `json:"artifacts"`
}

// GetRunReport loads a run's report and its artifacts' metadata.
func (s *Store) GetRunReport(ctx context.Context, id int64) (*RunReport, error) {
	var run Run
	db := s.db.WithContext(ctx)
	if err := db.Select("id, status, report_markdown, report_json").Take(&run, id).Error; err != nil {
		return nil, notFound(fmt.Errorf("load run %d: %w", id, err), "Run not found")
	}
	arts, err := s.ListRunArtifacts(ctx, id, 0, 0)
	if err != nil {
		return nil, err
	}
	return &RunReport{RunID: run.ID, Status: run.Status, ReportMarkdown: run.ReportMarkdown,
		ReportJSON: run.ReportJSON, Artifacts: arts}, nil
}

// runExists answers a 404 for an unknown run (for sub-collections, so that
// an unknown run is not mistaken for a run without jobs).
func (s *Store) runExists(ctx context.Context, id int64) error {
	var n int64
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM runs WHERE id = ?`, id).Scan(&n).Error; err != nil {
		return fmt.Errorf("look up run %d: %w", id, err)
	}
	if n == 0 {
		return domain.NotFound("Run not found")
	}
	return nil
}

// errNoRows reports whether err is gorm's not-found.

// RunDirectiveSnapshot returns the directive snapshot a run was launched with.
func (s *Store) RunDirectiveSnapshot(ctx context.Context, runID int64) (json.RawMessage, error) {
	var snap []byte
	if err := s.db.WithContext(ctx).Raw(`SELECT directive_snapshot FROM runs WHERE id = ?`, runID).Row().Scan(&snap); err != nil {
		return nil, fmt.Errorf("load directive snapshot of run %d: %w", runID, err)
	}
	return snap, nil
}

// RunDetail is a run with its jobs.
type RunDetail struct {
	Run
	Jobs []Job `json:"jobs"`
}
