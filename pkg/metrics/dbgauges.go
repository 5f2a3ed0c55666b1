package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// DBStats is the state of the queue as the database sees it, read at scrape
// time. store.MetricsStats has the same fields, so the store's answer
// converts with metrics.DBStats(s).
type DBStats struct {
	// JobsByStatus counts jobs by status; only the live statuses (pending,
	// running) are expected, terminal ones grow without bound and are left out.
	JobsByStatus map[string]int64
	// RunsByStatus counts runs by live status (pending, running).
	RunsByStatus map[string]int64
	// DueSchedules counts enabled schedules that are due now (claimed or not).
	DueSchedules int64
	// ScheduleLagSeconds is now − the due time of the oldest due schedule,
	// 0 when nothing is due.
	ScheduleLagSeconds float64
	// HostStates maps each worker host name to healthy, unhealthy, unknown
	// (never checked) or disabled.
	HostStates map[string]string
}

// Host states in DBStats.HostStates.
const (
	HostHealthy   = "healthy"
	HostUnhealthy = "unhealthy"
	HostUnknown   = "unknown"
	HostDisabled  = "disabled"
)

// StatsFunc reads DBStats; it must honour ctx's deadline.
type StatsFunc func(ctx context.Context) (DBStats, error)

// ScrapeTimeout bounds one StatsFunc call during a scrape.
const ScrapeTimeout = 5 * time.Second

var dbStats = &dbCollector{}

func init() { registry.MustRegister(dbStats) }

// RegisterDBGauges makes every scrape read the queue state through fn (one
// call per scrape, bounded by ScrapeTimeout). Calling it again replaces fn;
// RegisterDBGauges(nil) turns the gauges off. The API process calls it once at
// start; the scheduler need not (every process would report the same numbers).
func RegisterDBGauges(fn StatsFunc) {
	if fn == nil {
		dbStats.fn.Store(nil)
		return
	}
	dbStats.fn.Store(&fn)
}

var (
	descQueueJobs = prometheus.NewDesc(namespace+"_queue_jobs",
		"Jobs in the database by live status (pending, running).", []string{"status"}, nil)
	descQueueRuns = prometheus.NewDesc(namespace+"_queue_runs",
		"Runs in the database by live status (pending, running).", []string{"status"}, nil)
	descDueSchedules = prometheus.NewDesc(namespace+"_due_schedules",
		"Enabled schedules due now, claimed or not.", nil, nil)
	descScheduleLag = prometheus.NewDesc(namespace+"_schedule_lag_seconds",
		"now() minus the due time of the oldest due schedule (0 when nothing is due).", nil, nil)
	descHosts = prometheus.NewDesc(namespace+"_worker_hosts",
		"Worker hosts by state (healthy, unhealthy, unknown, disabled).", []string{"state"}, nil)
	descHostUp = prometheus.NewDesc(namespace+"_worker_host_up",
		"1 if the worker host's last health check reached its engine, 0 if not; absent while unknown or disabled.", []string{"host"}, nil)
	descStatsUp = prometheus.NewDesc(namespace+"_db_stats_up",
		"1 if the last scrape read the queue state from the database, 0 if it failed.", nil, nil)
	descStatsDuration = prometheus.NewDesc(namespace+"_db_stats_duration_seconds",
		"Time the last scrape spent reading the queue state.", nil, nil)
)

var liveStatuses = []domain.RunStatus{domain.StatusPending, domain.StatusRunning}

var hostStates = []string{HostHealthy, HostUnhealthy, HostUnknown, HostDisabled}

type dbCollector struct {
	fn atomic.Pointer[StatsFunc]
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueJobs, descQueueRuns, descDueSchedules, descScheduleLag,
		descHosts, descHostUp, descStatsUp, descStatsDuration} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.fn.Load()
	if fn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	start := time.Now()
	s, err := (*fn)(ctx)
	ch <- prometheus.MustNewConstMetric(descStatsDuration, prometheus.GaugeValue, time.Since(start).Seconds())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descStatsUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descStatsUp, prometheus.GaugeValue, 1)
	for _, st := range liveStatuses {
		ch <- prometheus.MustNewConstMetric(descQueueJobs, prometheus.GaugeValue, float64(s.JobsByStatus[string(st)]), string(st))
		ch <- prometheus.MustNewConstMetric(descQueueRuns, prometheus.GaugeValue, float64(s.RunsByStatus[string(st)]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(descDueSchedules, prometheus.GaugeValue, float64(s.DueSchedules))
	ch <- prometheus.MustNewConstMetric(descScheduleLag, prometheus.GaugeValue, max(s.ScheduleLagSeconds, 0))
	byState := map[string]int{}
	for host, state := range s.HostStates {
		byState[state]++
		switch state {
		case HostHealthy:
			ch <- prometheus.MustNewConstMetric(descHostUp, prometheus.GaugeValue, 1, host)
		case HostUnhealthy:
			ch <- prometheus.MustNewConstMetric(descHostUp, prometheus.GaugeValue, 0, host)
		}
	}
	for _, st := range hostStates {
		ch <- prometheus.MustNewConstMetric(descHosts, prometheus.GaugeValue, float64(byState[st]), st)
	}
}
