package main

// The shape benchmark's floors: the least work that writes the same rows as
// the product, on the same PostgreSQL cluster, in a scratch database of its
// own with the product's schema (same tables, indexes, constraints).
//
//   - launch floor: a bare net/http + pgx endpoint, one statement (one
//     transaction) per launch inserting the run, the one-shot schedule, the
//     job and the ScheduledRun — the four rows a launch writes;
//   - drain floor: 4 connections, each looping claim+start (one statement:
//     jobs FOR UPDATE SKIP LOCKED, jobs → running, a job_attempt, ScheduledRun
//     started, schedule no longer due, run running) and complete (one
//     statement: job, attempt, ScheduledRun, run finished) on batches of 100;
//   - wake-up floor: a launch (one commit), NOTIFY, and a LISTENing
//     connection that claims and starts the job in one statement (one round
//     trip, one commit).

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// floorLaunchSQL inserts one launch: run, one one-shot schedule per task, one
// job per task (available at once: the floor has no hand-off step) and one
// ScheduledRun per job.
const floorLaunchSQL = `
WITH r AS (INSERT INTO runs (directive_snapshot) VALUES ('{}') RETURNING id),
t AS MATERIALIZED (
    SELECT r.id AS run_id, x.task, x.pos - 1 AS pos,
           nextval('schedules_id_seq') AS schedule_id, nextval('jobs_id_seq') AS job_id
    FROM r, unnest($1::text[]) WITH ORDINALITY AS x(task, pos)
), s AS (
    INSERT INTO schedules (id, name, task, enabled, schedule_type, next_run_at, due_at)
    SELECT schedule_id, 'launch-run-' || run_id || '-' || task, task, true, 'one_shot', now(), now() FROM t
), j AS (
    INSERT INTO jobs (id, run_id, schedule_id, task_type, position, available_at)
    SELECT job_id, run_id, schedule_id, task, pos, now() FROM t
), sr AS (
    INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for)
    SELECT schedule_id, run_id, job_id, now() FROM t
)
SELECT id FROM r`

// floorStartSQL claims up to $1 ready jobs and starts them.
const floorStartSQL = `
WITH c AS (
    SELECT id FROM jobs
    WHERE status = 'pending' AND available_at IS NOT NULL AND available_at <= now()
    ORDER BY available_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
), j AS (
    UPDATE jobs SET status = 'running', attempt = 1, claimed_by = $2,
                    claimed_until = now() + interval '2 minutes', started_at = now()
    FROM c WHERE jobs.id = c.id
    RETURNING jobs.id, jobs.run_id, jobs.schedule_id
), a AS (
    INSERT INTO job_attempts (job_id, attempt, claimant) SELECT id, 1, $2 FROM j
), sr AS (
    UPDATE scheduled_runs SET status = 'started', started_at = now() FROM j WHERE scheduled_runs.job_id = j.id
), s AS (
    UPDATE schedules SET due_at = NULL, last_run_at = now() FROM j WHERE schedules.id = j.schedule_id
), r AS (
    UPDATE runs SET status = 'running', started_at = now() FROM j WHERE runs.id = j.run_id
)
SELECT id FROM j`

// floorCompleteSQL finishes the jobs $1.
const floorCompleteSQL = `
WITH j AS (
    UPDATE jobs SET status = 'completed', completed_at = now(), claimed_by = '', claimed_until = NULL,
                    result = '{"summary":"ok"}'
    WHERE id = ANY($1) RETURNING id, run_id
), a AS (
    UPDATE job_attempts SET outcome = 'completed', ended_at = now()
    FROM j WHERE job_attempts.job_id = j.id AND job_attempts.attempt = 1
), sr AS (
    UPDATE scheduled_runs SET status = 'finished', finished_at = now() FROM j WHERE scheduled_runs.job_id = j.id
), r AS (
    UPDATE runs SET status = 'completed', completed_at = now() FROM j WHERE runs.id = j.run_id
)
SELECT count(*) FROM j`

