package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func newChannel(t *testing.T, st *store.Store, name string, enabled bool) int64 {
	t.Helper()
	c := &store.NotificationChannel{Name: name, Kind: domain.ChannelWebhook, Enabled: enabled,
		Settings: store.JSON(`{}`), Secrets: store.JSON(`{"url":"http://127.0.0.1:1/x"}`)}
	if err := st.SaveNotificationChannel(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func newRule(t *testing.T, st *store.Store, r store.NotificationRule) int64 {
	t.Helper()
	r.Name = fmt.Sprintf("rule-%d-%d", r.ChannelID, time.Now().UnixNano())
	if r.MinSeverity == "" {
		r.MinSeverity = "high"
	}
	if err := st.SaveNotificationRule(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func emit(t *testing.T, st *store.Store, evs ...store.NotifyEvent) {
	t.Helper()
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		for _, ev := range evs {
			if err := tx.Notify(context.Background(), ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func outboxCount(t *testing.T, st *store.Store, where string, args ...any) int {
	t.Helper()
	var n int
	if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM notification_outbox WHERE "+where, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Rules match on event, host, task, schedule and severity; disabled rules
// and channels match nothing; two rules to one channel make one delivery.
func TestRuleMatching(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	var hostID int64
	testenv.SQL(t, st).Raw(`SELECT id FROM worker_hosts ORDER BY id LIMIT 1`).Scan(&hostID)
	other := hostID + 1000
	ch := newChannel(t, st, "a", true)
	off := newChannel(t, st, "off", false)
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventFinding, ChannelID: ch, MinSeverity: "high"})
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventFinding, ChannelID: ch, MinSeverity: "low", WorkerHostID: &hostID})
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventRunFailed, ChannelID: ch, TaskType: "gpu_report"})
	newRule(t, st, store.NotificationRule{Enabled: false, Event: domain.EventHostUnhealthy, ChannelID: ch})
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventHostUnhealthy, ChannelID: off})
	cases := []struct {
		ev   store.NotifyEvent
		want int
	}{
		{store.NotifyEvent{Kind: domain.EventFinding, Key: "f1", Severity: "critical", HostID: &other}, 1},
		{store.NotifyEvent{Kind: domain.EventFinding, Key: "f2", Severity: "high", HostID: &other}, 1},
		{store.NotifyEvent{Kind: domain.EventFinding, Key: "f3", Severity: "medium", HostID: &other}, 0},
		{store.NotifyEvent{Kind: domain.EventFinding, Key: "f4", Severity: "low", HostID: &hostID}, 1},
		{store.NotifyEvent{Kind: domain.EventFinding, Key: "f5", Severity: "critical", HostID: &hostID}, 1}, // two rules, one channel
		{store.NotifyEvent{Kind: domain.EventRunFailed, Key: "r1", Tasks: []string{"noop"}}, 0},
		{store.NotifyEvent{Kind: domain.EventRunFailed, Key: "r2", Tasks: []string{"noop", "gpu_report"}}, 1},
		{store.NotifyEvent{Kind: domain.EventHostUnhealthy, Key: "h1", HostID: &hostID}, 0},
		{store.NotifyEvent{Kind: domain.EventJobAttemptLost, Key: "j1"}, 0},
	}
	for _, tc := range cases {
		emit(t, st, tc.ev)
		if n := outboxCount(t, st, "event_key = ?", tc.ev.Key); n != tc.want {
			t.Errorf("%s %s: %d deliveries, want %d", tc.ev.Kind, tc.ev.Key, n, tc.want)
		}
	}
	// The same event again (a retried transaction, a second emitter) adds nothing.
	emit(t, st, cases[0].ev)
	if n := outboxCount(t, st, "event_key = 'f1'"); n != 1 {
		t.Fatalf("re-emitted event: %d deliveries", n)
	}
}

// A cooldown counts per subject: another subject still gets its message,
// and after the cooldown ends the subject gets one again.
func TestCooldownPerSubject(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	rule := newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventJobAttemptLost,
		ChannelID: newChannel(t, st, "c", true), CooldownSeconds: 600})
	for i := range 5 {
		emit(t, st, store.NotifyEvent{Kind: domain.EventJobAttemptLost, Key: fmt.Sprintf("a%d", i), Subject: "task:noop"})
	}
	emit(t, st, store.NotifyEvent{Kind: domain.EventJobAttemptLost, Key: "b", Subject: "task:gpu_report"})
	if n := outboxCount(t, st, "true"); n != 2 {
		t.Fatalf("%d deliveries, want one per subject", n)
	}
	testenv.SQL(t, st).Exec(`UPDATE notification_cooldowns SET until = now() - interval '1 second' WHERE rule_id = ?`, rule)
	emit(t, st, store.NotifyEvent{Kind: domain.EventJobAttemptLost, Key: "a-later", Subject: "task:noop"})
	if n := outboxCount(t, st, "event_key = 'a-later'"); n != 1 {
		t.Fatal("no message after the cooldown ended")
	}
}

