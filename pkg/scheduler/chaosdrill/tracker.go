package chaosdrill

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// tracker records every task execution (which replica, when): the database
// cannot show a fenced execution that wrote nothing.
type tracker struct {
	mu    sync.Mutex
	execs []Exec
}

// Exec is one task execution.
type Exec struct {
	Job        int64
	Attempt    int
	Replica    *Replica
	Start, End time.Time
}

func (tr *tracker) wrap(r *Replica, inner tasks.Task) tasks.Task {
	return tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		start := time.Now()
		defer func() {
			end := time.Now()
			tr.mu.Lock()
			tr.execs = append(tr.execs, Exec{Job: env.Job.ID, Attempt: env.Job.Attempt, Replica: r, Start: start, End: end})
			tr.mu.Unlock()
		}()
		return inner.Run(ctx, env)
	})
}

// Overlaps sums up the executions of a drill: Doubles are the jobs executed
// twice at once (should be none), Explained the overlaps a paused replica's
// stale task explains.
type Overlaps struct {
	Executions, Jobs, Explained int
	Doubles                     []Double
}

// Double is an execution X overlapped by a later execution Y of its job.
type Double struct{ X, Y Exec }

func (o Double) String() string {
	x, y := o.X, o.Y
	return fmt.Sprintf("job %d: attempt %d on %s (ran %s, pauses %s) and attempt %d on %s (started at +%s)",
		x.Job, x.Attempt, x.Replica.Name, x.End.Sub(x.Start).Round(time.Millisecond), x.Replica.Spans(x.Start),
		y.Attempt, y.Replica.Name, y.Start.Sub(x.Start).Round(time.Millisecond))
}

// Overlaps checks that no job was executed twice at once, with one exception.
//
// A paused replica is not a stopped process here: Pause freezes its dealings
// with the database, but its tasks keep running (as they would behind a cut
// connection or a long stall of the heartbeat goroutine). docs/DESIGN.md §6 only asks
// such a replica to notice the lost lease on its next heartbeat after it
// comes back, stop the task and write nothing. Meanwhile its lease expires
// and another replica rightly re-executes the job, so the paused replica's
// (now fenced, result-less) execution may overlap the new one. That overlap
// is allowed only when stalled explains it. Any other overlap — between
// executions on replicas that were not paused, one starting right away, or a
// stale execution left running after its replica resumed — is a double
// execution. Killed replicas get no exception: Kill cancels their tasks at
// once, long before their leases expire.
func (d *Drill) Overlaps() Overlaps {
	tr := &d.tracker
	tr.mu.Lock()
	defer tr.mu.Unlock()
	byJob := map[int64][]Exec{}
	for _, e := range tr.execs {
		byJob[e.Job] = append(byJob[e.Job], e)
	}
	o := Overlaps{Executions: len(tr.execs), Jobs: len(byJob)}
	for _, es := range byJob {
		sort.Slice(es, func(i, j int) bool { return es[i].Start.Before(es[j].Start) })
		for i := range es {
			for j := i + 1; j < len(es) && es[j].Start.Before(es[i].End); j++ {
				x, y := es[i], es[j]
				if stalled(x, y, d.cfg.TTL) || stalled(y, x, d.cfg.TTL) {
					o.Explained++
					continue
				}
				o.Doubles = append(o.Doubles, Double{x, y})
			}
		}
	}
	sort.Slice(o.Doubles, func(i, j int) bool {
		a, b := o.Doubles[i].X, o.Doubles[j].X
		return a.Job < b.Job || a.Job == b.Job && a.Start.Before(b.Start)
	})
	return o
}

// stalled reports whether x's replica was paused during [from, to]
// overlapping x, y started no earlier than from + ttl/2 — after x's
// heartbeats had stopped long enough for its lease to expire (a lease renewed
// just before the pause runs until from + ttl; ttl/2 leaves room for the
// rescue and the clocks) — and x ended by to + ttl: its replica's first
// heartbeat after resuming (within ttl/3) noticed the loss and stopped it.
// Pauses closer together than ttl/2 (the replica may not have heartbeated in
// between: the all-replica pause can follow a single one) count as one.
func stalled(x, y Exec, ttl time.Duration) bool {
	r := x.Replica
	r.mu.Lock()
	var spans []pauseSpan
	for _, p := range r.spans {
		if p.to.IsZero() {
			p.to = time.Now()
		}
		if n := len(spans); n > 0 && p.from.Sub(spans[n-1].to) < ttl/2 {
			spans[n-1].to = p.to
			continue
		}
		spans = append(spans, p)
	}
	r.mu.Unlock()
	for _, p := range spans {
		if p.from.Before(x.End) && p.to.After(x.Start) && !y.Start.Before(p.from.Add(ttl/2)) && !x.End.After(p.to.Add(ttl)) {
			return true
		}
	}
	return false
}

// Spans renders the replica's pauses relative to t0, for diagnostics.
func (r *Replica) Spans(t0 time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, p := range r.spans {
		fmt.Fprintf(&b, "[%s..", p.from.Sub(t0).Round(time.Millisecond))
		if !p.to.IsZero() {
			fmt.Fprintf(&b, "%s", p.to.Sub(t0).Round(time.Millisecond))
		}
		b.WriteString("]")
	}
	return b.String()
}
