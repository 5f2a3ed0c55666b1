package scheduler_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler/chaosdrill"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The database-fault drill of issue 10: three replicas drain noop runs on a
// private cluster the test owns, which is restarted (fast), then crashed
// (stop -m immediate) and started again. Afterwards every run is terminal
// with no duplicate or overlapping attempts, work resumed within 2 s of
// each return of the database, and while it was down the API answered 503
// (not 500, not a hang). Not parallel: the 2 s bar needs the CPU.
func TestDatabaseFaultDrill(t *testing.T) {
	const (
		dbTimeout  = time.Second
		maxAttempt = 10
		resumeBar  = 2 * time.Second
	)
	cl := testenv.NewCluster(t)
	admin, err := testenv.OpenSQL(cl.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Exec("CREATE DATABASE drill").Error; err != nil {
		t.Fatal(err)
	}
	if db, err := admin.DB(); err == nil {
		db.Close()
	}
	url := strings.Replace(cl.URL, "/postgres?", "/drill?", 1)
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.Options{MaxConns: 4, StatementTimeout: dbTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = true, max_attempts = ?,
		default_config = '{"sleep_ms": 150}' WHERE key = 'noop'`, maxAttempt).Error; err != nil {
		t.Fatal(err)
	}

	apiCore, apiLogs := observer.New(zapcore.InfoLevel)
	srv, err := api.New(api.Config{Store: st, Logger: zap.New(apiCore), DBTimeout: dbTimeout})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(srv.Close)

	core, logs := observer.New(zapcore.WarnLevel)
	d := chaosdrill.New(chaosdrill.Config{
		URL: url, TTL: 3 * time.Second, PauseFor: time.Second,
		Store:  store.Options{MaxConns: 4, StatementTimeout: dbTimeout},
		Logger: func(string) *zap.Logger { return zap.New(core) },
		Replica: scheduler.Config{
			Interval: 30 * time.Second, MaxClaim: 20, MaxConcurrent: 4, ShutdownTimeout: 5 * time.Second,
			RetryBackoff: func(int) time.Duration { return 50 * time.Millisecond },
		},
	})
	t.Cleanup(func() {
		if err := d.Stop(20 * time.Second); err != nil {
			t.Error(err)
		}
	})
	for range 3 {
		if _, err := d.Start(); err != nil {
			t.Fatal(err)
		}
	}

	launched := 0
	// launch queues n runs, retrying each while the database is still
	// coming back (a client would retry a 503 the same way).
	launch := func(n int) {
		t.Helper()
		for range n {
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"noop"}})
				if err == nil {
					launched++
					break
				}
				if !store.IsUnavailable(err) || time.Now().After(deadline) {
					t.Fatalf("launch: %v", err)
				}
			}
		}
	}
	// backlog queues n runs in one transaction, so that work is certainly
	// pending when the database goes away right after (n sequential
	// launches on a loaded machine can be drained as fast as they come).
	backlog := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for n > 0 {
			reqs := make([]store.LaunchRequest, n)
			for i := range reqs {
				reqs[i] = store.LaunchRequest{Tasks: []string{"noop"}}
			}
			for _, r := range st.LaunchBatch(ctx, reqs) {
				switch {
				case r.Err == nil:
					launched++
					n--
				case !store.IsUnavailable(r.Err) || time.Now().After(deadline):
					t.Fatalf("launch: %v", r.Err)
				}
			}
		}
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := testenv.SQL(t, st).Raw("SELECT count(*) FROM "+q, args...).Scan(&n).Error
			if err == nil {
				return n
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
		}
	}
	// resumed asserts that a job started within resumeBar of up, the moment
	// the database accepted connections again; a backlog is pending then.
	resumed := func(what string, up time.Time) {
		t.Helper()
		eventually(t, 15*time.Second, what+": a job started after the database came back", func() bool {
			return count("job_attempts WHERE started_at >= ?", up) > 0
		})
		var first time.Time
		if err := testenv.SQL(t, st).Raw(`SELECT min(started_at) FROM job_attempts WHERE started_at >= ?`, up).
			Scan(&first).Error; err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: work resumed %v after the database came back", what, first.Sub(up).Round(time.Millisecond))
		if first.Sub(up) > resumeBar {
			t.Errorf("%s: work resumed %v after the database came back, want within %v", what, first.Sub(up), resumeBar)
		}
	}
	get := func(method, path, body string) (int, string, time.Duration) {
		t.Helper()
		start := time.Now()
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		var b strings.Builder
		_, _ = fmt.Fprint(&b, res.Header.Get("Retry-After"))
		return res.StatusCode, b.String(), time.Since(start)
	}

	// Draining, then a fast restart with a backlog pending.
	launch(30)
	eventually(t, 20*time.Second, "some runs completed", func() bool { return count("runs WHERE status = 'completed'") >= 5 })
	backlog(40)
	cl.Restart("fast")
	resumed("restart -m fast", time.Now())

	// A crash with a backlog pending; the API answers 503 meanwhile.
	backlog(40)
	cl.Stop("immediate")
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/runs/", ""},
		{"POST", "/api/runs/launch/", `{"tasks":["noop"]}`},
		{"GET", "/api/runs/1/", ""},
		{"GET", "/readyz", ""},
	} {
		status, retry, took := get(r.method, r.path, r.body)
		if status != http.StatusServiceUnavailable || took > 3*dbTimeout {
			t.Errorf("%s %s while the database is down: %d after %v, want 503 within %v", r.method, r.path, status, took, 3*dbTimeout)
		}
		if r.path != "/readyz" && retry == "" {
			t.Errorf("%s %s: 503 without Retry-After", r.method, r.path)
		}
	}
	cl.Start()
	resumed("stop -m immediate, start", time.Now())

	eventually(t, 45*time.Second, "every run terminal", func() bool {
		return count("runs WHERE status NOT IN ('completed', 'failed', 'cancelled')") == 0
	})
	checks, err := chaosdrill.Checks(ctx, st, launched, maxAttempt)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(checks, d.Overlaps().NoDoubles()) {
		if len(c.Failures) > 0 {
			t.Errorf("%s:\n  %s", c.Name, strings.Join(c.Failures[:min(len(c.Failures), 10)], "\n  "))
		}
	}
	if n := count("runs WHERE status = 'failed'"); n > 0 {
		t.Errorf("%d runs failed: an outage of seconds must not use up attempts", n)
	}
	for _, l := range apiLogs.All() {
		if l.Level >= zapcore.ErrorLevel {
			t.Errorf("API logged an error (a 500): %s %v", l.Message, l.ContextMap())
		}
	}
	if n := logs.FilterMessage("scheduler pass failed").Len(); n > 0 {
		t.Errorf("%d 'scheduler pass failed' errors: an outage is a warning every few seconds", n)
	}
	t.Logf("drill: %d runs, %d outage warnings from replicas", launched, logs.FilterMessage("database unavailable").Len())
}
