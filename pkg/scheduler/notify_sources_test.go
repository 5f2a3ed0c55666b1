package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// sourceRig is a database with the local host, a second host, a schedule
// whose run is due now (the events' source) and another schedule, and
// three receivers: "match" for the rule whose filters (host, task,
// schedule) all match, "open" for a rule without filters, and "other" for
// the rules that filter on another host, another task or another schedule.
type sourceRig struct {
	st                  *store.Store
	local, elsewhere    int64
	schedule, otherSch  int64
	match, open, other  *hookReceiver
	matchCh, openCh, ch int64
}

func newSourceRig(t *testing.T, event domain.EventKind, task string, schedule int64, minSeverity string) *sourceRig {
	t.Helper()
	st := newStore(t)
	r := &sourceRig{st: st, schedule: schedule, otherSch: schedule + 1,
		match: newHookReceiver(t, false), open: newHookReceiver(t, false), other: newHookReceiver(t, false)}
	sql := testenv.SQL(t, st)
	sql.Raw(`SELECT id FROM worker_hosts WHERE name = 'local'`).Scan(&r.local)
	sql.Raw(`INSERT INTO worker_hosts (name, type, base_url) VALUES ('elsewhere', 'docker_tcp', 'tcp://127.0.0.1:1') RETURNING id`).Scan(&r.elsewhere)
	if r.local == 0 || r.elsewhere == 0 {
		t.Fatalf("hosts: local %d elsewhere %d", r.local, r.elsewhere)
	}
	if err := sql.Exec(`INSERT INTO schedules (id, name, task, schedule_type, interval_minutes, next_run_at, due_at) VALUES
		(?, 'source', ?, 'interval', 60, date_trunc('second', now()) - interval '1 minute', now() - interval '1 minute'),
		(?, 'not-due', ?, 'interval', 60, now() + interval '1 day', now() + interval '1 day')`,
		r.schedule, task, r.otherSch, task).Error; err != nil {
		t.Fatal(err)
	}
	r.matchCh = addChannel(t, st, "match", domain.ChannelWebhook, map[string]string{"url": r.match.URL})
	r.openCh = addChannel(t, st, "open", domain.ChannelWebhook, map[string]string{"url": r.open.URL})
	r.ch = addChannel(t, st, "other", domain.ChannelWebhook, map[string]string{"url": r.other.URL})
	addRule(t, st, store.NotificationRule{Name: "match", Event: event, ChannelID: r.matchCh, MinSeverity: minSeverity,
		WorkerHostID: &r.local, TaskType: task, ScheduleID: &r.schedule})
	addRule(t, st, store.NotificationRule{Name: "open", Event: event, ChannelID: r.openCh, MinSeverity: "low"})
	addRule(t, st, store.NotificationRule{Name: "other-host", Event: event, ChannelID: r.ch, MinSeverity: "low", WorkerHostID: &r.elsewhere})
	addRule(t, st, store.NotificationRule{Name: "other-task", Event: event, ChannelID: r.ch, MinSeverity: "low", TaskType: "service_map"})
	addRule(t, st, store.NotificationRule{Name: "other-schedule", Event: event, ChannelID: r.ch, MinSeverity: "low", ScheduleID: &r.otherSch})
	otherEvent := domain.EventHostRecovered
	if event == otherEvent {
		otherEvent = domain.EventHostUnhealthy
	}
	addRule(t, st, store.NotificationRule{Name: "other-event", Event: otherEvent, ChannelID: r.ch, MinSeverity: "low"})
	return r
}

// checkOthers proves the filtered-out rules wrote nothing: rules are
// matched in the event's transaction, so their rows would exist by now.
func (r *sourceRig) checkOthers(t *testing.T) {
	t.Helper()
	if n := countWhere(t, r.st, "notification_outbox WHERE channel_id = ?", r.ch); n != 0 {
		var keys []string
		testenv.SQL(t, r.st).Raw(`SELECT event_key FROM notification_outbox WHERE channel_id = ?`, r.ch).Scan(&keys)
		t.Fatalf("rules filtering on another host, task, schedule or event matched: %v", keys)
	}
	if got := r.other.got(); len(got) != 0 {
		t.Fatalf("the other channel received %d messages", len(got))
	}
}

