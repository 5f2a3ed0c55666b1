package api_test

import (
	"fmt"
	"net/http"
)

// Launch a run over the REST API and wait for a scheduler replica to execute
// it: the verification guide's steps, with the noop task.
func ExampleServer_launch() {
	sys := startExampleSystem()
	defer sys.Stop()

	var directive struct {
		ID int64 `json:"id"`
	}
	status := sys.call(http.MethodPost, "/api/directives/",
		`{"name": "test-launch", "description": "Test execution pipeline"}`, &directive)
	fmt.Println("create directive:", status)

	// The API writes the run, one job per task and their one-shot launch
	// schedules in one transaction, then wakes the replicas (NOTIFY).
	var run struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Jobs   []struct {
			TaskType string `json:"task_type"`
			Status   string `json:"status"`
		} `json:"jobs"`
	}
	status = sys.call(http.MethodPost, "/api/runs/launch/",
		fmt.Sprintf(`{"directive_id": %d, "tasks": ["noop"]}`, directive.ID), &run)
	fmt.Println("launch:", status, run.Status, len(run.Jobs), "job(s):", run.Jobs[0].TaskType, run.Jobs[0].Status)

	fmt.Println("run finished:", sys.waitForRun(run.ID))

	var jobs []struct {
		TaskType string         `json:"task_type"`
		Status   string         `json:"status"`
		Attempt  int            `json:"attempt"`
		Result   map[string]any `json:"result"`
	}
	sys.call(http.MethodGet, fmt.Sprintf("/api/jobs/?run=%d", run.ID), "", &jobs)
	for _, j := range jobs {
		fmt.Printf("job %s: %s after %d attempt(s): %v\n", j.TaskType, j.Status, j.Attempt, j.Result["summary"])
	}

	var slots []struct {
		Status string `json:"status"`
	}
	sys.call(http.MethodGet, fmt.Sprintf("/api/scheduled-runs/?run=%d", run.ID), "", &slots)
	for _, s := range slots {
		fmt.Println("scheduled run:", s.Status)
	}

	var report struct {
		Status         string `json:"status"`
		ReportMarkdown string `json:"report_markdown"`
	}
	sys.call(http.MethodGet, fmt.Sprintf("/api/runs/%d/report/", run.ID), "", &report)
	fmt.Println("report:", report.Status, report.ReportMarkdown != "")

	// Output:
	// create directive: 201
	// launch: 201 pending 1 job(s): noop pending
	// run finished: completed
	// job noop: completed after 1 attempt(s): noop completed
	// scheduled run: finished
	// report: completed true
}
