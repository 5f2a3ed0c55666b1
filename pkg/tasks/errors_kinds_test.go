package tasks

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// failingAllowList and failingCursors stand for a database that does not answer.
type failingAllowList struct{}

func (failingAllowList) AllowlistForHost(context.Context, int64) ([]store.ContainerAllowlistEntry, error) {
	return nil, errors.New("allow-list: connection reset by peer")
}

type failingCursors struct{}

func (failingCursors) LogStates(context.Context, int64) (map[string]store.ContainerLogState, error) {
	return nil, errors.New("log states: connection reset by peer")
}

// TestTaskErrorKinds: which failures the scheduler retries (docs/DESIGN.md
// §9) — engine 5xx, a database that does not answer — and which it does not:
// bad config, an engine that refuses (4xx), a job without a host.
func TestTaskErrorKinds(t *testing.T) {
	t.Parallel()
	docker := map[string]func(EngineClients) Task{
		"log_triage":  func(p EngineClients) Task { return LogTriage(p, LLMConfig{}) },
		"service_map": ServiceMap,
	}
	for name, newTask := range docker {
		for _, tc := range []struct {
			what      string
			config    string
			status    int // of GET /containers/json; 0 = answers
			allow     AllowList
			noHost    bool
			retryable bool
			contains  []string
		}{
			{what: "engine 500", status: http.StatusInternalServerError, retryable: true,
				contains: []string{`worker host "fake" (tcp://fake:2376)`, "list containers", "fake engine says no"}},
			{what: "engine 503", status: http.StatusServiceUnavailable, retryable: true, contains: []string{"list containers"}},
			{what: "engine 403", status: http.StatusForbidden, contains: []string{`worker host "fake"`, "fake engine says no"}},
			{what: "engine 400", status: http.StatusBadRequest, contains: []string{"list containers"}},
			{what: "allow-list unreadable", allow: failingAllowList{}, retryable: true, contains: []string{"allow-list"}},
			{what: "bad scope", config: `{"scope": "some"}`, contains: []string{name, `scope "some"`}},
			{what: "config not an object", config: `["scope"]`, contains: []string{name, "invalid task config"}},
			{what: "scope of the wrong type", config: `{"scope": 1}`, contains: []string{"invalid task config"}},
			{what: "no worker host", noHost: true, contains: []string{name, "needs a worker host"}},
		} {
			t.Run(name+"/"+tc.what, func(t *testing.T) {
				eng := newFakeEngine(t)
				eng.add("9999aaaa0001", "app", fakeLine{time.Now().Add(-time.Minute), "ERROR x"})
				eng.listStatus = tc.status
				allow := tc.allow
				if allow == nil {
					allow = fixedAllowList{"app"}
				}
				env := fakeEnv(name, tc.config, allow, &memCursors{})
				if tc.noHost {
					env.Host = nil
				}
				res, err := newTask(eng).Run(context.Background(), env)
				if err == nil {
					t.Fatalf("no error; result %v", res.Data)
				}
				var te *domain.TaskError
				if !errors.As(err, &te) {
					t.Errorf("err %v is not classified (domain.Retryable/Permanent)", err)
				}
				if domain.IsRetryable(err) != tc.retryable {
					t.Errorf("err %v: retryable %v, want %v", err, domain.IsRetryable(err), tc.retryable)
				}
				for _, s := range tc.contains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("err %q lacks %q", err, s)
					}
				}
			})
		}
	}

	t.Run("log_triage/cursors unreadable", func(t *testing.T) {
		eng := newFakeEngine(t)
		eng.add("9999aaaa0001", "app")
		env := fakeEnv(domain.TaskLogTriage, "", fixedAllowList{"app"}, nil)
		env.LogCursors = failingCursors{}
		_, err := LogTriage(eng, LLMConfig{}).Run(context.Background(), env)
		if err == nil || !domain.IsRetryable(err) || !strings.Contains(err.Error(), "log states") {
			t.Errorf("err = %v, want retryable", err)
		}
	})
	t.Run("log_triage/bad window", func(t *testing.T) {
		for _, w := range []string{"soon", "-1h", "0s"} {
			_, err := LogTriage(newFakeEngine(t), LLMConfig{}).Run(context.Background(),
				fakeEnv(domain.TaskLogTriage, `{"window": "`+w+`"}`, fixedAllowList{}, &memCursors{}))
			if err == nil || domain.IsRetryable(err) || !strings.Contains(err.Error(), "window") {
				t.Errorf("window %q: err = %v, want permanent", w, err)
			}
		}
	})
	t.Run("gpu_report/bad config", func(t *testing.T) {
		for _, cfg := range []string{`{"scope": "none"}`, `{"image": 5}`} {
			_, err := GPUReport(newFakeEngine(t)).Run(context.Background(), fakeEnv(domain.TaskGPUReport, cfg, fixedAllowList{}, nil))
			if err == nil || domain.IsRetryable(err) {
				t.Errorf("config %s: err = %v, want permanent", cfg, err)
			}
		}
	})
	t.Run("unknown config keys are ignored", func(t *testing.T) {
		eng := newFakeEngine(t)
		eng.add("9999aaaa0001", "app", fakeLine{time.Now().Add(-time.Minute), "ERROR x"})
		for name, task := range map[string]Task{"log_triage": LogTriage(eng, LLMConfig{}), "service_map": ServiceMap(eng)} {
			if _, err := task.Run(context.Background(), fakeEnv(name, `{"future_option": true}`, fixedAllowList{"app"}, &memCursors{})); err != nil {
				t.Errorf("%s with an unknown key: %v", name, err)
			}
		}
	})
}

