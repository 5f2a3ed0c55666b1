package api_test

import (
	"fmt"
	"net/http"
	"time"
)

// schedule is the part of a schedule's JSON the examples read.
type schedule struct {
	ID           int64      `json:"id"`
	ScheduleType string     `json:"schedule_type"`
	Enabled      bool       `json:"enabled"`
	NextRunAt    *time.Time `json:"next_run_at"`
	LastRunAt    *time.Time `json:"last_run_at"`
}

// history is GET /api/schedules/{id}/history/.
type history struct {
	Count int `json:"count"`
	Items []struct {
		RunID        int64     `json:"run_id"`
		Status       string    `json:"status"`
		ScheduledFor time.Time `json:"scheduled_for"`
	} `json:"items"`
}

// A cron schedule fires on the wall clock of its time zone; run-now fires it
// at once without touching its next slot.
func ExampleServer_cronSchedule() {
	sys := startExampleSystem()
	defer sys.Stop()

	var sch schedule
	status := sys.call(http.MethodPost, "/api/schedules/", `{"name": "weekly-triage", "task_key": "noop",
		"schedule_type": "cron", "cron_expr": "0 9 * * 1", "timezone": "Europe/Berlin"}`, &sch)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	next := sch.NextRunAt.In(berlin)
	fmt.Println("create:", status, sch.ScheduleType, "enabled:", sch.Enabled)
	fmt.Println("next run:", next.Weekday(), next.Format("15:04"), next.Location(),
		"within a week:", time.Until(next) > 0 && time.Until(next) <= 7*24*time.Hour)

	var now struct {
		RunID int64 `json:"run_id"`
	}
	status = sys.call(http.MethodPost, fmt.Sprintf("/api/schedules/%d/run-now/", sch.ID), "", &now)
	fmt.Println("run-now:", status)
	fmt.Println("run finished:", sys.waitForRun(now.RunID))

	var after schedule
	sys.call(http.MethodGet, fmt.Sprintf("/api/schedules/%d/", sch.ID), "", &after)
	fmt.Println("next run unchanged:", after.NextRunAt.Equal(*sch.NextRunAt), "last run set:", after.LastRunAt != nil)

	var h history
	sys.call(http.MethodGet, fmt.Sprintf("/api/schedules/%d/history/", sch.ID), "", &h)
	fmt.Println("history:", h.Count, h.Items[0].Status)

	// Output:
	// create: 201 cron enabled: true
	// next run: Monday 09:00 Europe/Berlin within a week: true
	// run-now: 201
	// run finished: completed
	// next run unchanged: true last run set: true
	// history: 1 finished
}

// An interval schedule whose first slot is already past fires one run for
// that slot as soon as a replica claims it, then advances on the grid of
// its slots (first slot + k × interval) to the first slot in the future:
// missed slots collapse into that one run.
func ExampleServer_intervalSchedule() {
	sys := startExampleSystem()
	defer sys.Stop()

	first := time.Now().UTC().Add(-90 * time.Minute).Truncate(time.Second)
	var sch schedule
	status := sys.call(http.MethodPost, "/api/schedules/", fmt.Sprintf(`{"name": "hourly-noop", "task_key": "noop",
		"schedule_type": "interval", "interval_minutes": 60, "next_run_at": %q}`, first.Format(time.RFC3339)), &sch)
	fmt.Println("create:", status, sch.ScheduleType, "first slot 90 minutes ago:", sch.NextRunAt.Equal(first))

	// The create woke the replica; its pass fires the overdue slot.
	sys.Sched.TestSignals.Claimed.WaitOrTimeout()
	var h history
	sys.call(http.MethodGet, fmt.Sprintf("/api/schedules/%d/history/", sch.ID), "", &h)
	fmt.Println("fired:", h.Count, "run(s), for the first slot:", h.Items[0].ScheduledFor.Equal(first))
	fmt.Println("run finished:", sys.waitForRun(h.Items[0].RunID))

	var after schedule
	sys.call(http.MethodGet, fmt.Sprintf("/api/schedules/%d/", sch.ID), "", &after)
	fmt.Println("next run:", after.NextRunAt.Sub(first), "after the first slot; last run:", after.LastRunAt.Sub(first))

	sys.call(http.MethodGet, fmt.Sprintf("/api/schedules/%d/history/", sch.ID), "", &h)
	fmt.Println("history:", h.Count, h.Items[0].Status)

	// Output:
	// create: 201 interval first slot 90 minutes ago: true
	// fired: 1 run(s), for the first slot: true
	// run finished: completed
	// next run: 2h0m0s after the first slot; last run: 0s
	// history: 1 finished
}
