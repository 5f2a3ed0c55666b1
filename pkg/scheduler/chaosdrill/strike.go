package chaosdrill

import (
	"math/rand/v2"
	"time"
)

// unpaused returns the live replicas not paused now; settled ones only when
// they resumed at least a lease ago (so they heartbeat between two pauses).
func (d *Drill) unpaused(settled bool) []*Replica {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*Replica
	for _, r := range d.live {
		r.mu.Lock()
		n := len(r.spans)
		if !r.paused && (!settled || n == 0 || time.Since(r.spans[n-1].to) > d.cfg.TTL) {
			out = append(out, r)
		}
		r.mu.Unlock()
	}
	return out
}

// pick chooses a settled replica at random, a busy one first with PreferBusy.
func (d *Drill) pick(rng *rand.Rand) *Replica {
	var busy, idle []*Replica
	for _, r := range d.unpaused(true) {
		if d.cfg.PreferBusy && r.Running() > 0 {
			busy = append(busy, r)
		} else {
			idle = append(idle, r)
		}
	}
	if len(busy) > 0 {
		return busy[rng.IntN(len(busy))]
	}
	if len(idle) > 0 {
		return idle[rng.IntN(len(idle))]
	}
	return nil
}

// kill simulates SIGKILL: the replica stops at once and writes nothing more;
// its leases are left to expire.
func (d *Drill) kill(r *Replica) {
	d.mu.Lock()
	for i, x := range d.live {
		if x == r {
			d.live = append(d.live[:i], d.live[i+1:]...)
			break
		}
	}
	d.mu.Unlock()
	r.Kill()
	d.kills.Add(1)
}

// pause simulates SIGSTOP for PauseFor, then resumes.
func (d *Drill) pause(r *Replica) {
	r.mu.Lock()
	r.paused = true
	r.spans = append(r.spans, pauseSpan{from: time.Now()})
	r.mu.Unlock()
	r.Pause(true)
	d.pauses.Add(1)
	d.resumes.Add(1)
	go func() {
		defer d.resumes.Done()
		time.Sleep(d.cfg.PauseFor)
		r.Pause(false)
		r.mu.Lock()
		r.paused = false
		r.spans[len(r.spans)-1].to = time.Now()
		r.mu.Unlock()
	}()
}
