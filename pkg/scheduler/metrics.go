package scheduler

import "time"

// Metrics observes a replica (Prometheus in production).
type Metrics interface {
	SchedulesClaimed(n int)
	JobStarted(task string)
	JobFinished(task, outcome string, d time.Duration)
	LeaseLost(task string)
	JobsRescued(n int)
	JobRetried(task string)
}

type nopMetrics struct{}

func (nopMetrics) SchedulesClaimed(int)                       {}
func (nopMetrics) JobStarted(string)                          {}
func (nopMetrics) JobFinished(string, string, time.Duration) {}
func (nopMetrics) LeaseLost(string)                           {}
func (nopMetrics) JobsRescued(int)                            {}
func (nopMetrics) JobRetried(string)                          {}
