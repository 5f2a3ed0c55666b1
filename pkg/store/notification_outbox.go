package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Delivery is one outbox row: a message for one event (or digest window)
// and one channel.
type Delivery struct {
	ID             int64                 `json:"id"`
	ChannelID      int64                 `json:"channel_id"`
	RuleID         *int64                `json:"rule_id"`
	Event          domain.EventKind      `json:"event"`
	EventKey       string                `json:"event_key"`
	Subject        string                `json:"subject"`
	IdempotencyKey string                `json:"idempotency_key"`
	Payload        JSON                  `json:"payload" gorm:"type:jsonb"`
	Status         domain.DeliveryStatus `json:"status"`
	Attempt        int                   `json:"attempts" gorm:"column:attempt"`
	MaxAttempts    int                   `json:"max_attempts"`
	AvailableAt    time.Time             `json:"available_at"`
	ClaimedBy      string                `json:"-"`
	ClaimedUntil   *time.Time            `json:"-"`
	LastError      string                `json:"last_error"`
	CreatedAt      time.Time             `json:"created_at"`
	SentAt         *time.Time            `json:"sent_at"`
	// Attempts are loaded for the API's list, oldest first.
	Attempts []DeliveryAttempt `json:"attempt_log" gorm:"-"`
}

// TableName maps Delivery to the outbox.
func (Delivery) TableName() string { return "notification_outbox" }

// DeliveryAttempt is one try at sending a delivery.
type DeliveryAttempt struct {
	ID         int64      `json:"-"`
	OutboxID   int64      `json:"-"`
	Attempt    int        `json:"attempt"`
	Claimant   string     `json:"claimant"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at"`
	Outcome    string     `json:"outcome"`
	StatusCode int        `json:"status_code"`
	Error      string     `json:"error"`
	DurationMS int64      `json:"duration_ms"`
}

// TableName maps DeliveryAttempt to its table.
func (DeliveryAttempt) TableName() string { return "notification_attempts" }

// ClaimDeliveries leases up to limit due deliveries to claimant for ttl:
// pending ones whose backoff is over, and sending ones whose lease expired
// (their replica died mid-send; that attempt is recorded lost). Each claim
// raises the attempt number, the fence of every later write.
func (s *Store) ClaimDeliveries(ctx context.Context, claimant string, limit int, ttl time.Duration) ([]Delivery, error) {
	var out []Delivery
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		out = nil
		if err := tx.Raw(sqlClaimDeliveries, limit, claimant, ttl.Seconds()).Scan(&out).Error; err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]int64, len(out))
		for i, d := range out {
			ids[i] = d.ID
		}
		return tx.Exec(`INSERT INTO notification_attempts (outbox_id, attempt, claimant)
			SELECT id, attempt, claimed_by FROM notification_outbox WHERE id = ANY(?)`, Int64s(ids)).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

const sqlClaimDeliveries = `
WITH c AS (
    SELECT id FROM notification_outbox
    WHERE (status = 'pending' AND available_at <= now()) OR (status = 'sending' AND claimed_until < now())
    ORDER BY available_at, id LIMIT ? FOR UPDATE SKIP LOCKED
), lost AS (
    UPDATE notification_attempts a SET outcome = 'lost', ended_at = clock_timestamp(),
        error = 'lease expired: the sending replica stopped before recording a result'
    FROM c WHERE a.outbox_id = c.id AND a.outcome = 'sending'
)
UPDATE notification_outbox o SET status = 'sending', attempt = o.attempt + 1,
    claimed_by = ?, claimed_until = now() + make_interval(secs => ?)
FROM c WHERE o.id = c.id
RETURNING o.*`

// SendResult is how one attempt ended.
type SendResult struct {
	OK         bool
	StatusCode int // HTTP status or SMTP reply code; 0 when none came
	Error      string
	Duration   time.Duration
	// Permanent failures (a 4xx other than 408/429, a bad address) are not
	// retried.
	Permanent bool
}

