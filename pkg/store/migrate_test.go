package store_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// catalog renders the public schema (columns, constraints, indexes) as text.
func catalog(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`
SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'goose_db_version'
UNION ALL
SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'goose_db_version'
UNION ALL
SELECT 'idx ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'goose_db_version'
ORDER BY 1`)
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestMigrateUpDownUpLeavesIdenticalSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("pgx", testenv.NewEmptyDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.MigrateUp(ctx, db); err != nil {
		t.Fatal(err)
	}
	first := catalog(t, db)
	if !strings.Contains(first, "schedules_due_idx") {
		t.Fatalf("migrated schema lacks the due index:\n%s", first)
	}
	if err := store.MigrateDownTo(ctx, db, 0); err != nil {
		t.Fatal(err)
	}
	if empty := catalog(t, db); empty != "" {
		t.Fatalf("down to zero left objects behind:\n%s", empty)
	}
	if err := store.MigrateUp(ctx, db); err != nil {
		t.Fatal(err)
	}
	if second := catalog(t, db); second != first {
		t.Fatalf("schema differs after up/down/up:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	cur, latest, err := store.SchemaCurrent(ctx, db)
	if err != nil || cur != latest || cur == 0 {
		t.Fatalf("schema version %d latest %d err %v", cur, latest, err)
	}
}

func TestConcurrentMigratorsBothSucceed(t *testing.T) {
	t.Parallel()
	url := testenv.NewEmptyDatabaseURL(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st, err := store.Open(context.Background(), url, store.Options{MaxConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			<-start
			errs[i] = st.MigrateUp(context.Background())
		}(i)
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrator %d: %v", i, err)
		}
	}
	st, err := store.Open(context.Background(), url, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n2 int
	if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM task_definitions").Scan(&n2).Error; err != nil || n2 != 4 {
		t.Fatalf("seeded tasks = %d (%v), want 4: migrations ran twice or not at all", n2, err)
	}
}
