package tasks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// LogTriageConfig is log_triage's task config (task definition default_config
// merged with the directive's task_config).
type LogTriageConfig struct {
	// Scope: "allowlist" (default) reads allow-listed containers only, "all"
	// every container of the host.
	Scope string `json:"scope"`
	// Window is how far back the first triage of a container reads (Go
	// duration, default "24h"). Later triages read from the last successful one.
	Window string `json:"window"`
	// Tail caps the lines read per container and triage (default 5000).
	Tail int `json:"tail"`
	// Top is how many templates per container the report lists (default 10).
	Top int `json:"top"`
}

func defaultLogTriageConfig() LogTriageConfig {
	return LogTriageConfig{Scope: ScopeAllowlist, Window: "24h", Tail: 5000, Top: 10}
}

// maxLogBytes bounds what one container's logs may cost in memory.
const maxLogBytes = 64 << 20

// maxKnownTemplates bounds the template keys remembered per container.
const maxKnownTemplates = 2000

// containerTriage is the outcome for one container.
type containerTriage struct {
	Name        string                  `json:"name"`
	ID          string                  `json:"id"`
	Image       string                  `json:"image"`
	State       string                  `json:"state"`
	Since       time.Time               `json:"since"`
	FirstTriage bool                    `json:"first_triage"`
	Lines       int                     `json:"lines"`
	Truncated   bool                    `json:"truncated"`
	LevelCounts map[logtriage.Level]int `json:"level_counts"`
	Issues      int                     `json:"issues"`
	Templates   []logtriage.Template    `json:"templates"`
	// TemplatesTotal counts every template found, not only the listed top.
	TemplatesTotal int      `json:"templates_total"`
	NewTemplates   []string `json:"new_templates"`
	Error          string   `json:"error,omitempty"`
	// Docker is the engine's word on the container since the last triage.
	Docker dockerDiag `json:"docker"`
	// Trends of the issue templates against their baselines.
	Trends []logtriage.Trend `json:"trends,omitempty"`

	minerState []byte
	baselines  []byte

	cursor time.Time
	known  []string
	top    int
}

// maxJSONTemplates caps the templates per container kept in log_triage.json.
const maxJSONTemplates = 200

// topTemplates are the ones the report lists.
func (c *containerTriage) topTemplates() []logtriage.Template {
	if len(c.Templates) > c.top {
		return c.Templates[:c.top]
	}
	return c.Templates
}

// LogTriage reads the logs of the host's containers in scope since their last
// successful triage and groups what goes wrong into templates.
func LogTriage(pool EngineClients, llm LLMConfig) Task {
	return TaskFunc(func(ctx context.Context, env Env) (*Result, error) {
		cfg := defaultLogTriageConfig()
		if err := decodeConfig(env, &cfg); err != nil {
			return nil, err
		}
		if err := checkScope("log_triage", cfg.Scope); err != nil {
			return nil, err
		}
		window, err := time.ParseDuration(cfg.Window)
		if err != nil || window <= 0 {
			return nil, domain.Permanentf("log_triage: config window %q: want a positive Go duration like 24h", cfg.Window)
		}
		if cfg.Tail <= 0 {
			cfg.Tail = 5000
		}
		if cfg.Top <= 0 {
			cfg.Top = 10
		}
		cli, err := hostClient(pool, env)
		if err != nil {
			return nil, err
		}
		containers, outOfScope, err := scopedContainers(ctx, cli, env, cfg.Scope)
		if err != nil {
			return nil, err
		}
		states, err := env.LogCursors.LogStates(ctx, env.Host.ID)
		if err != nil {
			return nil, domain.Retryable(err)
		}
		now := time.Now().UTC()
		var results []*containerTriage
		for _, c := range containers {
			ct, err := triageContainer(ctx, cli, env.Host, c, states, now.Add(-window), cfg)
			if err != nil {
				return nil, err
			}
			results = append(results, ct)
		}
		rep := logTriageReport{Host: env.Host.Name, Scope: cfg.Scope, Window: cfg.Window, Tail: cfg.Tail,
			GeneratedAt: now, Containers: results, OutOfScope: outOfScope}
		if llm.Enabled() && rep.issues() > 0 {
			rep.LLM = summarize(ctx, env, llm, rep.llmPrompt(20))
		}
		return rep.result(env)
	})
}

