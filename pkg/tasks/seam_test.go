package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// memCursors is an in-memory LogCursors and LogCursorSaver keyed by host and
// container. Like the store, a cursor never moves backwards.
type memCursors struct {
	mu   sync.Mutex
	rows map[string]store.ContainerLogState
}

func (m *memCursors) LogStates(_ context.Context, hostID int64) (map[string]store.ContainerLogState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]store.ContainerLogState{}
	for _, r := range m.rows {
		if r.WorkerHostID == hostID {
			out[r.ContainerName] = r
		}
	}
	return out, nil
}

func (m *memCursors) SaveLogState(_ context.Context, hostID int64, name string, last time.Time, known []string) error {
	b, err := json.Marshal(known)
	if err != nil {
		return fmt.Errorf("encode known templates: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[string]store.ContainerLogState{}
	}
	key := fmt.Sprint(hostID, "/", name)
	if old, ok := m.rows[key]; ok && old.LastSuccessAt.After(last) {
		last = old.LastSuccessAt
	}
	m.rows[key] = store.ContainerLogState{WorkerHostID: hostID, ContainerName: name, LastSuccessAt: last, KnownTemplates: b}
	return nil
}

// memTx is a ResultTx: artifacts in a slice, cursors in memCursors.
type memTx struct {
	*memCursors
	artifacts []store.NewArtifact
	findings  []store.Finding
}

func (tx *memTx) SaveArtifacts(_ context.Context, _, _ int64, arts []store.NewArtifact) error {
	tx.artifacts = append(tx.artifacts, arts...)
	return nil
}

// fixedAllowList allows the named containers on every host.
type fixedAllowList []string

func (a fixedAllowList) AllowlistForHost(_ context.Context, hostID int64) ([]store.ContainerAllowlistEntry, error) {
	out := make([]store.ContainerAllowlistEntry, 0, len(a))
	for _, n := range a {
		out = append(out, store.ContainerAllowlistEntry{WorkerHostID: &hostID, ContainerName: n, Enabled: true})
	}
	return out, nil
}

type memLLMCalls struct {
	mu    sync.Mutex
	calls []store.LLMCall
}

func (m *memLLMCalls) RecordLLMCall(_ context.Context, c *store.LLMCall) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, *c)
	return nil
}

// TestLogTriageWithFakes runs log_triage through Env's interfaces alone: no
// database, no Docker daemon. The first run reads the allow-listed
// container, calls the LLM and records its tokens; its cursor moves only on
// SaveInTx; the second run reads only what came after the cursor.
func TestLogTriageWithFakes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	eng := newFakeEngine(t)
	eng.add("aaaa11112222", "web",
		fakeLine{base, "ERROR failed to connect to db 10.0.0.1:5432"},
		fakeLine{base.Add(time.Second), "INFO request served"},
		fakeLine{base.Add(2 * time.Second), "ERROR failed to connect to db 10.0.0.2:5432"})
	eng.add("bbbb11112222", "secret", fakeLine{base, "ERROR not for our eyes"})
	llmSrv := httptest.NewServer(&fakeLLM{})
	t.Cleanup(llmSrv.Close)

	cursors := &memCursors{}
	llmCalls := &memLLMCalls{}
	job := store.Job{ID: 41, RunID: 40, TaskType: domain.TaskLogTriage}
	env := Env{Job: job, Host: &store.WorkerHost{ID: 7, Name: "fake", Type: domain.HostDockerTCP},
		AllowList: fixedAllowList{"web"}, LogCursors: cursors, LLMCalls: llmCalls, Logger: zap.NewNop()}
	task := LogTriage(eng, LLMConfig{URL: llmSrv.URL, Model: "m", Timeout: 5 * time.Second})

	res, err := task.Run(ctx, env)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if res.Data["lines_read"] != 3 || res.Data["containers_out_of_scope"] != 1 {
		t.Errorf("first run data = %v, want 3 lines, 1 out of scope", res.Data)
	}
	if strings.Contains(res.ReportMarkdown, "not for our eyes") {
		t.Error("report holds a line of a container off the allow-list")
	}
	if len(llmCalls.calls) != 1 || llmCalls.calls[0].TotalTokens != 366 || *llmCalls.calls[0].JobID != job.ID {
		t.Errorf("recorded llm calls = %+v", llmCalls.calls)
	}
	if st, _ := cursors.LogStates(ctx, 7); len(st) != 0 {
		t.Fatalf("cursor moved before commit: %v", st)
	}

	tx := &memTx{memCursors: cursors}
	if err := res.SaveInTx(ctx, tx, job); err != nil {
		t.Fatalf("save: %v", err)
	}
	if len(tx.artifacts) != 2 {
		t.Errorf("saved %d artifacts, want report.md and log_triage.json", len(tx.artifacts))
	}
	st, _ := cursors.LogStates(ctx, 7)
	if c, ok := st["web"]; !ok || !c.LastSuccessAt.After(base.Add(2*time.Second)) {
		t.Fatalf("cursor of web after commit = %+v", st)
	}

	eng.add("aaaa11112222", "web", fakeLine{base.Add(3 * time.Second), "WARN slow query"})
	res, err = task.Run(ctx, env)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if res.Data["lines_read"] != 1 {
		t.Errorf("second run read %v lines, want only the 1 after the cursor", res.Data["lines_read"])
	}
}

func (tx *memTx) SaveFindings(_ context.Context, fs []store.Finding) error {
	tx.findings = append(tx.findings, fs...)
	return nil
}

func (tx *memTx) SaveTriageState(_ context.Context, hostID int64, name string, miner, baselines []byte, imageID string) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	key := fmt.Sprintf("%d/%s", hostID, name)
	row := tx.rows[key]
	row.MinerState, row.Baselines, row.ImageID = miner, baselines, imageID
	tx.rows[key] = row
	return nil
}
