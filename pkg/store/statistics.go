package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// statisticsTables are the tables a burst of launches and its drain rewrite
// wholesale. Only these names ever reach ANALYZE (identifiers cannot be
// bound as parameters, so nothing else may be interpolated).
var statisticsTables = []string{"runs", "jobs", "job_attempts", "schedules", "scheduled_runs"}

// Planner statistics are refreshed for a table once more rows changed since
// its last analysis than the larger of these: a floor, so small tables are
// left to autovacuum, and a fraction of its live rows. Within
// StatisticsSettle of an analysis, only a change of the table's size counts
// (by as much, against the rows PostgreSQL last counted).
const (
	StatisticsFloor    = 1000
	StatisticsFraction = 0.2
	StatisticsSettle   = time.Minute
)

// analyzeTimeout bounds one refresh's ANALYZE (it reads a fixed-size sample
// of each table, 300 × default_statistics_target rows, whatever its size).
const analyzeTimeout = 30 * time.Second

// TableStatistics is what PostgreSQL's cumulative statistics say of a table.
type TableStatistics struct {
	Table        string
	LiveRows     int64      // n_live_tup
	Modified     int64      // n_mod_since_analyze
	LastAnalyzed *time.Time // the later of last_analyze and last_autoanalyze; nil: never
	// SinceAnalysis is how long ago LastAnalyzed was, by the database's clock.
	SinceAnalysis time.Duration
	// CountedRows is pg_class.reltuples: the rows the last analysis or
	// vacuum counted (0 when none did).
	CountedRows int64
}

// Stale reports whether the table's planner statistics are due for a
// refresh: many rows changed since the last analysis and, if that analysis
// is recent, the table grew or shrank too. A drain rewrites every row of a
// burst in place without changing how many there are: re-analysing it in the
// middle cost the drain an ANALYZE and every replica a re-plan of each of
// its statements (half the drain rate where the drain outlasted the check's
// period, docs/BENCHMARKS.md). Autovacuum analyses such churn on its own
// (the queue tables ask it for 50 rows + 2 %, see the migrations).
func (t TableStatistics) Stale() bool {
	over := func(changed, of int64) bool {
		return changed > max(StatisticsFloor, int64(StatisticsFraction*float64(of)))
	}
	if !over(t.Modified, t.LiveRows) {
		return false
	}
	if t.LastAnalyzed == nil || t.SinceAnalysis >= StatisticsSettle {
		return true
	}
	moved := t.LiveRows - t.CountedRows
	return over(max(moved, -moved), t.CountedRows)
}

// selectTableStatistics reads the counters of the tables named in its argument,
// resolved like every other statement of the store (search_path). The
// counters are PostgreSQL 15's cumulative statistics: each backend flushes
// its own at most once a second when it goes idle, and a transaction reads a
// cached snapshot — this statement runs in a transaction of its own, so it
// sees what has been flushed by the time it starts.
const selectTableStatistics = `SELECT t.name AS table, u.n_live_tup AS live_rows,
		u.n_mod_since_analyze AS modified, greatest(u.last_analyze, u.last_autoanalyze) AS last_analyzed,
		coalesce(extract(epoch FROM now() - greatest(u.last_analyze, u.last_autoanalyze)), 0)::float8 AS since_analysis_s,
		greatest(c.reltuples, 0)::bigint AS counted_rows
	FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS t(name, ord)
	JOIN pg_stat_user_tables u ON u.relid = to_regclass(t.name)
	JOIN pg_class c ON c.oid = u.relid
	ORDER BY t.ord`

// HotTableStatistics returns the statistics counters of the tables a burst
// rewrites (runs, jobs, job_attempts, schedules, scheduled_runs).
func (s *Store) HotTableStatistics(ctx context.Context) ([]TableStatistics, error) {
	var rows []TableStatistics
	err := queryRows(s.db.WithContext(ctx), func(r *sql.Rows) error {
		var t TableStatistics
		var since float64
		err := r.Scan(&t.Table, &t.LiveRows, &t.Modified, &t.LastAnalyzed, &since, &t.CountedRows)
		t.SinceAnalysis = time.Duration(since * float64(time.Second))
		rows = append(rows, t)
		return err
	}, selectTableStatistics, textArray(statisticsTables))
	if err != nil {
		return nil, fmt.Errorf("table statistics: %w", err)
	}
	return rows, nil
}

// RefreshStatistics analyses each hot table whose rows changed since its last
// analysis by more than max(StatisticsFloor, StatisticsFraction × its live
// rows), as TableStatistics.Stale qualifies it — after a burst, before
// autovacuum gets there (it looks once a minute; the queue tables ask it
// for 50 rows + 2 %, see the migrations: it keeps the steady churn). It
// returns what it read and the tables it analysed. The stale tables are
// analysed in one transaction, so statements
// planned meanwhile see either the old statistics of all of them or the new
// ones: a plan mixing a fresh jobs with an empty-looking scheduled_runs can
// be worse than either. A table another process is analysing or vacuuming
// just then is skipped (SKIP_LOCKED): the next look finds it fresh or still
// stale. The ANALYZE is bounded by analyzeTimeout and by ctx.
func (s *Store) RefreshStatistics(ctx context.Context) (read []TableStatistics, analysed []string, err error) {
	read, err = s.HotTableStatistics(ctx)
	if err != nil {
		return nil, nil, err
	}
	var stale []string
	for _, t := range read {
		if t.Stale() {
			stale = append(stale, t.Table)
		}
	}
	if len(stale) == 0 {
		return read, nil, nil
	}
	if err := s.analyze(ctx, stale); err != nil {
		return read, nil, err
	}
	return read, stale, nil
}

// analyze runs ANALYZE on some of statisticsTables, in a transaction of its
// own whose statement_timeout bounds it on the server; the context, a little
// longer, bounds it on the client. It goes around gorm's per-statement
// deadline (--db-timeout), which is sized for the hot path, not for sampling
// large tables.
func (s *Store) analyze(ctx context.Context, tables []string) error {
	for _, t := range tables {
		if !isStatisticsTable(t) {
			return fmt.Errorf("analyze %q: not a table whose statistics the store keeps", t)
		}
	}
	names := strings.Join(tables, ", ")
	ctx, cancel := context.WithTimeout(ctx, analyzeTimeout+5*time.Second)
	defer cancel()
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("analyze %s: %w", names, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", analyzeTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("analyze %s: %w", names, err)
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE (SKIP_LOCKED) "+names); err != nil {
		return fmt.Errorf("analyze %s: %w", names, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("analyze %s: %w", names, err)
	}
	return nil
}

func isStatisticsTable(name string) bool {
	for _, t := range statisticsTables {
		if t == name {
			return true
		}
	}
	return false
}
