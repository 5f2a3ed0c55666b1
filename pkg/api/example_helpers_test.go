package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// exampleSystem is what `make run` starts, in one process: the API over
// HTTP (httptest) and one scheduler replica, on a fresh database.
type exampleSystem struct {
	URL   string
	Sched *scheduler.Scheduler
	stop  func()
}

// startExampleSystem starts the API and one scheduler replica executing
// the noop task, and enables noop (seeded disabled) through the API.
func startExampleSystem() *exampleSystem {
	st, dropDB := testenv.ExampleStore()
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv.Handler())
	sched, err := scheduler.New(scheduler.Config{
		Store:     st,
		Tasks:     tasks.Registry{"noop": tasks.Noop()},
		Claimant:  "example-replica",
		Interval:  30 * time.Second, // NOTIFY wakes the replica at once; the poll is only a fallback
		ClaimTTL:  3 * time.Second,  // heartbeats (and cancel checks) every second
		Retention: 0,
	})
	if err != nil {
		panic(err)
	}
	sched.TestSignals.Init(panicTB{}) // before Run: the waits below use them
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	sys := &exampleSystem{URL: hs.URL, Sched: sched}
	sys.stop = func() {
		cancel()
		<-done
		hs.Close()
		srv.Close()
		dropDB()
	}

	var list struct {
		Results []struct {
			ID  int64  `json:"id"`
			Key string `json:"key"`
		} `json:"results"`
	}
	sys.call(http.MethodGet, "/api/tasks/", "", &list)
	for _, td := range list.Results {
		if td.Key == "noop" {
			sys.call(http.MethodPatch, fmt.Sprintf("/api/tasks/%d/", td.ID), `{"enabled": true}`, nil)
		}
	}
	return sys
}

func (s *exampleSystem) Stop() { s.stop() }

// call sends a JSON request, decodes the JSON answer into out (when not nil)
// and returns the HTTP status.
func (s *exampleSystem) call(method, path, body string, out any) int {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			panic(fmt.Sprintf("%s %s: %d, undecodable answer: %v", method, path, res.StatusCode, err))
		}
	}
	return res.StatusCode
}

// runStatus reads a run's status through the API.
func (s *exampleSystem) runStatus(runID int64) domain.RunStatus {
	var run struct {
		Status domain.RunStatus `json:"status"`
	}
	s.call(http.MethodGet, fmt.Sprintf("/api/runs/%d/", runID), "", &run)
	return run.Status
}

// waitForRun waits until the run is terminal and returns its status. It
// does not poll: it re-reads the run each time the replica reports a batch
// of job ends written (TestSignals.Flushed; the run's status is derived in
// that batch's transaction), and panics if none comes for 10 s.
func (s *exampleSystem) waitForRun(runID int64) domain.RunStatus {
	for {
		if st := s.runStatus(runID); st.Terminal() {
			return st
		}
		s.Sched.TestSignals.Flushed.WaitOrTimeout()
	}
}

// panicTB is the testsignal.TB of an Example, which has no *testing.T: a
// wait that times out panics, failing the Example.
type panicTB struct{}

func (panicTB) Helper() {}
func (panicTB) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
