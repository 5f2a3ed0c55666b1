package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// notifyChannel adds an enabled webhook channel (never called here: these
// tests read the outbox rows).
func notifyChannel(t *testing.T, st *store.Store, name string) int64 {
	t.Helper()
	c := &store.NotificationChannel{Name: name, Kind: domain.ChannelWebhook, Enabled: true, Settings: store.JSON(`{}`),
		Secrets: store.JSON(`{"url": "http://127.0.0.1:1/` + name + `"}`)}
	if err := st.SaveNotificationChannel(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func notifyRule(t *testing.T, st *store.Store, r store.NotificationRule) {
	t.Helper()
	r.Enabled = true
	if r.Name == "" {
		r.Name = fmt.Sprintf("rule-%s-%d", r.Event, r.ChannelID)
	}
	if r.MinSeverity == "" {
		r.MinSeverity = "high"
	}
	if err := st.SaveNotificationRule(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
}

// outboxRows lists the outbox rows of an event, by channel and key.
func outboxRows(t *testing.T, st *store.Store, event domain.EventKind) []store.Delivery {
	t.Helper()
	var out []store.Delivery
	if err := testenv.SQL(t, st).Where("event = ?", event).Order("channel_id, event_key").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// runningTask launches one run of task and starts its job as claimant.
func runningTask(t *testing.T, st *store.Store, claimant, task string) store.StartedJob {
	t.Helper()
	mustExec(t, st, `UPDATE task_definitions SET enabled = true WHERE key = ?`, task)
	d := launchRun(t, st, task)
	claimAndHandOff(t, st, claimant, 100)
	for _, j := range startJobs(t, st, claimant, 100) {
		if j.ID == d.Jobs[0].ID {
			return j
		}
	}
	t.Fatalf("job %d of run %d did not start", d.Jobs[0].ID, d.ID)
	return store.StartedJob{}
}

func localHostID(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var id int64
	if err := testenv.SQL(t, st).Raw(`SELECT id FROM worker_hosts WHERE name = 'local'`).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("local host: %d %v", id, err)
	}
	return id
}

// The outbox row of gpu_hotspot is written by the transaction that accepts
// the gpu_report's result: a finish rejected by fencing (wrong claimant, or
// a lease that expired) writes none, the rescue of that lease writes one
// job_attempt_lost, and only the accepted finish of the next attempt writes
// the gpu_hotspot row.
func TestOutboxRowsFollowTheFencedTransaction(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ch := notifyChannel(t, st, "all")
	notifyRule(t, st, store.NotificationRule{Event: domain.EventGPUHotspot, ChannelID: ch})
	notifyRule(t, st, store.NotificationRule{Event: domain.EventJobAttemptLost, ChannelID: ch})
	j := runningTask(t, st, "a", "gpu_report")
	hot := store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted,
		Result: store.JSON(`{"summary": "1 GPU(s), 2 hotspot(s)", "hotspots": 2}`)}

	if res := finish(t, st, "intruder", hot); len(res.Accepted) != 0 || len(res.Rejected) != 1 {
		t.Fatalf("finish by another claimant: %+v", res)
	}
	if rows := outboxRows(t, st, domain.EventGPUHotspot); len(rows) != 0 {
		t.Fatalf("a finish rejected by fencing wrote outbox rows: %+v", rows)
	}

	expireLease(t, st, j.ID)
	if res := finish(t, st, "a", hot); len(res.Accepted) != 0 {
		t.Fatalf("finish after the lease expired: %+v", res)
	}
	if rows := outboxRows(t, st, domain.EventGPUHotspot); len(rows) != 0 {
		t.Fatalf("a finish with an expired lease wrote outbox rows: %+v", rows)
	}
	if rows := outboxRows(t, st, domain.EventJobAttemptLost); len(rows) != 0 {
		t.Fatalf("job_attempt_lost before any rescue: %+v", rows)
	}

	rescued, err := st.RescueExpired(context.Background(), 10, noBackoff)
	if err != nil || len(rescued) != 1 {
		t.Fatalf("rescue: %+v %v", rescued, err)
	}
	lost := outboxRows(t, st, domain.EventJobAttemptLost)
	if len(lost) != 1 || lost[0].EventKey != fmt.Sprintf("job_attempt_lost:job:%d:attempt:1", j.ID) ||
		lost[0].Subject != "task:gpu_report" || lost[0].Status != domain.DeliveryPending {
		t.Fatalf("job_attempt_lost rows after the rescue: %+v", lost)
	}
	var env store.Envelope
	var data store.AttemptLostData
	if err := json.Unmarshal(lost[0].Payload, &env); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env.Data, &data); err != nil {
		t.Fatal(err)
	}
	host := localHostID(t, st)
	if data.JobID != j.ID || data.RunID != j.RunID || data.Attempt != 1 || data.LostBy != "a" || !data.Retried ||
		data.TaskType != "gpu_report" || data.WorkerHostID == nil || *data.WorkerHostID != host || data.MaxAttempts < 2 {
		t.Fatalf("job_attempt_lost data %s", env.Data)
	}
	// A second rescue pass finds nothing: no second row.
	if again, err := st.RescueExpired(context.Background(), 10, noBackoff); err != nil || len(again) != 0 {
		t.Fatalf("second rescue: %+v %v", again, err)
	}

	var j2 store.StartedJob
	for _, s := range startJobs(t, st, "b", 10) {
		if s.ID == j.ID {
			j2 = s
		}
	}
	if j2.Attempt != 2 {
		t.Fatalf("retry not started as attempt 2: %+v", j2)
	}
	hot.Attempt = 1 // the lost attempt's stale result, by its new claimant
	if res := finish(t, st, "b", hot); len(res.Accepted) != 0 {
		t.Fatalf("stale attempt accepted: %+v", res)
	}
	if rows := outboxRows(t, st, domain.EventGPUHotspot); len(rows) != 0 {
		t.Fatalf("a stale attempt wrote outbox rows: %+v", rows)
	}
	hot.Attempt = 2
	if res := finish(t, st, "b", hot); len(res.Accepted) != 1 {
		t.Fatalf("finish of attempt 2: %+v", res)
	}
	rows := outboxRows(t, st, domain.EventGPUHotspot)
	if len(rows) != 1 || rows[0].EventKey != fmt.Sprintf("gpu_hotspot:job:%d", j.ID) || rows[0].Subject != fmt.Sprintf("host:%d", host) {
		t.Fatalf("gpu_hotspot rows after the accepted finish: %+v", rows)
	}
	var hd store.HotspotData
	_ = json.Unmarshal(rows[0].Payload, &env)
	if err := json.Unmarshal(env.Data, &hd); err != nil || hd.Hotspots != 2 || hd.JobID != j.ID || hd.RunID != j.RunID ||
		hd.Summary != "1 GPU(s), 2 hotspot(s)" || hd.WorkerHostID == nil || *hd.WorkerHostID != host {
		t.Fatalf("gpu_hotspot data %s (%v)", env.Data, err)
	}
}

func noBackoff(int) time.Duration { return 0 }

// A gpu_report result without hotspots (zero, missing, or not a number)
// and a failed gpu_report make no gpu_hotspot event.
func TestGPUHotspotOnlyForCompletedReportsWithHotspots(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	notifyRule(t, st, store.NotificationRule{Event: domain.EventGPUHotspot, ChannelID: notifyChannel(t, st, "gpu")})
	for _, f := range []struct {
		outcome store.FinishOutcome
		result  string
	}{
		{store.FinishCompleted, `{"summary": "calm", "hotspots": 0}`},
		{store.FinishCompleted, `{"summary": "no GPU"}`},
		{store.FinishCompleted, `{"summary": "odd", "hotspots": "3"}`},
		{store.FinishFailed, `{"summary": "broke", "hotspots": 4}`},
	} {
		j := runningTask(t, st, "a", "gpu_report")
		if res := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: f.outcome, Result: store.JSON(f.result),
			Error: map[bool]string{true: "boom"}[f.outcome == store.FinishFailed]}); len(res.Accepted) != 1 {
			t.Fatalf("finish %s: %+v", f.result, res)
		}
		if rows := outboxRows(t, st, domain.EventGPUHotspot); len(rows) != 0 {
			t.Fatalf("%s %s made gpu_hotspot rows: %+v", f.outcome, f.result, rows)
		}
	}
}