// bodies decodes what a receiver got, by event key.
func bodies(t *testing.T, h *hookReceiver) map[string]notify.WebhookBody {
	t.Helper()
	out := map[string]notify.WebhookBody{}
	for _, c := range h.got() {
		var b notify.WebhookBody
		if err := json.Unmarshal(c.Body, &b); err != nil {
			t.Fatalf("body %s: %v", c.Body, err)
		}
		if _, dup := out[b.Key]; dup {
			t.Fatalf("event %s delivered twice", b.Key)
		}
		if c.Key != b.ID || c.Answer != 200 {
			t.Fatalf("call %+v: header key vs body id %q", c, b.ID)
		}
		out[b.Key] = b
	}
	return out
}

// A replica killed while its job runs leaves an expired lease (expired
// here with SQL rather than waited for); another replica's rescue pass
// records the attempt lost and, in that transaction, the job_attempt_lost
// event, which it then delivers: to the rule whose host, task and schedule
// match and to the unfiltered one, with the job's fields; the rules for
// another host, task, schedule or event get nothing.
func TestNotifyJobAttemptLostFromARescue(t *testing.T) {
	t.Parallel()
	// gpu_report, a task routed to a host (noop jobs have none), played by
	// a task that runs until it is stopped.
	r := newSourceRig(t, domain.EventJobAttemptLost, "gpu_report", 71, "")
	started, stopped := make(chan int64, 1), make(chan error, 1)
	victim := startReplica(t, r.st, "victim", tasks.Registry{"gpu_report": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ClaimTTL = time.Minute // the lease would not expire during the test by itself
	})
	jobID := <-started
	victim.Kill()
	if n := countWhere(t, r.st, "notification_outbox"); n != 0 {
		t.Fatalf("%d outbox rows before any lease expired", n)
	}
	var runID int64
	testenv.SQL(t, r.st).Raw(`SELECT run_id FROM jobs WHERE id = ? AND schedule_id = ? AND claimed_by = 'victim'`, jobID, r.schedule).Scan(&runID)
	if runID == 0 {
		t.Fatalf("job %d is not the running job of schedule %d", jobID, r.schedule)
	}
	if err := testenv.SQL(t, r.st).Exec(`UPDATE jobs SET claimed_until = now() - interval '1 second' WHERE id = ?`, jobID).Error; err != nil {
		t.Fatal(err)
	}

	heir := startReplica(t, r.st, "heir", tasks.Registry{"gpu_report": quick("again")}, notifyConfig(time.Minute))
	if id := heir.TestSignals.Rescued.WaitOrTimeout(); id != jobID {
		t.Fatalf("heir rescued job %d, want %d", id, jobID)
	}
	waitFor(t, 15*time.Second, "job_attempt_lost sent to both matching channels", func() bool {
		return countWhere(t, r.st, "notification_outbox WHERE event = 'job_attempt_lost' AND status = 'sent'") == 2
	}, attempted(heir)...)
	r.checkOthers(t)

	key := fmt.Sprintf("job_attempt_lost:job:%d:attempt:1", jobID)
	for name, h := range map[string]*hookReceiver{"match": r.match, "open": r.open} {
		got := bodies(t, h)
		b, ok := got[key]
		if len(got) != 1 || !ok {
			t.Fatalf("%s channel got %v, want only %s", name, got, key)
		}
		var d store.AttemptLostData
		if err := json.Unmarshal(b.Data, &d); err != nil {
			t.Fatal(err)
		}
		if b.Event != domain.EventJobAttemptLost || b.Subject != "task:gpu_report" || b.OccurredAt == nil ||
			d.JobID != jobID || d.RunID != runID || d.TaskType != "gpu_report" || d.Attempt != 1 || d.MaxAttempts < 2 ||
			d.LostBy != "victim" || !d.Retried || d.WorkerHostID == nil || *d.WorkerHostID != r.local ||
			b.Title != fmt.Sprintf("Job %d (gpu_report) attempt 1 lost", jobID) || !strings.Contains(b.Text, "victim") ||
			b.URL != "https://cb.example.com/runs/"+itoa(runID) {
			t.Fatalf("%s channel body %+v data %s", name, b, b.Data)
		}
	}
	// The rescue's event and the attempt it records are one transaction.
	if n := countWhere(t, r.st, "job_attempts WHERE job_id = ? AND attempt = 1 AND outcome = 'lost' AND claimant = 'victim'", jobID); n != 1 {
		t.Fatal("lost attempt not recorded")
	}
}