// TestNoopTask: noop sleeps sleep_ms and succeeds; a cancelled context stops
// the sleep at once with the context's error.
func TestNoopTask(t *testing.T) {
	t.Parallel()
	res, err := Noop().Run(context.Background(), Env{Job: store.Job{Config: store.JSON(`{"sleep_ms": 1}`)}})
	if err != nil || res.Summary != "noop completed" || res.Data["sleep_ms"] != 1 {
		t.Fatalf("noop = %+v, %v", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err = Noop().Run(ctx, Env{Job: store.Job{Config: store.JSON(`{"sleep_ms": 600000}`)}})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled noop: err %v after %s", err, time.Since(start))
	}
}

// TestSaveInTxOrder: an accepted result stores its artifacts and then runs
// OnCommit; a failing OnCommit fails the save with the job named; a nil
// result stores nothing.
func TestSaveInTxOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := &memTx{memCursors: &memCursors{}}
	var sawArtifacts int
	res := &Result{Artifacts: []Artifact{markdownArtifact("# x")}, OnCommit: func(ctx context.Context, s LogCursorSaver) error {
		sawArtifacts = len(tx.artifacts)
		return s.SaveLogState(ctx, 1, "c", time.Unix(100, 0), nil)
	}}
	if err := res.SaveInTx(ctx, tx, store.Job{ID: 5, RunID: 4}); err != nil {
		t.Fatal(err)
	}
	if sawArtifacts != 1 || tx.artifacts[0].Name != "report.md" || tx.artifacts[0].ContentType != "text/markdown; charset=utf-8" {
		t.Errorf("artifacts %+v stored before OnCommit: %d", tx.artifacts, sawArtifacts)
	}
	if st, _ := tx.LogStates(ctx, 1); !st["c"].LastSuccessAt.Equal(time.Unix(100, 0)) {
		t.Errorf("cursor = %+v", st)
	}
	bad := &Result{OnCommit: func(context.Context, LogCursorSaver) error { return errors.New("boom") }}
	if err := bad.SaveInTx(ctx, tx, store.Job{ID: 5}); err == nil || !strings.Contains(err.Error(), "job 5 on-commit: boom") {
		t.Errorf("failing OnCommit: %v", err)
	}
	var none *Result
	if err := none.SaveInTx(ctx, tx, store.Job{ID: 6}); err != nil || len(tx.artifacts) != 1 {
		t.Errorf("nil result: %v, artifacts %d", err, len(tx.artifacts))
	}
}
