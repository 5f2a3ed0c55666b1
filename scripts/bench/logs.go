package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
	"github.com/cyberbrain/cyberbrain/pkg/logtriage/logbench"
)

// logsMain scores log_triage's template mining on labelled logs (grouping
// accuracy on raw lines and on the message column) and times Analyze, the
// function log_triage runs, on the raw lines on one goroutine.
func logsMain(args []string) {
	fs := flag.NewFlagSet("logs", flag.ExitOnError)
	dir := fs.String("data", "../shared/loghub", "folder of <Dataset>/<Dataset>_2k.log.gz + structured csv")
	gt := fs.String("gt", "corrected", "ground truth: corrected, original or loghub2")
	dur := fs.Duration("time", 3*time.Second, "how much CPU time to spend timing Analyze")
	explain := fs.String("explain", "", "list the misgrouped templates of this dataset (raw lines) and stop")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed Analyze runs here")
	_ = fs.Parse(args)
	ds, err := logbench.Load(*dir, *gt)
	if err != nil || len(ds) == 0 {
		fmt.Fprintf(os.Stderr, "bench logs: no datasets in %s: %v\n", *dir, err)
		os.Exit(1)
	}
	for _, d := range ds {
		if d.Name == *explain {
			logbench.Explain(os.Stdout, d.Raw, d.Truth, logtriage.GroupKeys(d.Raw), 15)
			return
		}
	}
	runtime.GOMAXPROCS(1)
	fmt.Printf("cyberbrain bench logs — %s, %s, GOMAXPROCS 1, %s, ground truth %s\n",
		time.Now().UTC().Format(time.RFC3339), runtime.Version(), *dir, *gt)
	scores := logbench.Evaluate(ds, logtriage.GroupKeys)
	fmt.Printf("%-10s %6s %8s %8s %7s %6s\n", "dataset", "lines", "raw", "message", "groups", "truth")
	for _, s := range scores {
		fmt.Printf("%-10s %6d %8.3f %8.3f %7d %6d\n", s.Name, s.Lines, s.RawAcc, s.MessageAcc, s.Groups, s.Truth)
	}
	raw, msg := logbench.Average(scores)
	fmt.Printf("%-10s %6s %8.3f %8.3f\n", "average", "", raw, msg)
	t0 := time.Unix(1700000000, 0)
	if *cpuprofile != "" {
		stop, err := startProfile(*cpuprofile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench logs: %v\n", err)
			os.Exit(1)
		}
		defer stop()
	}
	lps := logbench.Throughput(ds, *dur, func(lines []string) {
		in := make([]logtriage.Line, len(lines))
		for i, l := range lines {
			in[i] = logtriage.Line{Time: t0, Stream: "stdout", Text: l}
		}
		logtriage.Analyze(in, nil)
	})
	fmt.Printf("Analyze on raw lines: %.0f lines per CPU-second on one core (%.0f lines/s by the wall clock)\n", lps.CPU, lps.Wall)
}

// startProfile starts a CPU profile into path; the returned func ends it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