// Claims are fenced: after a lease expires and another claimant takes the
// row, the first claimant's result changes nothing but its own attempt's
// record, and the dead attempt is recorded lost.
func TestDeliveryClaimFencing(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventRunFailed, ChannelID: newChannel(t, st, "c", true)})
	emit(t, st, store.NotifyEvent{Kind: domain.EventRunFailed, Key: "run_failed:run:1"})
	a, err := st.ClaimDeliveries(ctx, "a", 10, time.Minute)
	if err != nil || len(a) != 1 || a[0].Attempt != 1 {
		t.Fatalf("claim a: %+v %v", a, err)
	}
	if again, _ := st.ClaimDeliveries(ctx, "b", 10, time.Minute); len(again) != 0 {
		t.Fatal("a leased delivery was claimed twice")
	}
	testenv.SQL(t, st).Exec(`UPDATE notification_outbox SET claimed_until = now() - interval '1 second'`)
	b, err := st.ClaimDeliveries(ctx, "b", 10, time.Minute)
	if err != nil || len(b) != 1 || b[0].Attempt != 2 || b[0].IdempotencyKey != a[0].IdempotencyKey {
		t.Fatalf("claim b: %+v %v", b, err)
	}
	if moved, err := st.FinishDelivery(ctx, "a", a[0], store.SendResult{OK: true, StatusCode: 200}, 0); err != nil || moved {
		t.Fatalf("stale claimant moved the delivery: %v %v", moved, err)
	}
	if moved, err := st.FinishDelivery(ctx, "b", b[0], store.SendResult{Error: "HTTP 503", StatusCode: 503}, time.Hour); err != nil || !moved {
		t.Fatalf("owner's retry not recorded: %v %v", moved, err)
	}
	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{}, store.ListParams{Limit: 10})
	if err != nil || len(ds) != 1 {
		t.Fatal(err)
	}
	d := ds[0]
	if d.Status != domain.DeliveryPending || d.LastError != "HTTP 503" || !d.AvailableAt.After(time.Now().Add(50*time.Minute)) {
		t.Fatalf("delivery %+v", d)
	}
	if len(d.Attempts) != 2 || d.Attempts[0].Claimant != "a" || d.Attempts[0].Outcome != "sent" ||
		d.Attempts[1].Outcome != "failed" || d.Attempts[1].StatusCode != 503 {
		t.Fatalf("attempts %+v", d.Attempts)
	}
	// A permanent failure fails the delivery at once.
	testenv.SQL(t, st).Exec(`UPDATE notification_outbox SET available_at = now()`)
	c, _ := st.ClaimDeliveries(ctx, "c", 10, time.Minute)
	if len(c) != 1 {
		t.Fatal("retry not claimable once due")
	}
	if _, err := st.FinishDelivery(ctx, "c", c[0], store.SendResult{Error: "HTTP 404", StatusCode: 404, Permanent: true}, 0); err != nil {
		t.Fatal(err)
	}
	if n := outboxCount(t, st, "status = 'failed'"); n != 1 {
		t.Fatal("permanent failure not failed")
	}
}

// A host's health transitions enqueue host_unhealthy and host_recovered
// once each; unchanged verdicts enqueue nothing.
func TestHostTransitionsNotify(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	ch := newChannel(t, st, "c", true)
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventHostUnhealthy, ChannelID: ch})
	newRule(t, st, store.NotificationRule{Enabled: true, Event: domain.EventHostRecovered, ChannelID: ch})
	var hostID int64
	testenv.SQL(t, st).Raw(`INSERT INTO worker_hosts (name, type, base_url) VALUES ('attic', 'docker_tcp', 'tcp://127.0.0.1:1') RETURNING id`).Scan(&hostID)
	for _, healthy := range []bool{true, false, false, true, true} {
		if err := st.RecordHostHealth(ctx, hostID, store.HostHealth{Healthy: healthy, Error: map[bool]string{false: "engine down"}[healthy]}); err != nil {
			t.Fatal(err)
		}
	}
	if n := outboxCount(t, st, "event = 'host_unhealthy' AND payload->'data'->>'error' = 'engine down'"); n != 1 {
		t.Fatalf("%d host_unhealthy deliveries, want 1", n)
	}
	if n := outboxCount(t, st, "event = 'host_recovered'"); n != 1 {
		t.Fatalf("%d host_recovered deliveries, want 1", n)
	}
}
