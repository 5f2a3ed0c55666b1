package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
)

// installation caches the installation id: it cannot change while the
// store is open, and the container runner asks for it on every attempt and
// every rescue.
type installation struct {
	mu sync.Mutex
	id string
}

// InstallationID names this cyberbrain installation in 12 hex digits: a hash
// of the PostgreSQL cluster's system identifier and the database's name.
// Deployments (and test databases) sharing one Docker engine number their
// jobs alike, so container names and the labels the rescue looks containers
// up by carry it; replicas of one deployment share the database, hence the
// id. A failed read is not cached, so the next call tries again.
func (s *Store) InstallationID(ctx context.Context) (string, error) {
	s.install.mu.Lock()
	defer s.install.mu.Unlock()
	if s.install.id != "" {
		return s.install.id, nil
	}
	var rows []struct {
		SystemIdentifier string
		Database         string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT system_identifier::text AS system_identifier,
		current_database() AS database FROM pg_control_system()`).Scan(&rows).Error
	if err != nil {
		return "", fmt.Errorf("read the installation id: %w", err)
	}
	if len(rows) != 1 {
		return "", fmt.Errorf("read the installation id: pg_control_system() returned %d rows", len(rows))
	}
	sum := sha256.Sum256([]byte(rows[0].SystemIdentifier + "/" + rows[0].Database))
	s.install.id = hex.EncodeToString(sum[:6])
	return s.install.id, nil
}
