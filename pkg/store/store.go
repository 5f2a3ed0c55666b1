// Package store owns every SQL statement cyberbrain runs against PostgreSQL:
// gorm for plain CRUD, hand-written SQL through gorm's raw API where gorm
// cannot express it (SKIP LOCKED claims, batched transitions).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store is the handle every other package uses to reach the database.
type Store struct {
	db  *gorm.DB
	sql *sql.DB
	url string
	// timeout bounds every statement and transaction (0: none).
	timeout time.Duration

	notifier *notifier
	install  installation
	// launchInputs are the run inputs the last launch batch read, reused
	// by the next under their fingerprint (run_launch.go).
	launchInputs     atomic.Pointer[runInputs]
	reuseInputsAfter atomic.Int64 // unix ns: no reuse before (reused inputs failed a batch)

	// pin is the connection of a store made by Pinned (nil: the pool).
	pin      *pinnedConn
	pins     *atomic.Int32 // connections pinned from the pool (nil on a pinned store)
	maxConns int           // the pool's size (Options.MaxConns)

	closeOnce sync.Once
}

// Options tune the connection pool.
type Options struct {
	MaxConns int
	// StatementTimeout is the deadline of every statement and of every
	// transaction as a whole (--db-timeout); 0 leaves them to the caller's
	// context.
	StatementTimeout time.Duration
	// IdleTimeout closes pooled connections unused for this long; 0 means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
}

// Open connects to the database at url.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := connConfig(url)
	if err != nil {
		return nil, err
	}
	sqlDB := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		registerUTC(c)
		return nil
	}))
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
	}
	sqlDB.SetMaxOpenConns(opts.MaxConns)
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	sqlDB.SetMaxIdleConns(opts.MaxConns)
	sqlDB.SetConnMaxIdleTime(opts.IdleTimeout)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         true,
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open gorm: %w", redactError(err, url))
	}
	if err := registerDeadlines(db, opts.StatementTimeout); err != nil {
		sqlDB.Close()
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("ping database: %w", redactError(err, url))
	}
	return &Store{db: db, sql: sqlDB, url: url, timeout: opts.StatementTimeout, notifier: startNotifier(sqlDB),
		pins: new(atomic.Int32), maxConns: opts.MaxConns}, nil
}

// URL returns the connection string the store was opened with.
func (s *Store) URL() string { return s.url }

// Close stops the notifier and closes the pool; later calls do nothing. On
// a pinned store it only releases the connection (Release).
func (s *Store) Close() error {
	if s.pin != nil {
		s.Release()
		return nil
	}
	var err error
	s.closeOnce.Do(func() {
		s.notifier.stop()
		err = s.sql.Close()
	})
	return err
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	return s.sql.PingContext(ctx)
}

// Now returns the database clock, the only clock used for leases and due times.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	var now time.Time
	if err := s.db.WithContext(ctx).Raw("SELECT now()").Scan(&now).Error; err != nil {
		return time.Time{}, fmt.Errorf("database now: %w", err)
	}
	return now, nil
}

// Tx is a store bound to one transaction.
type Tx struct {
	db *gorm.DB
}

// InTx runs fn in a transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.transaction(ctx, func(db *gorm.DB) error { return fn(&Tx{db: db}) })
}

// connConfig parses url with the session settings every connection gets:
// time zone UTC, so every API timestamp renders as RFC 3339 UTC. pgxpool's
// parser strips pool_* parameters a plain connection would send to the
// server as unknown settings.
func connConfig(url string) (*pgx.ConnConfig, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx quotes the URL in its message and redacts only some password forms.
		return nil, fmt.Errorf("parse database url: %w", redactError(err, url))
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	return cfg.ConnConfig, nil
}

// registerUTC makes c scan timestamptz as UTC.
func registerUTC(c *pgx.Conn) {
	c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
}