// Findings saved by an accepted finish enqueue one event per finding at or
// above each rule's severity; a finish whose Save fails after saving its
// findings rolls back both the findings and their outbox rows.
func TestFindingEventsBySeverityInTheFinishTransaction(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	host := localHostID(t, st)
	crit, med, other := notifyChannel(t, st, "crit"), notifyChannel(t, st, "med"), notifyChannel(t, st, "other")
	notifyRule(t, st, store.NotificationRule{Event: domain.EventFinding, ChannelID: crit, MinSeverity: "critical",
		WorkerHostID: &host, TaskType: "log_triage"})
	notifyRule(t, st, store.NotificationRule{Event: domain.EventFinding, ChannelID: med, MinSeverity: "medium"})
	notifyRule(t, st, store.NotificationRule{Event: domain.EventFinding, ChannelID: other, MinSeverity: "low", TaskType: "gpu_report"})

	j := runningTask(t, st, "a", "log_triage")
	findings := func(job store.FinishedJob) []store.Finding {
		var fs []store.Finding
		for i, sev := range []string{"critical", "high", "medium", "low"} {
			fs = append(fs, store.Finding{RunID: job.RunID, JobID: job.ID, WorkerHostID: host, ContainerName: "web",
				Severity: sev, Kind: "kind-" + sev, Rank: i + 1, Statement: "web is " + sev, Evidence: store.JSON(`{}`)})
		}
		return fs
	}
	boom := errors.New("artifact store full")
	_, err := st.FinishJobs(context.Background(), "a", []store.Finish{{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted,
		Result: store.JSON(`{"summary": "s"}`), Save: func(ctx context.Context, tx *store.Tx, job store.FinishedJob) error {
			if err := tx.SaveFindings(ctx, findings(job)); err != nil {
				return err
			}
			return boom
		}}})
	if !errors.Is(err, boom) {
		t.Fatalf("finish with a failing save: %v", err)
	}
	if n := countRows(t, st, "findings"); n != 0 {
		t.Fatalf("%d findings left by a rolled-back finish", n)
	}
	if rows := outboxRows(t, st, domain.EventFinding); len(rows) != 0 {
		t.Fatalf("a rolled-back finish left outbox rows: %+v", rows)
	}

	res := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted, Result: store.JSON(`{"summary": "s"}`),
		Save: func(ctx context.Context, tx *store.Tx, job store.FinishedJob) error {
			return tx.SaveFindings(ctx, findings(job))
		}})
	if len(res.Accepted) != 1 {
		t.Fatalf("finish: %+v", res)
	}
	got := map[int64][]string{}
	for _, d := range outboxRows(t, st, domain.EventFinding) {
		var env store.Envelope
		var fd store.FindingData
		if err := json.Unmarshal(d.Payload, &env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(env.Data, &fd); err != nil {
			t.Fatal(err)
		}
		if d.Subject != fmt.Sprintf("host:%d/container:web/kind:%s", host, fd.Kind) || fd.JobID != j.ID || fd.RunID != j.RunID ||
			fd.Container != "web" || fd.WorkerHostID != host || fd.Statement != "web is "+fd.Severity || fd.FindingID == 0 ||
			d.EventKey != fmt.Sprintf("finding:%d", fd.FindingID) {
			t.Errorf("row %+v data %s", d, env.Data)
		}
		got[d.ChannelID] = append(got[d.ChannelID], fd.Severity)
	}
	want := map[int64][]string{crit: {"critical"}, med: {"critical", "high", "medium"}}
	for ch, sevs := range want {
		if !sameSet(got[ch], sevs) {
			t.Errorf("channel %d got severities %v, want %v", ch, got[ch], sevs)
		}
	}
	if len(got[other]) != 0 {
		t.Errorf("a rule for task gpu_report got findings %v", got[other])
	}
}

