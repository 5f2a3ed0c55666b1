package cmdutil

import (
	"os"
	"runtime"
	"runtime/debug"
)

// gcPercent is the api's and the scheduler's garbage collector target
// (Go's GOGC) unless the environment sets GOGC. Their live heaps are small
// (tens of MiB), so Go's default of 100 collects very often while they work
// through a backlog: collection was a fifth of a replica's CPU in a drain.
// 400 lets the heap grow to five times the live data between collections.
const gcPercent = 400

// procsFor is how many CPUs (GOMAXPROCS) a daemon uses of the cpus Go would
// give it: half, at least one. The api and the schedulers wait on
// PostgreSQL, which runs beside them in the deployments this project ships
// (compose.yaml, `make run`) and needs the CPUs they would take; with every
// CPU each process's idle threads kept waking one another for the next
// goroutine. On the 2-CPU machine of docs/BENCHMARKS.md the api and the
// replicas each spent about a quarter less CPU for the same work.
func procsFor(cpus int) int { return max(1, cpus/2) }

// tuneRuntime applies gcPercent unless GOGC is set and procsFor unless
// GOMAXPROCS is set (runtime.GOMAXPROCS(0) already honours a container's
// CPU limit; setting it stops Go from following later changes of the limit).
func tuneRuntime() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(procsFor(runtime.GOMAXPROCS(0)))
	}
}
