package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Pinned returns a store whose statements and transactions all run on one
// connection of s's pool, taken at the first statement and kept until
// Release; a connection that broke is replaced at the next statement. The
// pinned store is for one goroutine at a time (a replica's claim loop, its
// completer). At most half of the pool is pinned at once: past that (or on
// a store already pinned) Pinned returns s, whose Release does nothing.
//
// Why: through the shared pool a replica's hot statements wander over every
// connection, and each new server backend pays again for what a warm one
// has — the statement's plans (a claim is planned 5 times per connection
// before its generic plan is kept, ~9 ms the first time on a new backend)
// and its mapping of the shared buffers (a page fault per buffer page it
// touches first, expensive in virtual machines).
func (s *Store) Pinned() *Store {
	if s.pin != nil || s.pins == nil {
		return s
	}
	if int(s.pins.Add(1)) > s.maxConns/2 {
		s.pins.Add(-1)
		return s
	}
	p := &pinnedConn{db: s.sql, pins: s.pins}
	// A session with a context of its own gets a copy of the statement
	// (without one, it would share s.db's and re-route s's pool too).
	db := s.db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	db.Statement.ConnPool = p
	return &Store{db: db, sql: s.sql, url: s.url, timeout: s.timeout, notifier: s.notifier, pin: p}
}

// Release gives a pinned store's connection back to the pool for good: its
// later statements take connections from the pool like s's. It does
// nothing on a store that is not pinned.
func (s *Store) Release() {
	if s.pin != nil {
		s.pin.release()
	}
}

// pinnedConn is gorm's connection pool for a pinned store: one *sql.Conn
// (the pool itself once released).
type pinnedConn struct {
	db   *sql.DB
	pins *atomic.Int32 // connections pinned from db

	mu       sync.Mutex
	conn     *sql.Conn
	lastUsed time.Time
	released bool
}

// sqlConn is what a pinned store's statements run on: the pinned *sql.Conn,
// or the *sql.DB once released.
type sqlConn interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// pingAfter is how long a pinned connection may sit unused before it is
// checked before its next statement, as pgx's stdlib checks a pooled one.
const pingAfter = time.Second

// get returns the pinned connection, taking one from the pool when there
// is none or the one held is closed (or fails a check after a pause).
func (p *pinnedConn) get(ctx context.Context) (sqlConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.released {
		return p.db, nil
	}
	if p.conn != nil && !p.alive(ctx) {
		_ = p.conn.Close()
		p.conn = nil
	}
	if p.conn == nil {
		c, err := p.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		p.conn = c
	}
	p.lastUsed = time.Now()
	return p.conn, nil
}

// alive reports whether the held connection can take a statement: pgx has
// not closed it, and after a pause it answers a ping.
func (p *pinnedConn) alive(ctx context.Context) bool {
	open := false
	err := p.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		open = ok && !c.Conn().IsClosed()
		return nil
	})
	if err != nil || !open {
		return false
	}
	return time.Since(p.lastUsed) < pingAfter || p.conn.PingContext(ctx) == nil
}

// release returns the held connection to the pool, for good.
func (p *pinnedConn) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.released {
		return
	}
	p.released = true
	p.pins.Add(-1)
	if p.conn != nil {
		_ = p.conn.Close()
		p.conn = nil
	}
}

// retried runs op on the pinned connection, and once more on a new one when
// the driver refused it as bad before sending anything (as database/sql's
// pool retries).
func retried[T any](ctx context.Context, p *pinnedConn, op func(sqlConn) (T, error)) (T, error) {
	var zero T
	for try := 0; ; try++ {
		c, err := p.get(ctx)
		if err != nil {
			return zero, err
		}
		v, err := op(c)
		if try == 0 && (errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)) {
			continue // get replaces the closed connection
		}
		return v, err
	}
}

func (p *pinnedConn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return retried(ctx, p, func(c sqlConn) (*sql.Stmt, error) { return c.PrepareContext(ctx, query) })
}

func (p *pinnedConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return retried(ctx, p, func(c sqlConn) (sql.Result, error) { return c.ExecContext(ctx, query, args...) })
}

func (p *pinnedConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return retried(ctx, p, func(c sqlConn) (*sql.Rows, error) { return c.QueryContext(ctx, query, args...) })
}

func (p *pinnedConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	c, err := p.get(ctx)
	if err != nil {
		return p.db.QueryRowContext(ctx, query, args...) // the pool reports (or survives) the outage
	}
	return c.QueryRowContext(ctx, query, args...)
}

func (p *pinnedConn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return retried(ctx, p, func(c sqlConn) (*sql.Tx, error) { return c.BeginTx(ctx, opts) })
}

// GetDBConn lets gorm's DB() reach the pool behind the pinned connection.
func (p *pinnedConn) GetDBConn() (*sql.DB, error) { return p.db, nil }
