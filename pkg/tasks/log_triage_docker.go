package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// dockerDiag is what the engine says about a container since its last
// triage, beside its logs.
type dockerDiag struct {
	State        string `json:"state"`
	ExitCode     int    `json:"exit_code"`
	OOMKilled    bool   `json:"oom_killed"`
	RestartCount int    `json:"restart_count"`
	// Restarts counts the restarts seen in the window: a start after a die,
	// whether a restart policy or `docker restart` did it (a policy's
	// restart sends no "restart" event, only die then start).
	Restarts     int            `json:"restarts"`
	Health       string         `json:"health,omitempty"`
	ImageID      string         `json:"image_id"`
	ImageChanged bool           `json:"image_changed,omitempty"`
	Events       map[string]int `json:"events,omitempty"` // die, oom, restart, health_status: unhealthy…
	ExitCodes    []string       `json:"exit_codes,omitempty"`
	FirstEvent   time.Time      `json:"first_event,omitempty"`
	EventsError  string         `json:"events_error,omitempty"`
}

// maxEvents bounds the engine events read per container and triage.
const maxEvents = 1000

// diagnose reads the container's state and its engine events in [since, until].
func diagnose(ctx context.Context, cli *client.Client, info container.InspectResponse, since, until time.Time, lastImage string) (dockerDiag, error) {
	d := dockerDiag{Events: map[string]int{}, RestartCount: info.RestartCount, ImageID: info.Image}
	if info.State != nil {
		d.State, d.ExitCode, d.OOMKilled = info.State.Status, info.State.ExitCode, info.State.OOMKilled
		if info.State.Health != nil {
			d.Health = info.State.Health.Status
		}
	}
	d.ImageChanged = lastImage != "" && lastImage != info.Image
	f := filters.NewArgs(filters.Arg("type", "container"), filters.Arg("container", info.ID))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs := cli.Events(ctx, events.ListOptions{Since: since.Format(time.RFC3339Nano), Until: until.Format(time.RFC3339Nano), Filters: f})
	died := false
	for n := 0; n < maxEvents; n++ {
		select {
		case m := <-msgs:
			action := string(m.Action)
			switch {
			case action == "start":
				if !died {
					continue
				}
				died = false
				d.Restarts++
			case action == "die":
				died = true
				d.Events["die"]++
				if c := m.Actor.Attributes["exitCode"]; c != "" && c != "0" {
					d.ExitCodes = append(d.ExitCodes, c)
				}
			case action == "oom", action == "restart", strings.HasPrefix(action, "health_status"):
				d.Events[action]++
			default:
				continue
			}
			if t := time.Unix(0, m.TimeNano); d.FirstEvent.IsZero() || t.Before(d.FirstEvent) {
				d.FirstEvent = t.UTC()
			}
		case err := <-errs:
			// With Until set the engine ends the stream: EOF is the normal end.
			if err == nil || errors.Is(err, io.EOF) {
				return d, nil
			}
			return d, fmt.Errorf("read engine events of container %s: %w", shortID(info.ID), err)
		case <-ctx.Done():
			return d, fmt.Errorf("read engine events: %w", ctx.Err())
		}
	}
	return d, nil
}
