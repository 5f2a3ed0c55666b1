package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A pinned store runs every statement and transaction on one server
// backend, while the store it came from keeps using the rest of the pool; a
// backend that dies is replaced; Release hands the connection back.
func TestPinnedStoreKeepsOneBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openPoolOf4(t)
	pinned := st.Pinned()
	first := backendPID(t, pinned)
	for i := 0; i < 5; i++ {
		if pid := backendPID(t, pinned); pid != first {
			t.Fatalf("statement %d ran on backend %d, want the pinned %d", i, pid, first)
		}
		err := pinned.InTx(ctx, func(tx *store.Tx) error {
			pid, err := tx.BackendPID(ctx)
			if err == nil && pid != first {
				t.Errorf("transaction ran on backend %d, want the pinned %d", pid, first)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// The pool is not re-routed: while the pinned store holds its connection,
	// statements of st run on others, concurrently.
	done := make(chan error, 1)
	go func() { done <- st.Sleep(ctx, 300*time.Millisecond) }()
	if pid := backendPID(t, st); pid == first {
		t.Fatalf("a statement of the pool ran on the pinned backend %d", pid)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A killed backend is replaced.
	if err := st.TerminateBackend(ctx, first); err != nil {
		t.Fatalf("terminate backend %d: %v", first, err)
	}
	// As with a pooled connection, the first statement may be the one that
	// finds the connection dead (an "unavailable" error); the next one runs.
	if _, err := pinned.BackendPID(ctx); err != nil && !store.IsUnavailable(err) {
		t.Fatalf("first statement after the kill: %v, want success or an unavailable error", err)
	}
	second := backendPID(t, pinned)
	if second == first {
		t.Fatalf("pinned store still on the killed backend %d", first)
	}
	if pid := backendPID(t, pinned); pid != second {
		t.Fatalf("after the replacement, statement ran on %d, want %d", pid, second)
	}

	// Released, its connection goes back to the pool and its statements
	// take pooled ones.
	pinned.Release()
	if _, err := pinned.BackendPID(ctx); err != nil {
		t.Fatal(err)
	}
}

// At most half of a pool is pinned: the rest stays for the statements that
// are not (heartbeats, wake-ups, maintenance); past that Pinned returns the
// store itself, whose Release does nothing.
func TestPinnedStoresTakeAtMostHalfThePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openPoolOf4(t)
	a, b, c := st.Pinned(), st.Pinned(), st.Pinned()
	if a == st || b == st {
		t.Fatal("the first two pinned stores of a pool of 4 should be pinned")
	}
	if c != st {
		t.Fatal("a third pinned store of a pool of 4 should be the store itself")
	}
	if backendPID(t, a) == backendPID(t, b) {
		t.Fatal("two pinned stores share a backend")
	}
	c.Release() // nothing: st stays open
	if _, err := st.Now(ctx); err != nil {
		t.Fatalf("Release of an unpinned store closed it: %v", err)
	}
	a.Release()
	if d := st.Pinned(); d == st {
		t.Fatal("a released pin should free its place")
	}
}

// openPoolOf4 opens a store on a new database with a pool of 4 connections.
func openPoolOf4(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), testenv.NewDatabaseURL(t), store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func backendPID(t *testing.T, st *store.Store) int {
	t.Helper()
	pid, err := st.BackendPID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
