package client

import (
	"context"
	"fmt"
	"time"
)

// Terminal reports whether a run or job status is final.
func Terminal(status string) bool {
	return status == "completed" || status == "failed" || status == "cancelled"
}

// WaitOptions bound the polling of Wait.
type WaitOptions struct {
	// First and Max bound the poll interval: it starts at First and doubles
	// up to Max (defaults 200ms and 2s), so a quick run is seen quickly and a
	// long one costs one request every Max.
	First, Max time.Duration
	// OnChange is called with the run each time its status or a job's
	// status changed since the previous poll (and once at the start).
	OnChange func(prev, cur *Run)
}

// Wait polls a run until it is terminal and returns its final state. The API
// has no push channel for run status, and a CLI waits on one run at a time,
// so bounded polling is the simple and cheap choice.
func (c *Client) Wait(ctx context.Context, id int64, o WaitOptions) (*Run, error) {
	if o.First <= 0 {
		o.First = 200 * time.Millisecond
	}
	if o.Max <= 0 {
		o.Max = 2 * time.Second
	}
	var prev *Run
	delay := o.First
	for {
		cur, err := c.Run(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("wait for run %d: %w", id, err)
		}
		if o.OnChange != nil && changed(prev, cur) {
			o.OnChange(prev, cur)
		}
		if Terminal(cur.Status) {
			return cur, nil
		}
		prev = cur
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for run %d (it goes on without us): %w", id, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, o.Max)
	}
}

func changed(prev, cur *Run) bool {
	if prev == nil || prev.Status != cur.Status || len(prev.Jobs) != len(cur.Jobs) {
		return true
	}
	for i := range cur.Jobs {
		if prev.Jobs[i].Status != cur.Jobs[i].Status {
			return true
		}
	}
	return false
}
