package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestSaveLogStateNeverMovesBack(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	var host store.WorkerHost
	if err := testenv.SQL(t, st).Where("name = 'local'").First(&host).Error; err != nil {
		t.Fatal(err)
	}
	newer := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	save := func(at time.Time, known []string) {
		t.Helper()
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.SaveLogState(ctx, host.ID, "web", at, known) }); err != nil {
			t.Fatal(err)
		}
	}
	save(newer, []string{"a", "b"})
	save(newer.Add(-time.Hour), []string{"a", "b", "c"})
	states, err := st.LogStates(ctx, host.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := states["web"]
	if !s.LastSuccessAt.Equal(newer) || string(s.KnownTemplates) != `["a", "b", "c"]` {
		t.Errorf("state = %v %s, want cursor kept at %v", s.LastSuccessAt, s.KnownTemplates, newer)
	}
}
