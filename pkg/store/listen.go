package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Listener is a dedicated connection LISTENing on one channel. LISTEN is
// session state, so it cannot share the pool: a pooled connection would
// drop the subscription when returned. It lives here so that every
// connection cyberbrain opens is configured in one package.
type Listener struct {
	conn    *pgx.Conn
	channel string
}

// Notification is one NOTIFY received by a Listener.
type Notification struct {
	Channel string
	Payload string
}

// Listen opens a connection to the store's database with the session
// settings of Open (UTC time zone, timestamptz scanned as UTC) and LISTENs
// on channel. The caller must Close it.
func (s *Store) Listen(ctx context.Context, channel string) (*Listener, error) {
	cfg, err := connConfig(s.url)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", channel, err)
	}
	// Connecting and subscribing are bounded; waiting for notifications
	// (WaitForNotification) is not, since quiet periods are normal.
	cctx, cancel := s.withDeadline(ctx)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("listen %s: connect: %w", channel, redactError(err, s.url))
	}
	registerUTC(conn)
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channel, err)
	}
	return &Listener{conn: conn, channel: channel}, nil
}

// WaitForNotification blocks until a notification arrives, ctx ends or the
// connection fails; after an error the Listener is unusable: Close it and
// Listen again.
func (l *Listener) WaitForNotification(ctx context.Context) (Notification, error) {
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil {
		return Notification{}, fmt.Errorf("wait for notification on %s: %w", l.channel, err)
	}
	return Notification{Channel: n.Channel, Payload: n.Payload}, nil
}

// Close closes the connection (ending the LISTEN). It does not wait for a
// server that no longer answers beyond ctx.
func (l *Listener) Close(ctx context.Context) error {
	if err := l.conn.Close(ctx); err != nil {
		return fmt.Errorf("close listener on %s: %w", l.channel, err)
	}
	return nil
}
