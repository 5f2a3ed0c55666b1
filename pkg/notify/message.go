package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Message is a delivery rendered for people: every channel kind sends it,
// the webhook with the raw data beside it.
type Message struct {
	Title    string
	Text     string
	URL      string // the run or host page when a public URL is set
	Severity string // critical, high, medium, low: colours and priorities
}

// Render builds the message of a delivery's payload. publicURL (no
// trailing slash) makes links; empty leaves URL empty.
func Render(d store.Delivery, publicURL string) Message {
	if d.Event == domain.EventDigest {
		return renderDigest(d.Payload, publicURL)
	}
	var env store.Envelope
	_ = json.Unmarshal(d.Payload, &env)
	return renderEvent(env, publicURL)
}

func renderEvent(env store.Envelope, publicURL string) Message {
	link := func(format string, args ...any) string {
		if publicURL == "" {
			return ""
		}
		return publicURL + fmt.Sprintf(format, args...)
	}
	switch env.Event {
	case domain.EventRunFailed:
		var d store.RunFailedData
		_ = json.Unmarshal(env.Data, &d)
		var b strings.Builder
		for _, j := range d.FailedJobs {
			fmt.Fprintf(&b, "- job %d %s (%d attempts): %s\n", j.JobID, j.TaskType, j.Attempts, j.Error)
		}
		title := fmt.Sprintf("Run %d failed", d.RunID)
		if d.Directive != "" {
			title += " (" + d.Directive + ")"
		}
		return Message{Title: title, Text: strings.TrimSpace(b.String()), URL: link("/runs/%d", d.RunID), Severity: "high"}
	case domain.EventJobAttemptLost:
		var d store.AttemptLostData
		_ = json.Unmarshal(env.Data, &d)
		what := "it will be retried"
		if !d.Retried {
			what = "no attempt is left; the job failed"
		}
		return Message{Title: fmt.Sprintf("Job %d (%s) attempt %d lost", d.JobID, d.TaskType, d.Attempt),
			Text: fmt.Sprintf("Replica %s stopped heartbeating during attempt %d of %d; %s.", d.LostBy, d.Attempt, d.MaxAttempts, what),
			URL:  link("/runs/%d", d.RunID), Severity: "medium"}
	case domain.EventHostUnhealthy, domain.EventHostRecovered:
		var d store.HostEventData
		_ = json.Unmarshal(env.Data, &d)
		if env.Event == domain.EventHostRecovered {
			return Message{Title: fmt.Sprintf("Host %s recovered", d.Host), Text: "The Docker engine answers again.",
				URL: link("/hosts/%d", d.WorkerHostID), Severity: "low"}
		}
		return Message{Title: fmt.Sprintf("Host %s is unhealthy", d.Host), Text: d.Error,
			URL: link("/hosts/%d", d.WorkerHostID), Severity: "high"}
	case domain.EventGPUHotspot:
		var d store.HotspotData
		_ = json.Unmarshal(env.Data, &d)
		return Message{Title: fmt.Sprintf("%d GPU hotspot(s)", d.Hotspots), Text: d.Summary,
			URL: link("/runs/%d", d.RunID), Severity: "medium"}
	case domain.EventFinding:
		var d store.FindingData
		_ = json.Unmarshal(env.Data, &d)
		return Message{Title: fmt.Sprintf("[%s] %s: %s", d.Severity, d.Container, d.Kind), Text: d.Statement,
			URL: link("/runs/%d", d.RunID), Severity: d.Severity}
	case domain.EventTest:
		return Message{Title: "cyberbrain test message", Text: "This channel works.", URL: link("/"), Severity: "low"}
	}
	return Message{Title: string(env.Event), Text: string(env.Data)}
}

// DigestData is the payload of a digest delivery.
type DigestData struct {
	RuleID      int64            `json:"rule_id"`
	Digest      string           `json:"digest"`
	WindowStart time.Time        `json:"window_start"`
	WindowEnd   time.Time        `json:"window_end"`
	Count       int              `json:"count"`
	Events      []store.Envelope `json:"events"`
}

func renderDigest(payload json.RawMessage, publicURL string) Message {
	var d DigestData
	_ = json.Unmarshal(payload, &d)
	var b strings.Builder
	for _, e := range d.Events {
		m := renderEvent(e, publicURL)
		b.WriteString("- " + m.Title)
		if m.URL != "" {
			b.WriteString(" " + m.URL)
		}
		b.WriteString("\n")
	}
	if more := d.Count - len(d.Events); more > 0 {
		fmt.Fprintf(&b, "… and %d more\n", more)
	}
	return Message{Title: fmt.Sprintf("%s digest: %d event(s) %s–%s UTC", d.Digest, d.Count,
		d.WindowStart.UTC().Format("2006-01-02 15:04"), d.WindowEnd.UTC().Format("15:04")),
		Text: strings.TrimSpace(b.String()), Severity: "medium"}
}
