package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// waitUntil polls cond until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-time.After(20 * time.Millisecond)
	}
}

// With the server frozen (a proxy that stops forwarding, as SIGSTOP would),
// every kind of database work gives up after the statement timeout with an
// error callers recognise as "unavailable", instead of hanging for as long
// as TCP takes to notice; it works again once the server answers.
func TestStatementTimeoutBoundsWorkOnAFrozenServer(t *testing.T) {
	t.Parallel()
	proxy, u := testenv.NewProxy(t, testenv.NewDatabaseURL(t))
	const timeout = 400 * time.Millisecond
	st, err := store.Open(context.Background(), u, store.Options{MaxConns: 4, StatementTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if _, err := st.Now(ctx); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze()
	ops := map[string]func() error{
		"query": func() error { _, err := st.Now(ctx); return err },
		"transaction": func() error {
			return st.InTx(ctx, func(*store.Tx) error { return nil })
		},
		"ping":  func() error { return st.Ping(ctx) },
		"list":  func() error { _, err := st.ListDirectives(ctx, store.ListParams{Limit: 10}); return err },
		"claim": func() error { _, err := st.ClaimDue(ctx, "r1", time.Minute, 5, 5, store.Limits{}); return err },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		took := time.Since(start)
		if err == nil {
			t.Errorf("%s on a frozen server succeeded", name)
			continue
		}
		if took > timeout+2*time.Second {
			t.Errorf("%s took %v on a frozen server, want about %v", name, took, timeout)
		}
		if !store.IsUnavailable(err) {
			t.Errorf("%s: %v is not recognised as the database being unavailable", name, err)
		}
	}
	proxy.Resume(true)
	waitUntil(t, 10*time.Second, "queries to work again", func() bool {
		_, err := st.Now(ctx)
		return err == nil
	})
}

// Without a statement timeout the caller's deadline still applies (the API
// sets one per request).
func TestCallerDeadlineWithoutStatementTimeout(t *testing.T) {
	t.Parallel()
	proxy, u := testenv.NewProxy(t, testenv.NewDatabaseURL(t))
	st, err := store.Open(context.Background(), u, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proxy.Freeze()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := st.Now(ctx); !store.IsUnavailable(err) {
		t.Errorf("Now past the caller's deadline: %v", err)
	}
	proxy.Resume(true)
}

// Pooled connections left idle are closed after the idle timeout, so a
// replica that was busy once does not keep its peak connections for good.
func TestIdleConnectionsAreReleased(t *testing.T) {
	t.Parallel()
	if store.DefaultIdleTimeout > time.Minute {
		t.Errorf("DefaultIdleTimeout = %v: idle pools would hold their connections for minutes", store.DefaultIdleTimeout)
	}
	u := testenv.NewDatabaseURL(t)
	st, err := store.Open(context.Background(), u, store.Options{MaxConns: 4, IdleTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	admin := testenv.SQL(t, st)
	backends := func() int {
		var n int
		if err := admin.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND pid <> pg_backend_pid()`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Four statements at once open four connections.
	errc := make(chan error, 4)
	for range 4 {
		go func() { errc <- st.Sleep(context.Background(), 200*time.Millisecond) }()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if n := backends(); n < 4 {
		t.Fatalf("%d backends after four concurrent transactions, want 4", n)
	}
	waitUntil(t, 10*time.Second, "idle connections to close", func() bool { return backends() == 0 })
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("list runs: %w", &pgconn.PgError{Code: code}) }
	yes := map[string]error{
		"too many clients":   pg("53300"),
		"admin shutdown":     pg("57P01"),
		"crash shutdown":     pg("57P02"),
		"starting up":        pg("57P03"),
		"connection failure": pg("08006"),
		"refused":            fmt.Errorf("x: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}),
		"reset":              fmt.Errorf("x: %w", syscall.ECONNRESET),
		"deadline":           fmt.Errorf("x: %w", context.DeadlineExceeded),
		"unexpected EOF":     fmt.Errorf("x: %w", io.ErrUnexpectedEOF),
		"pgx conn closed":    fmt.Errorf("x: %w", pgconn.ErrConnClosed),
		"connect error":      &pgconn.ConnectError{},
	}
	for name, err := range yes {
		if !store.IsUnavailable(err) {
			t.Errorf("%s (%v): not unavailable", name, err)
		}
	}
	no := map[string]error{
		"nil":           nil,
		"unique":        pg("23505"),
		"syntax":        pg("42601"),
		"client went":   fmt.Errorf("x: %w", context.Canceled),
		"not found":     gorm.ErrRecordNotFound,
		"domain":        domain.Invalid(nil, "bad"),
		"plain":         errors.New("boom"),
		"serialization": pg("40001"),
	}
	for name, err := range no {
		if store.IsUnavailable(err) {
			t.Errorf("%s (%v): unavailable", name, err)
		}
	}
}
