package store_test

import (
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestInt64sIsOneArrayParameter(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	var n int
	if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM task_definitions WHERE id = ANY(?)", store.Int64s{1, 2, 99}).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("count = %d, want 2", n)
	}
	if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM task_definitions WHERE id = ANY(?)", store.Int64s{}).Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("empty array: %d %v", n, err)
	}
}
