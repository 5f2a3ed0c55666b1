package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// DefaultIdleTimeout is how long a pooled connection may sit unused before
// it is closed. Short, because every replica's pool otherwise keeps its peak
// number of connections for good, and a few idle pools fill max_connections
// and lock out an administrator's psql (docs/DEPLOY.md sizes the pools).
const DefaultIdleTimeout = 30 * time.Second

// cancelKey is where a statement's deadline keeps its cancel function.
const cancelKey = "cyberbrain:deadline_cancel"

// registerDeadlines gives every statement gorm runs a deadline of d (unless
// its context already has an earlier one), so a frozen or partitioned server
// fails the statement after d instead of hanging it for as long as TCP
// takes to notice. pgx closes the connection when the deadline passes, so
// even a server that never answers releases the caller.
func registerDeadlines(db *gorm.DB, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	before := func(tx *gorm.DB) {
		ctx, cancel := context.WithTimeout(tx.Statement.Context, d)
		tx.Statement.Context = ctx
		tx.InstanceSet(cancelKey, cancel)
	}
	after := func(tx *gorm.DB) {
		if c, ok := tx.InstanceGet(cancelKey); ok {
			c.(context.CancelFunc)()
		}
	}
	cb := db.Callback()
	procs := []struct {
		name string
		reg  func(string, func(*gorm.DB)) error
		last func(string, func(*gorm.DB)) error
	}{
		{"create", cb.Create().Before("*").Register, cb.Create().After("*").Register},
		{"query", cb.Query().Before("*").Register, cb.Query().After("*").Register},
		{"update", cb.Update().Before("*").Register, cb.Update().After("*").Register},
		{"delete", cb.Delete().Before("*").Register, cb.Delete().After("*").Register},
		{"raw", cb.Raw().Before("*").Register, cb.Raw().After("*").Register},
		// Row and Rows hand back rows the caller reads after the callbacks
		// ran: their deadline is left to expire on its own.
		{"row", cb.Row().Before("*").Register, nil},
	}
	for _, p := range procs {
		if err := p.reg("cyberbrain:deadline", before); err != nil {
			return fmt.Errorf("register %s deadline: %w", p.name, err)
		}
		if p.last == nil {
			continue
		}
		if err := p.last("cyberbrain:deadline_end", after); err != nil {
			return fmt.Errorf("register %s deadline end: %w", p.name, err)
		}
	}
	return nil
}

// withDeadline bounds work done outside gorm's statement callbacks (a
// transaction's BEGIN and COMMIT, pings, dedicated connections) by the
// statement timeout.
func (s *Store) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.timeout)
}

// transaction runs fn in a transaction bounded as a whole by the statement
// timeout: pgx commits with the context the transaction began with, so
// without it a COMMIT to a frozen server would wait forever.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(fn)
}
