// Package outage reports a dependency's outage (the database) in the log as
// a handful of lines instead of one error per failed request or pass: a
// warning when it starts, a reminder every few seconds while it lasts with
// the number of failures since the last line, and an info line when it ends.
package outage

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultEvery is how often a lasting outage is logged again.
const DefaultEvery = 5 * time.Second

// Reporter tracks one dependency. The zero value is not usable: use New.
type Reporter struct {
	log   *zap.Logger
	what  string
	every time.Duration
	now   func() time.Time

	mu       sync.Mutex
	down     bool
	since    time.Time
	last     time.Time
	failures int // since the last line
}

// New returns a reporter logging to log about what ("database").
func New(log *zap.Logger, what string, every time.Duration) *Reporter {
	if every <= 0 {
		every = DefaultEvery
	}
	return &Reporter{log: log, what: what, every: every, now: time.Now}
}

// Fail records one failure caused by the outage; it logs at most one
// warning per period.
func (r *Reporter) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.failures++
	if !r.down {
		r.down, r.since = true, now
	} else if now.Sub(r.last) < r.every {
		return
	}
	r.log.Warn(r.what+" unavailable", zap.Error(err), zap.Int("failures", r.failures),
		zap.Duration("for", now.Sub(r.since).Round(time.Millisecond)))
	r.last, r.failures = now, 0
}

// OK records a success; the first after an outage logs its end.
func (r *Reporter) OK() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.down {
		return
	}
	r.log.Info(r.what+" reachable again", zap.Duration("after", r.now().Sub(r.since).Round(time.Millisecond)),
		zap.Int("failures", r.failures))
	r.down, r.failures = false, 0
}

// Down reports whether an outage is in progress.
func (r *Reporter) Down() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down
}