// installFakeNvidiaSMI puts an nvidia-smi first on PATH that prints the
// files of dir for gpu_report's three queries (rewrite them to change what
// it reports). Not parallel: PATH is process-wide.
func installFakeNvidiaSMI(t *testing.T, gpus, apps, list string) string {
	t.Helper()
	dir := t.TempDir()
	for name, file := range map[string]string{"gpus.csv": gpus, "apps.csv": apps, "list.txt": list} {
		b, err := os.ReadFile(filepath.Join("..", "gpuinfo", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\nd='" + dir + "'\ncase \"$1\" in\n" +
		"--query-gpu=*) cat \"$d/gpus.csv\";;\n--query-compute-apps=*) cat \"$d/apps.csv\";;\n-L) cat \"$d/list.txt\";;\n" +
		"*) echo \"fake nvidia-smi: unexpected arguments: $*\" >&2; exit 2;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// A scheduled gpu_report, run by a replica on the local host with a busy
// H100 (nvidia-smi faked on PATH), completes with a hotspot; its accepted
// finish enqueues gpu_hotspot, delivered with the job's fields to the
// matching rules only. A second run, of an idle GPU, sends nothing.
func TestNotifyGPUHotspotFromGPUReport(t *testing.T) {
	dir := installFakeNvidiaSMI(t, "h100-query-gpu-busy.csv", "h100-compute-apps-busy.csv", "h100-list.txt")
	r := newSourceRig(t, domain.EventGPUHotspot, "gpu_report", 81, "")
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	rep := startReplica(t, r.st, "r", tasks.Registry{"gpu_report": tasks.GPUReport(pool)}, notifyConfig(time.Minute))
	waitFor(t, 30*time.Second, "the scheduled gpu_report completed", func() bool {
		return countWhere(t, r.st, "jobs WHERE schedule_id = ? AND status IN ('completed', 'failed')", r.schedule) == 1
	}, flushed(rep)...)
	var job store.Job
	testenv.SQL(t, r.st).Raw(`SELECT * FROM jobs WHERE schedule_id = ?`, r.schedule).Scan(&job)
	if job.Status != domain.StatusCompleted || !strings.Contains(string(job.Result), `"hotspots": 1`) && !strings.Contains(string(job.Result), `"hotspots":1`) {
		t.Fatalf("gpu_report job %s: %s %s", job.Status, job.ErrorMessage, job.Result)
	}
	waitFor(t, 15*time.Second, "gpu_hotspot sent to both matching channels", func() bool {
		return countWhere(t, r.st, "notification_outbox WHERE event = 'gpu_hotspot' AND status = 'sent'") == 2
	}, attempted(rep)...)
	r.checkOthers(t)

	key := fmt.Sprintf("gpu_hotspot:job:%d", job.ID)
	for name, h := range map[string]*hookReceiver{"match": r.match, "open": r.open} {
		got := bodies(t, h)
		b, ok := got[key]
		if len(got) != 1 || !ok {
			t.Fatalf("%s channel got %v, want only %s", name, got, key)
		}
		var d store.HotspotData
		if err := json.Unmarshal(b.Data, &d); err != nil {
			t.Fatal(err)
		}
		if b.Event != domain.EventGPUHotspot || b.Subject != fmt.Sprintf("host:%d", r.local) || d.JobID != job.ID ||
			d.RunID != job.RunID || d.WorkerHostID == nil || *d.WorkerHostID != r.local || d.Hotspots != 1 ||
			!strings.Contains(d.Summary, "1 hotspot(s)") || b.Title != "1 GPU hotspot(s)" || b.Text != d.Summary ||
			b.URL != "https://cb.example.com/runs/"+itoa(job.RunID) {
			t.Fatalf("%s channel body %+v data %s", name, b, b.Data)
		}
	}

	// The GPU is idle now: a launched gpu_report completes without a hotspot.
	b, err := os.ReadFile(filepath.Join("..", "gpuinfo", "testdata", "h100-query-gpu-idle.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gpus.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := r.st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"gpu_report"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the idle gpu_report completed", func() bool {
		return countWhere(t, r.st, "runs WHERE id = ? AND status = 'completed'", d.ID) == 1
	}, flushed(rep)...)
	if n := countWhere(t, r.st, "jobs WHERE run_id = ? AND (result->>'hotspots')::int = 0", d.ID); n != 1 {
		t.Fatal("the idle report counts hotspots")
	}
	if n := countWhere(t, r.st, "notification_outbox WHERE event = 'gpu_hotspot'"); n != 2 {
		t.Fatalf("%d gpu_hotspot rows after an idle report, want the first event's 2", n)
	}
}

// A scheduled log_triage, run by a replica against the real engine, finds
// an allow-listed container that logged an error and exited 3; its
// accepted finish saves the findings and enqueues one finding event per
// finding at or above each rule's severity: the critical rule filtered on
// host, task and schedule gets the critical exit only, the unfiltered
// "low" rule every finding, each with the finding's fields.
func TestNotifyFindingsFromLogTriage(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	img := testenv.CTask(t, cli)
	r := newSourceRig(t, domain.EventFinding, "log_triage", 91, "critical")
	name := fmt.Sprintf("cb-notify-crash-%d", time.Now().UnixNano())
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: img,
		Cmd: []string{"say:level=error msg=\"database connection refused\"", "exit:3"}}, &container.HostConfig{}, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	okc, errc := cli.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-okc:
		if res.StatusCode != 3 {
			t.Fatalf("container exited %d, want 3", res.StatusCode)
		}
	case err := <-errc:
		t.Fatal(err)
	}
	if err := testenv.SQL(t, r.st).Create(&store.ContainerAllowlistEntry{WorkerHostID: &r.local, ContainerName: name,
		Enabled: true, Tags: store.JSON(`[]`)}).Error; err != nil {
		t.Fatal(err)
	}

	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	rep := startReplica(t, r.st, "r", tasks.Registry{"log_triage": tasks.LogTriage(pool, tasks.LLMConfig{})}, notifyConfig(time.Minute))
	waitFor(t, 60*time.Second, "the scheduled log_triage completed", func() bool {
		return countWhere(t, r.st, "jobs WHERE schedule_id = ? AND status IN ('completed', 'failed')", r.schedule) == 1
	}, flushed(rep)...)
	var job store.Job
	testenv.SQL(t, r.st).Raw(`SELECT * FROM jobs WHERE schedule_id = ?`, r.schedule).Scan(&job)
	if job.Status != domain.StatusCompleted {
		t.Fatalf("log_triage job %s: %s", job.Status, job.ErrorMessage)
	}
	var findings []store.Finding
	testenv.SQL(t, r.st).Where("job_id = ?", job.ID).Order("id").Find(&findings)
	var critical []store.Finding
	for _, f := range findings {
		if f.Severity == "critical" {
			critical = append(critical, f)
		}
	}
	if len(critical) != 1 || critical[0].Kind != "exit" || critical[0].ContainerName != name {
		t.Fatalf("findings %+v, want one critical exit of %s", findings, name)
	}
	want := len(findings) + len(critical)
	waitFor(t, 20*time.Second, "every finding event sent", func() bool {
		return countWhere(t, r.st, "notification_outbox WHERE event = 'finding' AND status = 'sent'") == want
	}, attempted(rep)...)
	r.checkOthers(t)

	check := func(channel string, h *hookReceiver, fs []store.Finding) {
		t.Helper()
		got := bodies(t, h)
		if len(got) != len(fs) {
			t.Fatalf("%s channel got %d findings, want %d", channel, len(got), len(fs))
		}
		for _, f := range fs {
			b, ok := got[fmt.Sprintf("finding:%d", f.ID)]
			if !ok {
				t.Fatalf("%s channel lacks finding %d (%s %s)", channel, f.ID, f.Severity, f.Kind)
			}
			var d store.FindingData
			if err := json.Unmarshal(b.Data, &d); err != nil {
				t.Fatal(err)
			}
			if b.Event != domain.EventFinding || b.Subject != fmt.Sprintf("host:%d/container:%s/kind:%s", r.local, name, f.Kind) ||
				b.Severity != f.Severity || d.FindingID != f.ID || d.RunID != job.RunID || d.JobID != job.ID ||
				d.WorkerHostID != r.local || d.Container != name || d.Severity != f.Severity || d.Kind != f.Kind ||
				d.Statement != f.Statement || b.Title != fmt.Sprintf("[%s] %s: %s", f.Severity, name, f.Kind) ||
				b.URL != "https://cb.example.com/runs/"+itoa(job.RunID) {
				t.Fatalf("%s channel body %+v data %s", channel, b, b.Data)
			}
		}
	}
	check("match", r.match, critical)
	check("open", r.open, findings)
	if !strings.Contains(critical[0].Statement, "exited with code 3") {
		t.Fatalf("exit finding %q", critical[0].Statement)
	}
}
