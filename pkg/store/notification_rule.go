package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// NotificationRule sends one kind of event to one channel, optionally
// narrowed to a host, a task, a schedule or (findings) a severity, with a
// cooldown per subject or as a digest.
type NotificationRule struct {
	ID              int64             `json:"id"`
	Name            string            `json:"name"`
	Enabled         bool              `json:"enabled"`
	Event           domain.EventKind  `json:"event"`
	ChannelID       int64             `json:"channel_id"`
	WorkerHostID    *int64            `json:"worker_host_id"`
	TaskType        string            `json:"task_type"`
	ScheduleID      *int64            `json:"schedule_id"`
	MinSeverity     string            `json:"min_severity"`
	CooldownSeconds int               `json:"cooldown_seconds"`
	Digest          domain.DigestMode `json:"digest"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// TableName maps NotificationRule to its table.
func (NotificationRule) TableName() string { return "notification_rules" }

// ListNotificationRules returns one page of rules.
func (s *Store) ListNotificationRules(ctx context.Context, p ListParams) (*PageRows[NotificationRule], error) {
	return listRows[NotificationRule](ctx, s.db.Model(&NotificationRule{}), s.db.Model(&NotificationRule{}), p, true, "notification rules")
}

// GetNotificationRule loads one rule.
func (s *Store) GetNotificationRule(ctx context.Context, id int64) (*NotificationRule, error) {
	return getRow[NotificationRule](ctx, s.db, id, "notification rule", "Notification rule not found")
}

// SaveNotificationRule inserts (ID 0) or updates a rule. A missing
// channel, host or schedule is a 400 on its field.
func (s *Store) SaveNotificationRule(ctx context.Context, r *NotificationRule) error {
	db := s.db.WithContext(ctx)
	var missing []string
	err := db.Raw(`SELECT f FROM (VALUES
			('channel_id', NOT EXISTS (SELECT 1 FROM notification_channels WHERE id = ?)),
			('worker_host_id', ?::bigint IS NOT NULL AND NOT EXISTS (SELECT 1 FROM worker_hosts WHERE id = ?)),
			('schedule_id', ?::bigint IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedules WHERE id = ?))) AS x(f, bad)
		WHERE bad`, r.ChannelID, r.WorkerHostID, r.WorkerHostID, r.ScheduleID, r.ScheduleID).Scan(&missing).Error
	if err != nil {
		return fmt.Errorf("check notification rule references: %w", err)
	}
	if len(missing) > 0 {
		fields := map[string][]string{}
		for _, f := range missing {
			fields[f] = []string{"not found"}
		}
		return domain.Invalid(fields, "notification rule refers to rows that do not exist")
	}
	args := []any{r.Name, r.Enabled, r.Event, r.ChannelID, r.WorkerHostID, r.TaskType, r.ScheduleID,
		r.MinSeverity, r.CooldownSeconds, r.Digest}
	res := db
	if r.ID == 0 {
		res = db.Raw(`INSERT INTO notification_rules (name, enabled, event, channel_id, worker_host_id, task_type,
			schedule_id, min_severity, cooldown_seconds, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`, args...).Scan(r)
	} else {
		res = db.Raw(`UPDATE notification_rules SET name = ?, enabled = ?, event = ?, channel_id = ?, worker_host_id = ?,
			task_type = ?, schedule_id = ?, min_severity = ?, cooldown_seconds = ?, digest = ?, updated_at = now()
			WHERE id = ? RETURNING *`, append(args, r.ID)...).Scan(r)
		if res.Error == nil && res.RowsAffected == 0 {
			return domain.NotFound("Notification rule not found")
		}
	}
	return clientDBError(res.Error, "write notification rule", "a notification rule with this name exists",
		"the rule's channel, host or schedule does not exist")
}

// DeleteNotificationRule deletes a rule; its past deliveries stay.
func (s *Store) DeleteNotificationRule(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "notification_rules", id, "Notification rule not found", func(err error) error {
		return fmt.Errorf("delete notification rule %d: %w", id, err)
	})
}
