// Package metrics is cyberbrain's Prometheus instrumentation. The API and the
// scheduler call the small helper functions here (RunLaunched, ClaimTick,
// JobStarted, JobFinished, …) and never touch Prometheus types; Handler serves
// the registry in the Prometheus text format and Serve runs a /metrics
// listener for the scheduler's --metrics-addr.
//
// Every metric lives in one process-wide registry that also carries the Go
// runtime, process and build-info collectors.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "cyberbrain"

var registry = newRegistry()

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return r
}

// Registry returns the process-wide registry, for callers that need to add a
// collector of their own.
func Registry() *prometheus.Registry { return registry }
