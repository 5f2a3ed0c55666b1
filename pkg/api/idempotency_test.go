package api

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestLaunchIdempotencyKey: a launch retried with the same Idempotency-Key
// (the client saw a connection reset after the server committed) answers
// the original run with 200 instead of creating another; the same key with
// a different body is a 422; after 24 hours the key is free again.
func TestLaunchIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const key = "6f1c1e0a-launch-key"
	first := e.do(http.MethodPost, "/api/runs/launch/", `{"tasks":["log_triage"]}`, HeaderIdempotencyKey, key)
	if first.Status != http.StatusCreated || first.Header.Get(headerReplayed) != "" {
		t.Fatalf("first launch: %d %s", first.Status, first.Body)
	}
	runID := first.json(t)["id"]
	// The same request, spelled differently, is the same request.
	again := e.do(http.MethodPost, "/api/runs/launch/", ` { "tasks" : [ "log_triage" ] } `, HeaderIdempotencyKey, key)
	if again.Status != http.StatusOK || again.Header.Get(headerReplayed) != "true" {
		t.Fatalf("retry: %d %v %s", again.Status, again.Header, again.Body)
	}
	if m := again.json(t); m["id"] != runID || len(listAt(t, m, "jobs")) != 1 {
		t.Errorf("retry answered %v, want run %v with its jobs", m["id"], runID)
	}
	before := e.counts()
	r := e.do(http.MethodPost, "/api/runs/launch/", `{"tasks":["service_map"]}`, HeaderIdempotencyKey, key)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("other body, same key: %d %s", r.Status, r.Body)
	}
	if m := isJSONError(t, r); !strings.Contains(m["error"].(string), "Idempotency-Key") {
		t.Errorf("422 without the reason: %s", r.Body)
	}
	e.sameRows("reused key", before)
	// Without a key nothing changes: every launch is a new run.
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	if n := e.scalar(`SELECT count(*) FROM runs`); n != int64(3) {
		t.Errorf("%v runs, want 3", n)
	}
	// A day later the key names nothing.
	e.exec(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours'`)
	if r := e.do(http.MethodPost, "/api/runs/launch/", `{"tasks":["service_map"]}`, HeaderIdempotencyKey, key); r.Status != http.StatusCreated {
		t.Errorf("expired key: %d %s", r.Status, r.Body)
	}
	// A failed launch records no key: the corrected retry is not refused.
	e.must(400, "POST", "/api/runs/launch/", `{"tasks":["nope"]}`)
	if r := e.do(http.MethodPost, "/api/runs/launch/", `{"tasks":["nope"]}`, HeaderIdempotencyKey, "k-bad"); r.Status != http.StatusBadRequest {
		t.Errorf("bad launch with key: %d %s", r.Status, r.Body)
	}
	if r := e.do(http.MethodPost, "/api/runs/launch/", `{"tasks":["noop_disabled_no"]}`, HeaderIdempotencyKey, "k-bad"); r.Status != http.StatusBadRequest {
		t.Errorf("other bad launch, same key: %d %s", r.Status, r.Body)
	}
	e.noServerErrors()
}

// TestIdempotencyKeyRaces: retries racing each other with one key create
// one run, and every one of them answers it.
func TestIdempotencyKeyRaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 8
	var wg sync.WaitGroup
	res := make([]resp, n)
	for i := range n {
		wg.Go(func() {
			res[i] = e.do(http.MethodPost, "/api/runs/launch/", `{"tasks":["log_triage"]}`, HeaderIdempotencyKey, "race")
		})
	}
	wg.Wait()
	created := 0
	for _, r := range res {
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r.json(t)["id"] != res[0].json(t)["id"] {
			t.Errorf("answers name different runs: %s vs %s", r.Body, res[0].Body)
		}
	}
	if created != 1 || e.scalar(`SELECT count(*) FROM runs`) != int64(1) {
		t.Errorf("%d answers created a run, %v runs exist; want 1", created, e.scalar(`SELECT count(*) FROM runs`))
	}
}

// TestRunNowIdempotencyKey: run-now takes the header too; its keys do not
// clash with launches', and the same key on another schedule is a 422.
func TestRunNowIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/schedules/", `{"name":"a","task_key":"log_triage","schedule_type":"interval","interval_minutes":60}`)
	e.must(201, "POST", "/api/schedules/", `{"name":"b","task_key":"log_triage","schedule_type":"interval","interval_minutes":60}`)
	first := e.do(http.MethodPost, "/api/schedules/1/run-now/", "", HeaderIdempotencyKey, "same")
	if first.Status != http.StatusCreated {
		t.Fatalf("%d %s", first.Status, first.Body)
	}
	again := e.do(http.MethodPost, "/api/schedules/1/run-now/", "", HeaderIdempotencyKey, "same")
	if again.Status != http.StatusOK || again.json(t)["run_id"] != first.json(t)["run_id"] || again.Header.Get(headerReplayed) != "true" {
		t.Errorf("retry: %d %s, first %s", again.Status, again.Body, first.Body)
	}
	if r := e.do(http.MethodPost, "/api/schedules/2/run-now/", "", HeaderIdempotencyKey, "same"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("same key, other schedule: %d %s", r.Status, r.Body)
	}
	if r := e.do(http.MethodPost, "/api/runs/launch/", `{}`, HeaderIdempotencyKey, "same"); r.Status != http.StatusCreated {
		t.Errorf("a launch with a run-now's key: %d %s", r.Status, r.Body)
	}
	if n := e.scalar(`SELECT count(*) FROM runs`); n != int64(2) {
		t.Errorf("%v runs, want 2", n)
	}
	for _, bad := range []string{"has space", strings.Repeat("k", 201), "tab\there", "ü"} {
		r := e.do(http.MethodPost, "/api/schedules/1/run-now/", "", HeaderIdempotencyKey, bad)
		if r.Status != http.StatusBadRequest || len(fieldErrors(t, r)[HeaderIdempotencyKey]) == 0 {
			t.Errorf("key %q: %d %s", bad, r.Status, r.Body)
		}
	}
}