// A rule filtered on a schedule gets the findings of that schedule's
// log_triage jobs, and not those of another schedule's or of a launch.
func TestFindingRuleFilteredBySchedule(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	host := localHostID(t, st)
	mustExec(t, st, `INSERT INTO schedules (id, name, task, schedule_type, interval_minutes, next_run_at, due_at)
		VALUES (41, 'triage-41', 'log_triage', 'interval', 60, now() + interval '1 day', now() + interval '1 day'),
		       (42, 'triage-42', 'log_triage', 'interval', 60, now() + interval '1 day', now() + interval '1 day')`)
	s41, s42 := int64(41), int64(42)
	ch41, ch42 := notifyChannel(t, st, "s41"), notifyChannel(t, st, "s42")
	notifyRule(t, st, store.NotificationRule{Event: domain.EventFinding, ChannelID: ch41, ScheduleID: &s41, MinSeverity: "low"})
	notifyRule(t, st, store.NotificationRule{Event: domain.EventFinding, ChannelID: ch42, ScheduleID: &s42, MinSeverity: "low"})

	save := func(j store.StartedJob, container string) {
		t.Helper()
		res := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted, Result: store.JSON(`{}`),
			Save: func(ctx context.Context, tx *store.Tx, job store.FinishedJob) error {
				return tx.SaveFindings(ctx, []store.Finding{{RunID: job.RunID, JobID: job.ID, WorkerHostID: host, ContainerName: container,
					Severity: "critical", Kind: "exit", Rank: 1, Statement: container + " exited", Evidence: store.JSON(`{}`)}})
			}})
		if len(res.Accepted) != 1 {
			t.Fatalf("finish: %+v", res)
		}
	}
	scheduled := runningTask(t, st, "a", "log_triage")
	mustExec(t, st, `UPDATE jobs SET schedule_id = 41 WHERE id = ?`, scheduled.ID)
	save(scheduled, "from-41")
	save(runningTask(t, st, "a", "log_triage"), "launched")

	rows := outboxRows(t, st, domain.EventFinding)
	if len(rows) != 1 || rows[0].ChannelID != ch41 || rows[0].Subject != fmt.Sprintf("host:%d/container:from-41/kind:exit", host) {
		t.Fatalf("finding rows %+v, want one for schedule 41's job on its rule's channel", rows)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
