package scheduler

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// statisticsEvery is how often a replica looks whether a burst has left the
// planner's statistics behind (a read of pg_stat_user_tables; an ANALYZE
// only for a table that changed a lot since its last analysis).
const statisticsEvery = 5 * time.Second

// statisticsState is the replica's side of the statistics check.
type statisticsState struct {
	last    time.Time   // Clock time of the last attempt
	running atomic.Bool // a check is in flight: the next pass does not start another
}

// maintainStatistics starts, every statisticsEvery and on one replica at a
// time, a background refresh of the hot tables' planner statistics
// (store.RefreshStatistics): autovacuum looks once a minute and only after
// 10 % of a table changed since its last analysis, so after a burst of
// launches the drain's statements would be planned on statistics of the
// empty or differently shaped tables for up to a minute or more.
func (s *Scheduler) maintainStatistics(now time.Time) {
	if now.Sub(s.statistics.last) < statisticsEvery || !s.statistics.running.CompareAndSwap(false, true) {
		return
	}
	s.statistics.last = now
	s.goMaintenance(func(ctx context.Context) {
		defer s.statistics.running.Store(false)
		s.exclusive(ctx, "statistics", s.refreshStatistics)
	})
}

// statisticsWait bounds how long a starting replica waits for another's
// statistics check before claiming anyway.
const statisticsWait = 5 * time.Second

// statisticsBeforeClaiming is a replica's first statistics check, before its
// first claim: replicas started onto a backlog (a burst launched while none
// ran, or a fresh database) would otherwise plan their claims on statistics
// of empty tables — a claim of 100 schedules then reads every pending job
// (over 100 ms instead of under 10) until the background check's ANALYZE
// lands. Replicas starting together wait for the one that holds the check
// (up to statisticsWait), then check themselves: the tables are fresh by
// then, so that is one read.
func (s *Scheduler) statisticsBeforeClaiming(ctx context.Context) {
	if s.killed.Load() || s.paused.Load() {
		return
	}
	s.statistics.last = s.cfg.Clock.Now()
	ran, err := s.st.WaitMaintenanceLock(ctx, "statistics", statisticsWait, s.refreshStatistics)
	s.maintained(ctx, "statistics", ran, err)
}

// refreshStatistics is one statistics check, under the maintenance lock.
func (s *Scheduler) refreshStatistics(ctx context.Context) error {
	read, analysed, err := s.st.RefreshStatistics(ctx)
	if ce := s.log.Check(zap.DebugLevel, "planner statistics checked"); ce != nil {
		fields := make([]zap.Field, 0, len(read)+1)
		for _, t := range read {
			fields = append(fields, zap.Dict(t.Table, zap.Int64("live_rows", t.LiveRows),
				zap.Int64("modified_since_analyze", t.Modified), zap.Timep("last_analyzed", t.LastAnalyzed)))
		}
		ce.Write(append(fields, zap.Strings("analysed", analysed))...)
	}
	if len(analysed) > 0 {
		s.log.Info("Analysed tables after a burst of changes", zap.Strings("tables", analysed))
	}
	return err
}
