package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

var (
	launches = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "launches_total",
		Help: "Runs created by POST /api/runs/launch/.",
	})
	launchedJobs = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "launched_jobs_total",
		Help: "Jobs created by launches.",
	})
	claimsPerTick = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "claims_per_tick",
		Help:    "Due schedules claimed by one claim pass of this replica.",
		Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
	})
	claimedSchedules = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "claimed_schedules_total",
		Help: "Due schedules claimed by this replica.",
	})
	jobsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "jobs_started_total",
		Help: "Job attempts this replica started, by task.",
	}, []string{"task"})
	jobsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "jobs_finished_total",
		Help: "Job attempts this replica ended, by task and outcome (completed, failed, cancelled, lost, released).",
	}, []string{"task", "outcome"})
	jobsInFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "jobs_in_flight",
		Help: "Job attempts this replica is executing now, by task.",
	}, []string{"task"})
	jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "job_duration_seconds",
		Help:    "Wall time of a job attempt on this replica, by task.",
		Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"task"})
	leaseLosses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "lease_losses_total",
		Help: "Job leases this replica found taken or expired on heartbeat (the task was stopped, nothing written), by task.",
	}, []string{"task"})
	leaseRescues = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "lease_rescues_total",
		Help: "Expired job leases of other replicas this replica rescued, by result (retried, failed).",
	}, []string{"result"})
	retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "job_retries_total",
		Help: "Job attempts put back to pending for another try, by task.",
	}, []string{"task"})
	hostChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "scheduler", Name: "host_checks_total",
		Help: "Worker host health checks this replica ran, by host and result (healthy, unhealthy).",
	}, []string{"host", "result"})
)

func init() {
	registry.MustRegister(launches, launchedJobs, claimsPerTick, claimedSchedules, jobsStarted,
		jobsFinished, jobsInFlight, jobDuration, leaseLosses, leaseRescues, retries, hostChecks)
	// Pre-create the series dashboards alert on, so they read 0 rather than
	// "no data" before the first event.
	leaseRescues.WithLabelValues(RescueRetried)
	leaseRescues.WithLabelValues(RescueFailed)
}

// Job attempt outcomes for JobFinished: label values, so plain strings, equal
// to the domain's attempt outcomes plus "released", which is no attempt
// outcome in the database.
const (
	OutcomeCompleted = string(domain.OutcomeCompleted)
	OutcomeFailed    = string(domain.OutcomeFailed)
	OutcomeCancelled = string(domain.OutcomeCancelled)
	// OutcomeLost: the replica lost the job's lease and stopped the task.
	OutcomeLost = string(domain.OutcomeLost)
	// OutcomeReleased: shutdown handed the job back for another replica.
	OutcomeReleased = "released"
)

// Lease rescue results for LeasesRescued.
const (
	RescueRetried = "retried"
	RescueFailed  = "failed"
)

// RunLaunched records one launch that created a run with jobs jobs. Call it
// in the API after the launch transaction committed.
func RunLaunched(jobs int) {
	launches.Inc()
	launchedJobs.Add(float64(jobs))
}

// ClaimTick records one claim pass that claimed n due schedules (n may be 0).
// Call it after every claim statement, including empty ones.
func ClaimTick(n int) {
	claimsPerTick.Observe(float64(n))
	claimedSchedules.Add(float64(n))
}

// JobStarted records that this replica began executing an attempt of a job of
// task. Every JobStarted must be matched by exactly one JobFinished.
func JobStarted(task string) {
	jobsStarted.WithLabelValues(task).Inc()
	jobsInFlight.WithLabelValues(task).Inc()
}

// JobFinished records the end of an attempt started with JobStarted: outcome
// is one of the Outcome constants, took the attempt's wall time.
func JobFinished(task, outcome string, took time.Duration) {
	jobsFinished.WithLabelValues(task, outcome).Inc()
	jobsInFlight.WithLabelValues(task).Dec()
	jobDuration.WithLabelValues(task).Observe(took.Seconds())
}

// LeaseLost records that a heartbeat found this replica's lease on a job of
// task gone. Call JobFinished(task, OutcomeLost, …) as well.
func LeaseLost(task string) { leaseLosses.WithLabelValues(task).Inc() }

// LeasesRescued records a rescue pass over expired job leases: retried jobs
// went back to pending, failed ones had no attempt left.
func LeasesRescued(retried, failed int) {
	leaseRescues.WithLabelValues(RescueRetried).Add(float64(retried))
	leaseRescues.WithLabelValues(RescueFailed).Add(float64(failed))
}

// JobRetried records that a failed attempt of a job of task was put back for
// another try (retryable error, attempts left).
func JobRetried(task string) { retries.WithLabelValues(task).Inc() }

// HostChecked records one health check of the worker host named host.
func HostChecked(host string, healthy bool) {
	result := "unhealthy"
	if healthy {
		result = "healthy"
	}
	hostChecks.WithLabelValues(host, result).Inc()
}
