package scheduler_test

import (
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// A replica killed (Kill, the chaos drill's SIGKILL) while its deliveries
// are in flight writes nothing more; after its leases expire another
// replica resends every one with the same idempotency key, and the
// receiver never sees a key again once it answered 2xx for it.
func TestNotifyExactlyOnceWhenReplicaKilledMidSend(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const events = 5
	hook := newHookReceiver(t, true) // the first request of each key hangs until its sender dies
	addRule(t, st, store.NotificationRule{Event: domain.EventRunFailed,
		ChannelID: addChannel(t, st, "hook", domain.ChannelWebhook, map[string]string{"url": hook.URL})})

	// Runs fail on a replica without notifications, so that every event is
	// in the outbox before the first sender claims them all in one batch.
	worker := startReplica(t, st, "worker", tasks.Registry{"noop": failing(domain.Permanentf("boom"))}, nil)
	launchNoop(t, st, events)
	waitFor(t, 15*time.Second, "every event in the outbox", func() bool {
		return countWhere(t, st, "notification_outbox WHERE event = 'run_failed'") == events
	}, flushed(worker)...)

	doomed := startReplica(t, st, "doomed", tasks.Registry{}, notifyConfig(3*time.Second))
	waitFor(t, 10*time.Second, "every delivery in flight", func() bool {
		return len(hook.got()) == events
	}, reflectChan(hook.arrived))
	doomed.Kill()
	if n := countWhere(t, st, "notification_outbox WHERE status = 'sending' AND claimed_by = 'doomed'"); n != events {
		t.Fatalf("%d deliveries still leased to the killed replica, want %d", n, events)
	}

	heir := startReplica(t, st, "heir", tasks.Registry{}, notifyConfig(time.Second))
	waitFor(t, 20*time.Second, "every delivery sent by the heir", func() bool {
		return countWhere(t, st, "notification_outbox WHERE status = 'sent'") == events
	}, attempted(heir)...)

	calls := hook.got()
	perKey := map[string][]hookCall{}
	for _, c := range calls {
		perKey[c.Key] = append(perKey[c.Key], c)
	}
	if len(perKey) != events {
		t.Fatalf("%d distinct idempotency keys arrived, want %d", len(perKey), events)
	}
	for key, cs := range perKey {
		ok := 0
		for i, c := range cs {
			if c.Answer >= 200 && c.Answer < 300 {
				ok++
			} else if ok > 0 {
				t.Fatalf("key %s arrived again (call %d) after a 2xx", key, i)
			}
		}
		if ok != 1 || len(cs) != 2 || cs[0].Answer != 0 {
			t.Fatalf("key %s: calls %+v, want the killed send unanswered then one 2xx resend", key, cs)
		}
	}
	if n := countWhere(t, st, "notification_attempts WHERE claimant = 'doomed' AND outcome = 'lost'"); n != events {
		t.Fatalf("%d lost attempts recorded for the killed replica, want %d", n, events)
	}
	if n := countWhere(t, st, "notification_attempts WHERE claimant = 'heir' AND outcome = 'sent'"); n != events {
		t.Fatalf("%d sent attempts by the heir, want %d", n, events)
	}
}
