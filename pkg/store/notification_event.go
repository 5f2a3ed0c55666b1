package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// NotifyEvent is something that happened and that rules may turn into
// messages. It is enqueued inside the transaction that made it happen, so
// the outbox holds it exactly when the change it describes committed.
type NotifyEvent struct {
	Kind domain.EventKind
	// Key identifies the event: one delivery per key and channel, however
	// many rules match and however often the transaction is retried.
	Key string
	// Subject is what a cooldown counts per rule: one task, one host, one
	// container and finding kind.
	Subject string
	// Filters the rules match against; nil and empty match only the rules
	// that do not filter on them.
	HostID     *int64
	Tasks      []string
	ScheduleID *int64
	Severity   string // findings only; other events pass every severity
	// Payload is the event's JSON object ("data" of the webhook body).
	Payload any
}

// Envelope is what an outbox row's payload holds for a single event: the
// webhook body without its delivery fields.
type Envelope struct {
	Event      domain.EventKind `json:"event"`
	Key        string           `json:"key"`
	Subject    string           `json:"subject"`
	OccurredAt time.Time        `json:"occurred_at"`
	Data       json.RawMessage  `json:"data"`
}

// DefaultDeliveryAttempts bounds the tries of one delivery before it is
// failed: with the backoff of 1, 2, 4 … s capped at 5 min, the waits between
// 11 tries add up to about 13 minutes, so a receiver restarted or redeployed
// meanwhile still gets the message.
const DefaultDeliveryAttempts = 11

// Notify enqueues ev for every rule that matches it, in this transaction.
func (tx *Tx) Notify(ctx context.Context, ev NotifyEvent) error {
	return enqueueEvent(tx.db.WithContext(ctx), ev)
}

// enqueueEvent writes the outbox rows of one event: one per channel for
// rules that send at once (unless the rule's cooldown for the subject is
// running), and an append to the open window's row for digest rules.
func enqueueEvent(tx *gorm.DB, ev NotifyEvent) error {
	data, err := json.Marshal(ev.Payload)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	env, err := json.Marshal(Envelope{Event: ev.Kind, Key: ev.Key, Subject: ev.Subject,
		OccurredAt: time.Now().UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	sev := ev.Severity
	if sev == "" {
		sev = "critical" // events without a severity pass every threshold
	}
	tasks := ev.Tasks
	if tasks == nil {
		tasks = []string{}
	}
	args := map[string]any{"event": string(ev.Kind), "host": ev.HostID, "tasks": textArray(tasks),
		"schedule": ev.ScheduleID, "severity": sev, "subject": ev.Subject, "key": ev.Key,
		"payload": string(env), "max": DefaultDeliveryAttempts}
	if err := tx.Exec(sqlMatchedRules+sqlEnqueueNow, args).Error; err != nil {
		return fmt.Errorf("enqueue %s notifications: %w", ev.Kind, err)
	}
	if err := tx.Exec(sqlMatchedRules+sqlEnqueueDigest, args).Error; err != nil {
		return fmt.Errorf("enqueue %s digest: %w", ev.Kind, err)
	}
	return nil
}

// sqlMatchedRules selects the enabled rules (of enabled channels) whose
// filters the event passes.
const sqlMatchedRules = `
WITH m AS (
    SELECT r.id, r.channel_id, r.cooldown_seconds, r.digest
    FROM notification_rules r JOIN notification_channels c ON c.id = r.channel_id
    WHERE r.enabled AND c.enabled AND r.event = @event
      AND (r.worker_host_id IS NULL OR r.worker_host_id = CAST(@host AS bigint))
      AND (r.task_type = '' OR r.task_type = ANY(CAST(@tasks AS text[])))
      AND (r.schedule_id IS NULL OR r.schedule_id = CAST(@schedule AS bigint))
      AND array_position(ARRAY['critical', 'high', 'medium', 'low'], CAST(@severity AS text))
          <= array_position(ARRAY['critical', 'high', 'medium', 'low'], r.min_severity)
)`

// sqlEnqueueNow takes each cooling rule's cooldown for the subject with one
// upsert (a concurrent event of the same subject waits for this one's
// commit and then finds the cooldown running) and writes one row per
// channel.
const sqlEnqueueNow = `, cool AS (
    INSERT INTO notification_cooldowns (rule_id, subject, until)
    SELECT id, @subject, now() + make_interval(secs => cooldown_seconds) FROM m
    WHERE cooldown_seconds > 0 AND digest = ''
    ON CONFLICT (rule_id, subject) DO UPDATE SET until = excluded.until
        WHERE notification_cooldowns.until <= now()
    RETURNING rule_id
)
INSERT INTO notification_outbox (channel_id, rule_id, event, event_key, subject, idempotency_key, payload, max_attempts)
SELECT DISTINCT ON (m.channel_id) m.channel_id, m.id, @event, @key, @subject,
       'cb-' || md5(m.channel_id || '/' || @key), CAST(@payload AS jsonb), @max
FROM m WHERE m.digest = '' AND (m.cooldown_seconds = 0 OR m.id IN (SELECT rule_id FROM cool))
ORDER BY m.channel_id, m.id
ON CONFLICT DO NOTHING`

// sqlEnqueueDigest appends the event to the rule's row for the current
// window (UTC hours or days), due a minute after the window closes so that
// transactions that began inside it have committed. At most 200 events are
// kept in full; count counts them all.
const sqlEnqueueDigest = `, w AS (
    SELECT m.*, date_trunc(CASE m.digest WHEN 'hourly' THEN 'hour' ELSE 'day' END, clock_timestamp(), 'UTC') AS start,
           CASE m.digest WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END AS span
    FROM m WHERE m.digest <> ''
)
INSERT INTO notification_outbox (channel_id, rule_id, event, event_key, subject, idempotency_key, payload,
                                 available_at, max_attempts)
SELECT w.channel_id, w.id, 'digest', 'digest:' || w.id || ':' || extract(epoch FROM w.start)::bigint, w.digest,
       'cb-' || md5(w.channel_id || '/digest:' || w.id || ':' || extract(epoch FROM w.start)::bigint),
       jsonb_build_object('event', 'digest', 'rule_id', w.id, 'digest', w.digest, 'window_start', w.start,
           'window_end', w.start + w.span, 'count', 1, 'events', jsonb_build_array(CAST(@payload AS jsonb))),
       w.start + w.span + interval '1 minute', @max
FROM w
ON CONFLICT (channel_id, event_key) DO UPDATE SET payload = jsonb_set(
        jsonb_set(notification_outbox.payload, '{count}', to_jsonb((notification_outbox.payload->>'count')::int + 1)),
        '{events}', CASE WHEN jsonb_array_length(notification_outbox.payload->'events') < 200
                         THEN (notification_outbox.payload->'events') || (excluded.payload->'events')
                         ELSE notification_outbox.payload->'events' END)
    WHERE notification_outbox.status = 'pending'`