// floorLaunchServer serves POST /api/runs/launch/ ({"tasks":[...]}) with one
// floorLaunchSQL per request; it answers 201 {"id":run}.
func floorLaunchServer(ctx context.Context, db *pgxpool.Pool) (string, func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/runs/launch/", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Tasks []string `json:"tasks"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Tasks) == 0 {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var id int64
		if err := db.QueryRow(r.Context(), floorLaunchSQL, req.Tasks).Scan(&id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]int64{"id": id})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// floorDrain drains every ready job with workers connections, each looping
// claim+start and complete on batches of batch jobs, and returns how many
// jobs it finished.
func floorDrain(ctx context.Context, url string, workers, batch int) (int, error) {
	var mu sync.Mutex
	var total int
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, err
		}
		defer conn.Close(ctx)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			claimant := fmt.Sprintf("floor-%d", w)
			ids := make([]int64, 0, batch)
			for {
				ids = ids[:0]
				rows, err := conn.Query(ctx, floorStartSQL, batch, claimant)
				if err == nil {
					ids, err = pgx.AppendRows(ids, rows, pgx.RowTo[int64])
				}
				if err == nil && len(ids) > 0 {
					_, err = conn.Exec(ctx, floorCompleteSQL, ids)
				}
				mu.Lock()
				total += len(ids)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil || len(ids) == 0 {
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return total, firstErr
}

// floorWake launches n runs one at a time through floorLaunchSQL followed by
// a NOTIFY; a LISTENing connection claims and starts each in one statement.
// It returns the runs' ids (latency is read from the rows, as the product's).
func floorWake(ctx context.Context, url string, db *pgxpool.Pool, n int) ([]int64, error) {
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN bench_floor_wake"); err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			if _, err := listener.WaitForNotification(lctx); err != nil {
				return
			}
			_, err := listener.Exec(lctx, floorStartSQL, 100, "floor-wake")
			started <- err
		}
	}()
	ids := make([]int64, 0, n)
	for i := 0; i < n; i++ {
		var id int64
		if err := db.QueryRow(ctx, floorLaunchSQL, []string{"noop"}).Scan(&id); err != nil {
			return nil, err
		}
		if _, err := db.Exec(ctx, "SELECT pg_notify('bench_floor_wake', '')"); err != nil {
			return nil, err
		}
		select {
		case err := <-started:
			if err != nil {
				return nil, err
			}
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("floor wake-up: no start within 10s")
		}
		ids = append(ids, id)
		time.Sleep(2 * time.Millisecond)
	}
	return ids, nil
}

// startLatencies returns, sorted, jobs.started_at − runs.created_at of the
// runs ids (database clock).
func startLatencies(ctx context.Context, db *pgxpool.Pool, ids []int64) ([]time.Duration, error) {
	rows, err := db.Query(ctx, `SELECT extract(epoch FROM j.started_at - r.created_at)::float8
		FROM runs r JOIN jobs j ON j.run_id = r.id WHERE r.id = ANY($1) AND j.started_at IS NOT NULL`, ids)
	if err != nil {
		return nil, err
	}
	secs, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		return nil, err
	}
	if len(secs) != len(ids) {
		return nil, fmt.Errorf("%d of %d runs started", len(secs), len(ids))
	}
	out := make([]time.Duration, len(secs))
	for i, s := range secs {
		out[i] = time.Duration(s * float64(time.Second))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// drainRate reads the drain from the rows: jobs started and finished, and
// the time from the first start to the last completion (database clock).
func drainRate(ctx context.Context, db *pgxpool.Pool) (int64, time.Duration, error) {
	var n int64
	var secs float64
	err := db.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM max(completed_at) - min(started_at)), 0)::float8
		FROM jobs WHERE status = 'completed'`).Scan(&n, &secs)
	return n, time.Duration(secs * float64(time.Second)), err
}
