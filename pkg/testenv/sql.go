package testenv

import (
	"fmt"
	"sync"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// OpenSQL opens a connection of its own to the database at url, for test
// fixtures, invariant checks and benchmarks that set up or inspect rows
// directly. Product code reaches the database only through pkg/store.
func OpenSQL(url string) (*gorm.DB, error) {
	db, err := gorm.Open(postgres.Open(url), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		return nil, fmt.Errorf("open test sql connection: %w", err)
	}
	return db, nil
}

// SQL returns a connection to st's database for a test's fixtures and
// checks (one per store, closed when the test that opened it ends).
func SQL(t testing.TB, st *store.Store) *gorm.DB {
	t.Helper()
	if db, ok := sqlConns.Load(st); ok {
		return db.(*gorm.DB)
	}
	db, err := OpenSQL(st.URL())
	if err != nil {
		t.Fatal(err)
	}
	if prev, loaded := sqlConns.LoadOrStore(st, db); loaded {
		closeSQL(db)
		return prev.(*gorm.DB)
	}
	t.Cleanup(func() {
		sqlConns.Delete(st)
		closeSQL(db)
	})
	return db
}

// sqlConns holds one fixture connection per store.
var sqlConns sync.Map

func closeSQL(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// CreateRuns inserts bare runs with the given statuses (no jobs, no
// schedule) as fixtures and returns their ids. Product code creates runs only
// through the store's one run-creation path; fixtures that need a run in a
// given state without going through a scheduler use this.
func CreateRuns(t testing.TB, st *store.Store, statuses ...domain.RunStatus) []int64 {
	t.Helper()
	ids := make([]int64, len(statuses))
	for i, s := range statuses {
		r := store.Run{Status: s}
		if err := SQL(t, st).Create(&r).Error; err != nil {
			t.Fatalf("create %s run: %v", s, err)
		}
		ids[i] = r.ID
	}
	return ids
}

// BurstRuns inserts n pending runs in one transaction whose backend flushes
// its statistics counters before the commit returns
// (pg_stat_force_next_flush, PostgreSQL 15+; otherwise up to a second
// later, when it goes idle), for tests of the statistics refresh.
func BurstRuns(t testing.TB, st *store.Store, n int) {
	t.Helper()
	err := SQL(t, st).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO runs (status) SELECT 'pending' FROM generate_series(1, ?)`, n).Error; err != nil {
			return err
		}
		return tx.Exec(`SELECT pg_stat_force_next_flush()`).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}
