package store_test

import (
	"context"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestRecordHostHealthGPUsAndLastSeen(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	h := store.WorkerHost{Name: "gpu", Type: "docker_socket", BaseURL: "unix:///x.sock", Enabled: true, Capabilities: store.JSON(`{"labels": ["a"]}`)}
	if err := testenv.SQL(t, st).Create(&h).Error; err != nil {
		t.Fatal(err)
	}
	two, five := 2, 5
	if err := st.RecordHostHealth(ctx, h.ID, store.HostHealth{Healthy: true, EngineVersion: "28.0.1", GPUs: &two}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetWorkerHost(ctx, h.ID)
	if got.Healthy == nil || !*got.Healthy || got.LastSeenAt == nil || got.EngineVersion != "28.0.1" ||
		string(got.Capabilities) != `{"gpus": 2, "labels": ["a"]}` {
		t.Fatalf("after healthy check: %+v caps %s", got, got.Capabilities)
	}
	seen := *got.LastSeenAt
	// A failed check keeps last_seen_at and the version; a GPU count never
	// overrides one already set.
	if err := st.RecordHostHealth(ctx, h.ID, store.HostHealth{Error: "boom", GPUs: &five}); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetWorkerHost(ctx, h.ID)
	if *got.Healthy || !got.LastSeenAt.Equal(seen) || got.LastError != "boom" || got.EngineVersion != "28.0.1" ||
		string(got.Capabilities) != `{"gpus": 2, "labels": ["a"]}` {
		t.Errorf("after failed check: %+v caps %s", got, got.Capabilities)
	}
}