// FinishDelivery records an attempt and moves its delivery on: sent, back
// to pending after retryIn, or failed when no attempt is left. The move is
// fenced on (claimant, attempt): a replica whose lease was taken over
// changes nothing but its own attempt's record. It reports whether the
// move was accepted.
func (s *Store) FinishDelivery(ctx context.Context, claimant string, d Delivery, r SendResult, retryIn time.Duration) (bool, error) {
	var moved bool
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE notification_outbox SET
				status = CASE WHEN @ok THEN 'sent' WHEN @permanent OR attempt >= max_attempts THEN 'failed' ELSE 'pending' END,
				available_at = CASE WHEN @ok THEN available_at ELSE now() + make_interval(secs => @retry) END,
				sent_at = CASE WHEN @ok THEN now() END,
				last_error = @error, claimed_by = '', claimed_until = NULL
			WHERE id = @id AND claimed_by = @claimant AND attempt = @attempt AND status = 'sending'`,
			map[string]any{"ok": r.OK, "permanent": r.Permanent, "retry": retryIn.Seconds(), "error": r.Error,
				"id": d.ID, "claimant": claimant, "attempt": d.Attempt})
		if res.Error != nil {
			return res.Error
		}
		moved = res.RowsAffected == 1
		outcome := "failed"
		if r.OK {
			outcome = "sent"
		}
		return tx.Exec(`UPDATE notification_attempts SET outcome = CASE WHEN outcome = 'sending' OR ? = 'sent' THEN ? ELSE outcome END,
				ended_at = coalesce(ended_at, clock_timestamp()), status_code = ?, error = ?, duration_ms = ?
			WHERE outbox_id = ? AND attempt = ? AND claimant = ?`,
			outcome, outcome, r.StatusCode, r.Error, r.Duration.Milliseconds(), d.ID, d.Attempt, claimant).Error
	})
	if err != nil {
		return false, fmt.Errorf("record delivery %d attempt %d: %w", d.ID, d.Attempt, err)
	}
	return moved, nil
}

// DeliveryFilter narrows ListDeliveries; zero fields do not filter.
type DeliveryFilter struct {
	Status    domain.DeliveryStatus
	ChannelID *int64
	Event     domain.EventKind
}

// ListDeliveries returns one page of deliveries, newest first, each with
// its attempts.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter, p ListParams) ([]Delivery, int64, error) {
	q := s.db.Model(&Delivery{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.ChannelID != nil {
		q = q.Where("channel_id = ?", *f.ChannelID)
	}
	if f.Event != "" {
		q = q.Where("event = ?", f.Event)
	}
	page, err := listRows[Delivery](ctx, q, s.db.Model(&Delivery{}), p, false, "notification deliveries")
	if err != nil {
		return nil, 0, err
	}
	out, err := page.All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("notification deliveries: %w", err)
	}
	return out, page.Count, s.loadAttempts(ctx, out)
}

func (s *Store) loadAttempts(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]int64, len(ds))
	at := make(map[int64]int, len(ds))
	for i := range ds {
		ids[i], at[ds[i].ID] = ds[i].ID, i
		ds[i].Attempts = []DeliveryAttempt{}
	}
	var atts []DeliveryAttempt
	if err := s.db.WithContext(ctx).Where("outbox_id = ANY(?)", Int64s(ids)).Order("outbox_id, attempt").
		Find(&atts).Error; err != nil {
		return fmt.Errorf("load delivery attempts: %w", err)
	}
	for _, a := range atts {
		d := &ds[at[a.OutboxID]]
		d.Attempts = append(d.Attempts, a)
	}
	return nil
}

// RecordTestDelivery stores the API's test message and its one attempt, so
// the deliveries list shows it beside the real ones.
func (s *Store) RecordTestDelivery(ctx context.Context, channelID int64, key string, payload json.RawMessage, r SendResult) (*Delivery, error) {
	d := &Delivery{}
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		status := domain.DeliveryFailed
		if r.OK {
			status = domain.DeliverySent
		}
		if err := tx.Raw(`INSERT INTO notification_outbox (channel_id, event, event_key, subject, idempotency_key, payload,
				status, attempt, max_attempts, last_error, sent_at)
			VALUES (?, 'test', ?, 'test', ?, ?::jsonb, ?, 1, 1, ?, CASE WHEN ? THEN now() END) RETURNING *`,
			channelID, key, key, string(payload), status, r.Error, r.OK).Scan(d).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO notification_attempts (outbox_id, attempt, claimant, ended_at, outcome, status_code, error, duration_ms)
			VALUES (?, 1, 'api', clock_timestamp(), ?, ?, ?, ?)`, d.ID, string(status), r.StatusCode, r.Error, r.Duration.Milliseconds()).Error
	})
	if err != nil {
		return nil, fmt.Errorf("record test delivery of channel %d: %w", channelID, err)
	}
	ds := []Delivery{*d}
	if err := s.loadAttempts(ctx, ds); err != nil {
		return nil, err
	}
	return &ds[0], nil
}
