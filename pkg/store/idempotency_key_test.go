package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestLaunchWithKey: the key is recorded with the run in one transaction; a
// retry answers the run as it is now; another request under the key is
// ErrKeyReused; a launch that fails records nothing, so its key stays free.
func TestLaunchWithKey(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	req := store.LaunchRequest{Tasks: []string{"log_triage"}}
	k := store.IdempotencyKey{Scope: store.ScopeLaunch, Key: "k1", Fingerprint: "f1"}
	first, replayed, err := st.LaunchWithKey(ctx, req, k)
	if err != nil || replayed || first.ID == 0 || len(first.Jobs) != 1 {
		t.Fatalf("first: %+v %v %v", first, replayed, err)
	}
	if _, err := st.CancelRun(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	again, replayed, err := st.LaunchWithKey(ctx, req, k)
	if err != nil || !replayed || again.ID != first.ID || again.Status != domain.StatusCancelled {
		t.Fatalf("retry: %+v %v %v", again, replayed, err)
	}
	k.Fingerprint = "f2"
	if _, _, err := st.LaunchWithKey(ctx, req, k); !errors.Is(err, store.ErrKeyReused) {
		t.Fatalf("reused key: %v", err)
	}
	bad := store.IdempotencyKey{Scope: store.ScopeLaunch, Key: "k2", Fingerprint: "f"}
	if _, _, err := st.LaunchWithKey(ctx, store.LaunchRequest{Tasks: []string{"nope"}}, bad); err == nil {
		t.Fatal("unknown task launched")
	}
	if n := countRows(t, st, "idempotency_keys"); n != 1 {
		t.Errorf("%d keys, want only the successful launch's", n)
	}
	bad.Fingerprint = "other"
	if _, replayed, err := st.LaunchWithKey(ctx, req, bad); err != nil || replayed {
		t.Errorf("the failed launch's key: %v %v", replayed, err)
	}
	if n := countRows(t, st, "runs"); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// TestRunNowWithKeyExpires: keys of run-nows are their own scope and expire
// after a day; expired ones are removed as keyed requests come.
func TestRunNowWithKeyExpires(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	sc := limitedSchedule(t, st, "hourly", nil, nil)
	k := &store.IdempotencyKey{Scope: store.ScopeRunNow, Key: "same", Fingerprint: "s1"}
	r1, replayed, err := st.RunScheduleNowWithKey(ctx, sc.ID, k)
	if err != nil || replayed {
		t.Fatal(replayed, err)
	}
	if r2, replayed, err := st.RunScheduleNowWithKey(ctx, sc.ID, k); err != nil || !replayed || r2 != r1 {
		t.Fatalf("retry: %d %v %v", r2, replayed, err)
	}
	// The same key string in the launch scope is another key.
	if _, replayed, err := st.LaunchWithKey(ctx, store.LaunchRequest{Tasks: []string{"noop"}},
		store.IdempotencyKey{Scope: store.ScopeLaunch, Key: "same", Fingerprint: "l"}); err != nil || replayed {
		t.Fatalf("launch scope: %v %v", replayed, err)
	}
	mustExec(t, st, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours'`)
	r3, replayed, err := st.RunScheduleNowWithKey(ctx, sc.ID, k)
	if err != nil || replayed || r3 == r1 {
		t.Fatalf("after a day: %d %v %v", r3, replayed, err)
	}
	if n := countRows(t, st, "idempotency_keys"); n != 1 {
		t.Errorf("%d keys left, want the fresh one", n)
	}
	// Retention deleting a run takes its key along.
	mustExec(t, st, `DELETE FROM runs WHERE id = ?`, r3)
	if n := countRows(t, st, "idempotency_keys"); n != 0 {
		t.Errorf("%d keys outlive their run", n)
	}
}

// TestLaunchScheduleRefusesEnableAndEdit: the store refuses (409) to enable
// or edit a launch's schedule and lets it be disabled.
func TestLaunchScheduleRefusesEnableAndEdit(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	run := launchRun(t, st, "noop")
	id := *run.Jobs[0].ScheduleID
	if _, err := st.SetScheduleEnabled(ctx, id, false); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if _, err := st.SetScheduleEnabled(ctx, id, true); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("enable: %v, want a conflict", err)
	}
	_, err := st.UpdateSchedule(ctx, id, func(cur store.Schedule) (*store.ScheduleWrite, error) {
		cur.CustomDirectiveText = "again"
		return &store.ScheduleWrite{Schedule: cur}, nil
	})
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("edit: %v, want a conflict", err)
	}
	if g := getSchedule(t, st, id); g.Enabled || g.CustomDirectiveText != "" {
		t.Errorf("changed: %+v", g)
	}
}