// triageContainer reads and analyses one container. A container that
// vanished between list and read is reported, not fatal to the job.
func triageContainer(ctx context.Context, cli *client.Client, host *store.WorkerHost, c container.Summary,
	states map[string]store.ContainerLogState, firstSince time.Time, cfg LogTriageConfig,
) (*containerTriage, error) {
	name := containerName(c)
	ct := &containerTriage{top: cfg.Top, Name: name, ID: shortID(c.ID), Image: c.Image, State: c.State, Since: firstSince, FirstTriage: true}
	known := map[string]bool{}
	var ms logtriage.MinerState
	base := map[string]logtriage.Baseline{}
	lastImage := ""
	if st, ok := states[name]; ok {
		// A damaged state only costs its memory: the triage starts afresh.
		_ = json.Unmarshal(st.MinerState, &ms)
		_ = json.Unmarshal(st.Baselines, &base)
		lastImage = st.ImageID
		ct.Since = st.LastSuccessAt.UTC()
		ct.FirstTriage = false
		var keys []string
		if len(st.KnownTemplates) > 0 {
			_ = json.Unmarshal(st.KnownTemplates, &keys)
		}
		for _, k := range keys {
			known[k] = true
		}
		ct.known = keys
	}
	ct.cursor = ct.Since
	now := time.Now().UTC()
	lines, info, err := readLogs(ctx, cli, c.ID, ct.Since, cfg.Tail)
	if err == nil {
		// Events are best effort: an engine that cannot stream them still
		// gets its logs triaged, and the report says why events are missing.
		var derr error
		if ct.Docker, derr = diagnose(ctx, cli, info, ct.Since, now, lastImage); derr != nil {
			ct.Docker.EventsError = derr.Error()
		}
	}
	if err != nil {
		if isNotFound(err) {
			ct.Error = "container removed before its logs could be read"
			return ct, nil
		}
		return nil, dockerhost.Classify(host, fmt.Sprintf("read logs of container %q", name), err)
	}
	miner := logtriage.RestoreMiner(ms)
	a := logtriage.AnalyzeWith(lines, miner, known)
	var next map[string]logtriage.Baseline
	ct.Trends, next = logtriage.Trends(a.Templates, base, now.Sub(ct.Since))
	if ct.minerState, err = json.Marshal(miner.State()); err == nil {
		ct.baselines, err = json.Marshal(next)
	}
	if err != nil {
		return nil, domain.Permanentf("log_triage: encode triage state of %q: %v", name, err)
	}
	ct.Lines = a.Lines
	ct.Truncated = a.Lines >= cfg.Tail
	ct.LevelCounts = a.LevelCounts
	ct.Issues = a.Issues()
	ct.TemplatesTotal = len(a.Templates)
	for _, t := range a.Templates {
		if t.New {
			ct.NewTemplates = append(ct.NewTemplates, t.Pattern)
		}
		if !known[t.Key] {
			known[t.Key] = true
			ct.known = append(ct.known, t.Key)
		}
	}
	if len(ct.known) > maxKnownTemplates {
		ct.known = ct.known[len(ct.known)-maxKnownTemplates:]
	}
	ct.Templates = a.Templates
	if len(ct.Templates) > maxJSONTemplates {
		ct.Templates = ct.Templates[:maxJSONTemplates]
	}
	if !a.LastTime.IsZero() {
		ct.cursor = cursorAfter(a.LastTime)
	}
	return ct, nil
}

// cursorAfter is where the next triage starts after a line stamped last. The
// engine's since filter is inclusive and Postgres keeps microseconds, so the
// cursor is the first whole microsecond after the line: a cursor truncated on
// storage would read the last line again.
func cursorAfter(last time.Time) time.Time {
	c := last.Truncate(time.Microsecond)
	return c.Add(time.Microsecond)
}

// readLogs reads a container's stdout and stderr since a time, bounded by
// tail lines, and splits the multiplexed stream (containers without a TTY)
// into timestamped lines.
func readLogs(ctx context.Context, cli *client.Client, id string, since time.Time, tail int) ([]logtriage.Line, container.InspectResponse, error) {
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, info, err
	}
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Timestamps: true,
		Since: since.Format(time.RFC3339Nano), Tail: strconv.Itoa(tail),
	})
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	var stdout, stderr bytes.Buffer
	body := io.LimitReader(rc, maxLogBytes)
	if info.Config != nil && info.Config.Tty {
		_, err = io.Copy(&stdout, body)
	} else {
		_, err = stdcopy.StdCopy(&stdout, &stderr, body)
	}
	if err != nil {
		return nil, info, err
	}
	lines := splitTimestamped(stdout.Bytes(), "stdout")
	return append(lines, splitTimestamped(stderr.Bytes(), "stderr")...), info, nil
}

// splitTimestamped parses "RFC3339Nano text" lines as written with
// Timestamps: true.
func splitTimestamped(b []byte, stream string) []logtriage.Line {
	var out []logtriage.Line
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		ts, text, ok := strings.Cut(line, " ")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil {
			// A continuation of an overlong line: no timestamp of its own.
			t, text = time.Time{}, line
			if n := len(out); n > 0 {
				t = out[n-1].Time
			}
		}
		out = append(out, logtriage.Line{Time: t, Stream: stream, Text: text})
	}
	return out
}
