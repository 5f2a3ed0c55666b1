package tasks

import (
	"context"
	"encoding/json"
	"time"
)

// Noop touches nothing: it sleeps for config sleep_ms (default 0) and
// succeeds. It exists to check and benchmark the pipeline itself.
func Noop() Task {
	return TaskFunc(func(ctx context.Context, env Env) (*Result, error) {
		var cfg struct {
			SleepMS int `json:"sleep_ms"`
		}
		_ = json.Unmarshal(env.Job.Config, &cfg)
		if cfg.SleepMS > 0 {
			t := time.NewTimer(time.Duration(cfg.SleepMS) * time.Millisecond)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		return &Result{Summary: "noop completed", Data: map[string]any{"sleep_ms": cfg.SleepMS}}, nil
	})
}
