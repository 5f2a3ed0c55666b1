// Command bench measures cyberbrain's performance bars (see docs/DESIGN.md §11) against a
// real PostgreSQL. Each benchmark creates its own scratch database on the
// server given by DATABASE_URL (or TEST_DATABASE_URL) and drops it after.
//
//	go run ./scripts/bench pipeline [-latency-runs 300] [-drain-runs 20000] [-replicas 4] [-max-claim 100]
//	go run ./scripts/bench launch [-clients 32] [-duration 10s] [-conns 16]
//	go run ./scripts/bench chaos [-runs 5000] [-replicas 4] [-every 2s]
//	go run ./scripts/bench logs [-data ../shared/loghub] [-gt corrected]
//	go run ./scripts/bench pages [-runs 100000] [-requests 40] [-limit 100ms]
//	go run ./scripts/bench shape [-runs 20000] [-latency 300] [-replicas 4] [-clients 32] [-api-bin bin/api -scheduler-bin bin/scheduler] [-strict]  (api + scheduler processes, floors; docs/BENCHMARKS.md)
//	go run ./scripts/bench retention [-runs 200000] [-batch 2000] [-explain]
//	go run ./scripts/bench history [-history 10000000] [-runs 5000] [-fires 100]
//
// `make bench` runs both against a private PostgreSQL.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench pipeline|launch|chaos|logs|pages|shape|retention|history [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "pipeline":
		pipelineMain(os.Args[2:])
	case "launch":
		launchMain(os.Args[2:])
	case "chaos":
		chaosMain(os.Args[2:])
	case "logs":
		logsMain(os.Args[2:])
	case "pages":
		pagesMain(os.Args[2:])
	case "shape":
		shapeMain(os.Args[2:])
	case "retention":
		retentionMain(os.Args[2:])
	case "history":
		historyMain(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "unknown benchmark %q: use pipeline, launch, chaos, logs, pages, shape or retention\n", os.Args[1])
		os.Exit(2)
	}
}

func envURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return os.Getenv("TEST_DATABASE_URL")
}
