package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// runArtifactsShown bounds the artifacts one run page lists.
const runArtifactsShown = 200

// runPage is /runs/{id}: the run, its jobs with their attempts, the report
// and the artifacts.
type runPage struct {
	Run       store.Run
	Directive string
	Host      *store.WorkerHost
	Jobs      []runJob
	Artifacts []store.Artifact
}

// runJob is a job with its attempts, oldest first.
type runJob struct {
	store.Job
	Attempts []store.JobAttempt
}

// Lost counts the attempts whose replica lost the job's lease.
func (j runJob) Lost() int {
	n := 0
	for _, a := range j.Attempts {
		if a.Outcome == domain.OutcomeLost {
			n++
		}
	}
	return n
}

// Cancellable says whether the run can still be cancelled.
func (p runPage) Cancellable() bool { return !p.Run.Status.Terminal() }

// runDetail is /runs/{id}.
func (u *UI) runDetail(c echo.Context) error {
	id, err := pathID(c, "id", "Run")
	if err != nil {
		return err
	}
	p, err := u.loadRunPage(c.Request().Context(), id)
	if err != nil {
		return storeErr(err)
	}
	return u.render(c, "run", "Run #"+strconv.FormatInt(id, 10), p)
}

func (u *UI) loadRunPage(ctx context.Context, id int64) (*runPage, error) {
	d, err := u.st.GetRunDetail(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &runPage{Run: d.Run, Directive: jsonField(d.DirectiveSnapshot, "name")}
	attempts, err := u.st.RunAttempts(ctx, id)
	if err != nil {
		return nil, err
	}
	byJob := map[int64][]store.JobAttempt{}
	for _, a := range attempts {
		byJob[a.JobID] = append(byJob[a.JobID], a)
	}
	for _, j := range d.Jobs {
		p.Jobs = append(p.Jobs, runJob{Job: j, Attempts: byJob[j.ID]})
	}
	if d.WorkerHostID != nil {
		h, err := u.st.GetWorkerHost(ctx, *d.WorkerHostID)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		p.Host = h
	}
	if p.Artifacts, err = u.st.ListRunArtifacts(ctx, id, runArtifactsShown, 0); err != nil {
		return nil, err
	}
	return p, nil
}

// runCancel is POST /runs/{id}/cancel: cancels the run and shows it again.
// A run that already ended answers a 409 page saying so.
func (u *UI) runCancel(c echo.Context) error {
	id, err := pathID(c, "id", "Run")
	if err != nil {
		return err
	}
	if _, err := u.st.CancelRun(c.Request().Context(), id); err != nil {
		var de *domain.Error
		if errors.As(err, &de) && errors.Is(de.Kind, domain.ErrConflict) {
			return &pageError{http.StatusConflict, "Run #" + strconv.FormatInt(id, 10) +
				" has already finished, so there is nothing to cancel."}
		}
		return storeErr(err)
	}
	return c.Redirect(http.StatusSeeOther, "/runs/"+strconv.FormatInt(id, 10))
}
