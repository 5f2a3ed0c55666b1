package client

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The API's error envelope survives into the error text, fields sorted, and
// a 401 says what to set.
func TestAPIErrorCarriesFields(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"missing or invalid API token"}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid schedule","fields":{"timezone":["unknown"],"cron_expr":["bad"]}}`)
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "t")
	err := c.Do(context.Background(), http.MethodPost, Schedules, nil, map[string]any{}, nil)
	if want := "POST /api/schedules/: 400 invalid schedule\n  cron_expr: bad\n  timezone: unknown"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	c, _ = New(strings.TrimPrefix(srv.URL, "http://"), "")
	if err := c.Do(context.Background(), http.MethodGet, Runs, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "CYBERBRAIN_API_TOKEN") {
		t.Errorf("401: %v", err)
	}
}

// Wait reports each change once and returns the terminal state.
func TestWaitReportsChanges(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	states := []string{"pending", "pending", "running", "completed"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := states[min(int(polls.Add(1))-1, len(states)-1)]
		fmt.Fprintf(w, `{"id":1,"status":%q,"jobs":[{"id":1,"task_type":"noop","status":%q}]}`, s, s)
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "")
	var seen []string
	run, err := c.Wait(context.Background(), 1, WaitOptions{First: time.Millisecond, Max: 2 * time.Millisecond,
		OnChange: func(_, cur *Run) { seen = append(seen, cur.Status) }})
	if err != nil || run.Status != "completed" {
		t.Fatalf("Wait: %v, %v", run, err)
	}
	if got := strings.Join(seen, ","); got != "pending,running,completed" {
		t.Errorf("changes %s", got)
	}
}
