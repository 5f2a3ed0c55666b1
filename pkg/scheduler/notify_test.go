package scheduler_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A failed run sends one JSON message with its id, status, failed jobs and
// errors; a receiver answering 500 twice then 200 gets it on the third try,
// the deliveries list shows the three attempts, and no log line holds the
// channel's secrets.
func TestNotifyRunFailedWebhookRetries(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	hook := newHookReceiver(t, false, 500, 500)
	const token, hmacKey = "/T0TOKEN/B0TOKEN/s3cretpath", "hmac-secret-value"
	ch := addChannel(t, st, "hook", domain.ChannelWebhook, map[string]string{"url": hook.URL + token, "secret": hmacKey})
	addRule(t, st, store.NotificationRule{Event: domain.EventRunFailed, ChannelID: ch})
	var logs logBuffer
	r := startReplica(t, st, "r", tasks.Registry{"noop": failing(domain.Permanentf("disk full on /var"))}, func(c *scheduler.Config) {
		notifyConfig(time.Minute)(c)
		c.Logger = logs.logger(t, "r")
	})
	runID := launchNoop(t, st, 1)[0]
	waitFor(t, 15*time.Second, "delivery sent", func() bool {
		return countWhere(t, st, "notification_outbox WHERE status = 'sent'") == 1
	}, attempted(r)...)

	calls := hook.got()
	if len(calls) != 3 || calls[0].Answer != 500 || calls[1].Answer != 500 || calls[2].Answer != 200 {
		t.Fatalf("calls %+v", calls)
	}
	if calls[0].Key == "" || calls[1].Key != calls[0].Key || calls[2].Key != calls[0].Key {
		t.Fatalf("retries carry different idempotency keys: %q %q %q", calls[0].Key, calls[1].Key, calls[2].Key)
	}
	var body notify.WebhookBody
	if err := json.Unmarshal(calls[2].Body, &body); err != nil {
		t.Fatal(err)
	}
	var data store.RunFailedData
	if err := json.Unmarshal(body.Data, &data); err != nil {
		t.Fatal(err)
	}
	if body.Event != domain.EventRunFailed || body.Attempt != 3 || data.RunID != runID || data.Status != "failed" ||
		len(data.FailedJobs) != 1 || data.FailedJobs[0].TaskType != "noop" || !strings.Contains(data.FailedJobs[0].Error, "disk full") ||
		body.URL != "https://cb.example.com/runs/"+itoa(runID) {
		t.Fatalf("body %s", calls[2].Body)
	}

	ds, n, err := st.ListDeliveries(t.Context(), store.DeliveryFilter{Event: domain.EventRunFailed}, store.ListParams{Limit: 10})
	if err != nil || n != 1 {
		t.Fatalf("deliveries %d %v", n, err)
	}
	d := ds[0]
	if d.Status != domain.DeliverySent || d.Attempt != 3 || len(d.Attempts) != 3 {
		t.Fatalf("delivery %+v", d)
	}
	for i, want := range []struct {
		outcome string
		code    int
	}{{"failed", 500}, {"failed", 500}, {"sent", 200}} {
		a := d.Attempts[i]
		if a.Outcome != want.outcome || a.StatusCode != want.code || a.EndedAt == nil || a.Claimant != "r" {
			t.Fatalf("attempt %d: %+v", i+1, a)
		}
	}
	for _, secret := range []string{"T0TOKEN", "s3cretpath", hmacKey} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a log line holds the secret %q", secret)
		}
	}
}

// Ten failures of one task within a rule's cooldown make one message; a
// digest rule on another channel makes one summary of all ten.
func TestNotifyCooldownAndDigest(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now, digest := newHookReceiver(t, false), newHookReceiver(t, false)
	addRule(t, st, store.NotificationRule{Name: "cool", Event: domain.EventRunFailed, CooldownSeconds: 3600, TaskType: "noop",
		ChannelID: addChannel(t, st, "now", domain.ChannelWebhook, map[string]string{"url": now.URL})})
	addRule(t, st, store.NotificationRule{Name: "digest", Event: domain.EventRunFailed, Digest: domain.DigestHourly,
		ChannelID: addChannel(t, st, "digest", domain.ChannelWebhook, map[string]string{"url": digest.URL})})
	addRule(t, st, store.NotificationRule{Name: "other-task", Event: domain.EventRunFailed, TaskType: "gpu_report",
		ChannelID: addChannel(t, st, "never", domain.ChannelWebhook, map[string]string{"url": now.URL + "/never"})})
	r := startReplica(t, st, "r", tasks.Registry{"noop": failing(domain.Permanentf("boom"))}, notifyConfig(time.Minute))
	launchNoop(t, st, 10)
	waitFor(t, 15*time.Second, "ten runs failed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'failed'") == 10
	}, flushed(r)...)
	waitFor(t, 10*time.Second, "the one message sent", func() bool {
		return countWhere(t, st, "notification_outbox WHERE event = 'run_failed' AND status = 'sent'") == 1
	}, attempted(r)...)
	if n := countWhere(t, st, "notification_outbox WHERE event = 'run_failed'"); n != 1 {
		t.Fatalf("%d run_failed deliveries within the cooldown, want 1", n)
	}
	// The digest's window is still open: close it now rather than wait.
	if n := countWhere(t, st, "notification_outbox WHERE event = 'digest' AND status = 'pending' AND available_at > now()"); n != 1 {
		t.Fatalf("%d open digests, want 1", n)
	}
	testenv.SQL(t, st).Exec(`UPDATE notification_outbox SET available_at = now() WHERE event = 'digest'`)
	r.Nudge()
	waitFor(t, 10*time.Second, "the digest sent", func() bool {
		return countWhere(t, st, "notification_outbox WHERE event = 'digest' AND status = 'sent'") == 1
	}, attempted(r)...)
	if got := now.got(); len(got) != 1 {
		t.Fatalf("immediate channel got %d messages, want 1", len(got))
	}
	calls := digest.got()
	if len(calls) != 1 {
		t.Fatalf("digest channel got %d messages, want 1", len(calls))
	}
	var body notify.WebhookBody
	_ = json.Unmarshal(calls[0].Body, &body)
	var d notify.DigestData
	if err := json.Unmarshal(body.Data, &d); err != nil || d.Count != 10 || len(d.Events) != 10 || body.Event != domain.EventDigest {
		t.Fatalf("digest %s (%v)", calls[0].Body, err)
	}
}

// A finish that raises an event has it sent at once, not at the deliverer's
// next poll (an hour here): the replica nudges its deliverer after writing a
// batch that may have enqueued notifications.
func TestNotifyRunFailedSentWithoutWaitingForThePoll(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	hook := newHookReceiver(t, false)
	ch := addChannel(t, st, "hook", domain.ChannelWebhook, map[string]string{"url": hook.URL})
	addRule(t, st, store.NotificationRule{Event: domain.EventRunFailed, ChannelID: ch})
	r := startReplica(t, st, "r", tasks.Registry{"noop": failing(domain.Permanentf("disk full"))}, func(c *scheduler.Config) {
		notifyConfig(time.Minute)(c)
		c.Notify.Interval = time.Hour
	})
	launchNoop(t, st, 1)
	waitFor(t, 15*time.Second, "the run_failed delivery", func() bool {
		return countWhere(t, st, "notification_outbox WHERE status = 'sent'") == 1
	}, attempted(r)...)
}
