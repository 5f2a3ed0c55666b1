package testenv

import (
	"fmt"
	"sync"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

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
