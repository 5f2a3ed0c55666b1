package store

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// IdempotencyTTL is how long a key answers its run: a client retries within
// minutes; a day covers a retry after an outage and bounds the table.
const IdempotencyTTL = "24 hours"

// Scopes of an idempotency key: the same key may name a launch and a
// run-now without clashing.
const (
	ScopeLaunch = "launch"
	ScopeRunNow = "run-now"
)

// IdempotencyKey is a client's Idempotency-Key header with what it guards.
type IdempotencyKey struct {
	Scope string
	Key   string
	// Fingerprint identifies the request (a hash of its normalised body and
	// target): the same key with another request is ErrKeyReused.
	Fingerprint string
}

// ErrKeyReused is a key used again, within its 24 hours, for a different
// request (the API answers 422).
var ErrKeyReused = errors.New("idempotency key already used for a different request")

// withKey runs create in tx under the key k: when k already names a run of
// the same request it returns that run's id and replayed, creating
// nothing; otherwise create's run is recorded under k in the same
// transaction. An advisory lock on the key serialises concurrent requests
// with one key, so two retries racing each other create one run. A nil k
// just runs create.
func withKey(tx *gorm.DB, k *IdempotencyKey, create func() (int64, error)) (runID int64, replayed bool, err error) {
	if k == nil {
		runID, err = create()
		return runID, false, err
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(? || ':' || ?, 0))`, k.Scope, k.Key).Error; err != nil {
		return 0, false, fmt.Errorf("lock idempotency key: %w", err)
	}
	// Expired keys go a few at a time with every keyed request, which keeps
	// the table at about a day of keys without a job of its own.
	if err := tx.Exec(`DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys
		WHERE created_at < now() - CAST(? AS interval) ORDER BY created_at LIMIT 100)`, IdempotencyTTL).Error; err != nil {
		return 0, false, fmt.Errorf("expire idempotency keys: %w", err)
	}
	var prev struct {
		Fingerprint string
		RunID       int64
	}
	if err := tx.Raw(`SELECT fingerprint, run_id FROM idempotency_keys WHERE scope = ? AND key = ?
		AND created_at >= now() - CAST(? AS interval)`, k.Scope, k.Key, IdempotencyTTL).Scan(&prev).Error; err != nil {
		return 0, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	switch {
	case prev.RunID != 0 && prev.Fingerprint != k.Fingerprint:
		return 0, false, ErrKeyReused
	case prev.RunID != 0:
		return prev.RunID, true, nil
	}
	if runID, err = create(); err != nil {
		return 0, false, err
	}
	// An expired row of this key that the batch above left is replaced.
	err = tx.Exec(`INSERT INTO idempotency_keys (scope, key, fingerprint, run_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, run_id = EXCLUDED.run_id,
		created_at = now()`, k.Scope, k.Key, k.Fingerprint, runID).Error
	if err != nil {
		return 0, false, fmt.Errorf("record idempotency key: %w", err)
	}
	return runID, false, nil
}
