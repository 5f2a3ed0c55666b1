package api_test

import (
	"fmt"
	"net/http"
)

// Cancel a run while its job is running: the run is cancelled at once; the
// replica executing the job sees the request at its next heartbeat, stops
// the task and records the job cancelled. A finished run cannot be
// cancelled again (409).
func ExampleServer_cancel() {
	sys := startExampleSystem()
	defer sys.Stop()

	// A directive whose noop sleeps for a minute, so the job is still running
	// when the cancel arrives.
	var directive struct {
		ID int64 `json:"id"`
	}
	sys.call(http.MethodPost, "/api/directives/",
		`{"name": "slow", "task_config": {"noop": {"sleep_ms": 60000}}}`, &directive)
	var run struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	sys.call(http.MethodPost, "/api/runs/launch/", fmt.Sprintf(`{"directive_id": %d, "tasks": ["noop"]}`, directive.ID), &run)

	jobID := sys.Sched.TestSignals.Started.WaitOrTimeout() // the replica started the job
	fmt.Println("run before cancel:", sys.runStatus(run.ID))

	status := sys.call(http.MethodPost, fmt.Sprintf("/api/runs/%d/cancel/", run.ID), "", &run)
	fmt.Println("cancel:", status, run.Status)

	// The replica's end of the job, written within a heartbeat (ttl/3).
	end := sys.Sched.TestSignals.Finished.WaitOrTimeout()
	fmt.Println("job end written:", end.JobID == jobID, end.Status)

	var job struct {
		Status       string `json:"status"`
		ErrorMessage string `json:"error_message"`
		Attempts     []struct {
			Outcome string `json:"outcome"`
		} `json:"attempts"`
	}
	sys.call(http.MethodGet, fmt.Sprintf("/api/jobs/%d/", jobID), "", &job)
	fmt.Printf("job: %s (%s), %d attempt: %s\n", job.Status, job.ErrorMessage, len(job.Attempts), job.Attempts[0].Outcome)

	var slots []struct {
		Status string `json:"status"`
	}
	sys.call(http.MethodGet, fmt.Sprintf("/api/scheduled-runs/?run=%d", run.ID), "", &slots)
	fmt.Println("scheduled run:", slots[0].Status)
	fmt.Println("run after the job ended:", sys.runStatus(run.ID))

	var apiErr struct {
		Error string `json:"error"`
	}
	status = sys.call(http.MethodPost, fmt.Sprintf("/api/runs/%d/cancel/", run.ID), "", &apiErr)
	fmt.Println("cancel again:", status, apiErr.Error != "")

	// Output:
	// run before cancel: running
	// cancel: 200 cancelled
	// job end written: true cancelled
	// job: cancelled (cancelled by user), 1 attempt: cancelled
	// scheduled run: cancelled
	// run after the job ended: cancelled
	// cancel again: 409 true
}
