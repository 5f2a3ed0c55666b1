package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// NotificationChannel is where messages go. Secrets (URLs that embed
// tokens, HMAC keys, passwords) are write-only: they never leave the
// store through JSON, only the names of the ones set do.
type NotificationChannel struct {
	ID         int64              `json:"id"`
	Name       string             `json:"name"`
	Kind       domain.ChannelKind `json:"kind"`
	Enabled    bool               `json:"enabled"`
	Settings   JSON               `json:"settings" gorm:"type:jsonb"`
	Secrets    JSON               `json:"-" gorm:"type:jsonb"`
	SecretsSet []string           `json:"secrets_set" gorm:"-"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
}

// TableName maps NotificationChannel to its table.
func (NotificationChannel) TableName() string { return "notification_channels" }

// ListNotificationChannels returns one page of channels.
func (s *Store) ListNotificationChannels(ctx context.Context, p ListParams) (*PageRows[NotificationChannel], error) {
	return listRows[NotificationChannel](ctx, s.db.Model(&NotificationChannel{}), s.db.Model(&NotificationChannel{}), p, true, "notification channels")
}

// AfterFind lists the names of the set secrets on every loaded channel, so
// no list path can forget it.
func (c *NotificationChannel) AfterFind(*gorm.DB) error {
	c.fillSecretsSet()
	return nil
}

// GetNotificationChannel loads one channel, secrets included (for
// sending; the API shows only their names).
func (s *Store) GetNotificationChannel(ctx context.Context, id int64) (*NotificationChannel, error) {
	c, err := getRow[NotificationChannel](ctx, s.db, id, "notification channel", "Notification channel not found")
	if err != nil {
		return nil, err
	}
	c.fillSecretsSet()
	return c, nil
}

// SaveNotificationChannel inserts (ID 0) or updates a channel.
func (s *Store) SaveNotificationChannel(ctx context.Context, c *NotificationChannel) error {
	db := s.db.WithContext(ctx)
	args := []any{c.Name, c.Kind, c.Enabled, string(orEmptyObject(c.Settings)), string(orEmptyObject(c.Secrets))}
	res := db
	if c.ID == 0 {
		res = db.Raw(`INSERT INTO notification_channels (name, kind, enabled, settings, secrets)
			VALUES (?, ?, ?, ?::jsonb, ?::jsonb) RETURNING *`, args...).Scan(c)
	} else {
		res = db.Raw(`UPDATE notification_channels SET name = ?, kind = ?, enabled = ?, settings = ?::jsonb,
			secrets = ?::jsonb, updated_at = now() WHERE id = ? RETURNING *`, append(args, c.ID)...).Scan(c)
		if res.Error == nil && res.RowsAffected == 0 {
			return domain.NotFound("Notification channel not found")
		}
	}
	c.fillSecretsSet()
	return clientDBError(res.Error, "write notification channel", "a notification channel with this name exists", "")
}

// DeleteNotificationChannel deletes a channel with its rules and deliveries.
func (s *Store) DeleteNotificationChannel(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "notification_channels", id, "Notification channel not found", func(err error) error {
		return fmt.Errorf("delete notification channel %d: %w", id, err)
	})
}

// fillSecretsSet lists the names of the secrets that are set, sorted.
func (c *NotificationChannel) fillSecretsSet() {
	c.SecretsSet = sortedKeys(c.Secrets)
}

func orEmptyObject(j JSON) JSON {
	if len(j) == 0 || string(j) == "null" {
		return JSON(`{}`)
	}
	return j
}

// sortedKeys returns the keys of a JSON object whose values are non-empty.
func sortedKeys(j JSON) []string {
	var m map[string]any
	_ = json.Unmarshal(j, &m)
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
