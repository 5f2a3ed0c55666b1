package web_test

import (
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// seedPages creates what a homelab's dashboard would show — a service map
// of compose projects, a GPU report, allow-listed containers — and returns
// every page to visit.
func seedPages(t *testing.T, e *env) []page {
	t.Helper()
	const local = int64(1) // the seeded local host
	testenv.SQL(t, e.st).Exec(`UPDATE worker_hosts SET healthy = true, last_checked_at = now(), last_seen_at = now(),
		engine_version = '28.2.2' WHERE id = 1`)
	allow(t, e.st, local, "jellyfin")
	allow(t, e.st, local, "grafana")
	finishedReport(t, e.st, "service_map", local, homelabMap)
	finishedReport(t, e.st, "gpu_report", local, homelabGPUs)
	nightly := newCronSchedule(t, e, "nightly log triage", "0 2 * * *", "Europe/Berlin", true)
	newCronSchedule(t, e, "weekday GPU check", "30 9 * * 1-5", "UTC", true)
	newCronSchedule(t, e, "service map, every 15 minutes", "*/15 * * * *", "UTC", false)
	return []page{
		{"runs", "/runs"},
		{"run", "/runs/" + itoa(seedRuns(t, e))},
		{"launch", "/launch"},
		{"schedules", "/schedules"},
		{"schedule-new", "/schedules/new"},
		{"schedule", "/schedules/" + itoa(nightly.ID)},
		{"overview", "/"},
		{"hosts", "/hosts"},
		{"host", "/hosts/1"},
		{"host-map", "/hosts/1/map"},
		{"host-gpus", "/hosts/1/gpus"},
	}
}

func ctr(name, image, project, service string, nets []string, ports ...map[string]any) map[string]any {
	if ports == nil {
		ports = []map[string]any{}
	}
	return map[string]any{"name": name, "id": name + "0123456789ab", "image": image, "state": "running",
		"status": "Up 3 days", "compose_project": project, "compose_service": service, "networks": nets, "ports": ports}
}

func port(pub, priv int) map[string]any {
	return map[string]any{"ip": "0.0.0.0", "public_port": pub, "private_port": priv, "type": "tcp"}
}

var homelabMap = map[string]any{
	"host": "local", "scope": "all", "generated_at": "2026-12-02T06:00:00Z",
	"containers": []any{
		ctr("jellyfin", "jellyfin/jellyfin:10.10", "media", "jellyfin", []string{"media_default"}, port(8096, 8096)),
		ctr("sonarr", "linuxserver/sonarr:4", "media", "sonarr", []string{"media_default"}, port(8989, 8989)),
		ctr("radarr", "linuxserver/radarr:5", "media", "radarr", []string{"media_default"}, port(7878, 7878)),
		ctr("grafana", "grafana/grafana:11.3", "monitoring", "grafana", []string{"monitoring_default", "proxy"}, port(3000, 3000)),
		ctr("prometheus", "prom/prometheus:v3.0", "monitoring", "prometheus", []string{"monitoring_default"}),
		ctr("caddy", "caddy:2.8", "", "", []string{"proxy", "bridge"}, port(443, 443), port(80, 80)),
	},
	"networks": []any{
		map[string]any{"name": "media_default", "driver": "bridge", "user_defined": true, "members": []string{"jellyfin", "sonarr", "radarr"}},
		map[string]any{"name": "monitoring_default", "driver": "bridge", "user_defined": true, "members": []string{"grafana", "prometheus"}},
		map[string]any{"name": "proxy", "driver": "bridge", "user_defined": true, "members": []string{"grafana", "caddy"}},
		map[string]any{"name": "bridge", "driver": "bridge", "user_defined": false, "members": []string{"caddy"}},
	},
}

func f(v float64) *float64 { return &v }

var homelabGPUs = map[string]any{
	"host": "local", "generated_at": "2026-12-02T06:00:00Z", "method": "local",
	"gpus": []any{
		map[string]any{"index": 0, "name": "NVIDIA GeForce RTX 3060", "uuid": "GPU-3060", "utilization_percent": f(71),
			"memory_used_mib": f(9216), "memory_total_mib": f(12288), "temperature_c": f(68), "power_draw_w": f(142)},
		map[string]any{"index": 1, "name": "NVIDIA Tesla P4", "uuid": "GPU-P4", "utilization_percent": f(3),
			"memory_used_mib": f(210), "memory_total_mib": f(7680), "temperature_c": f(41), "power_draw_w": f(23)},
	},
	"compute_apps": []any{},
	"containers": []any{
		map[string]any{"name": "jellyfin", "id": "jellyfin0123", "gpus": []string{"0"}, "source": "device_request"},
	},
	"hotspots": []any{},
}

// seedRuns stores a day of runs (busiest in the last hour, a few failures,
// one pending, one running), findings, and one log_triage run with a
// rendered report, an attempt lost to a killed replica and an artifact; it
// returns that run's id.
func seedRuns(t *testing.T, e *env) int64 {
	t.Helper()
	db := testenv.SQL(t, e.st)
	for _, q := range []string{
		`INSERT INTO directives (name, description) VALUES ('homelab triage', 'Nightly look at every container')`,
		`INSERT INTO runs (directive_id, status, directive_snapshot, worker_host_id, created_at, started_at, completed_at, error_message)
		 SELECT (SELECT max(id) FROM directives), CASE WHEN g % 9 = 0 THEN 'failed' ELSE 'completed' END, '{"name":"homelab triage"}', 1,
		        now() - g * interval '47 seconds', now() - g * interval '47 seconds' + interval '1 second',
		        now() - g * interval '47 seconds' + interval '6 seconds',
		        CASE WHEN g % 9 = 0 THEN 'container web-1 exited with code 137 (OOM killed)' ELSE '' END
		 FROM generate_series(3, 140) g`,
		`INSERT INTO jobs (run_id, task_type, status, attempt, started_at, completed_at, claimed_by, worker_host_id, error_message)
		 SELECT id, (ARRAY['log_triage','service_map','gpu_report'])[1 + id % 3], status, 1, started_at, completed_at,
		        'scheduler-7f9c:1', 1, error_message FROM runs r WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id)`,
		`INSERT INTO runs (directive_id, status, directive_snapshot, worker_host_id, started_at)
		 VALUES ((SELECT max(id) FROM directives), 'running', '{"name":"homelab triage"}', 1, now()), ((SELECT max(id) FROM directives), 'pending', '{"name":"homelab triage"}', 1, NULL)`,
		`INSERT INTO findings (run_id, job_id, worker_host_id, container_name, severity, kind, rank, statement)
		 SELECT j.run_id, j.id, 1, c.name, c.sev, c.kind, 1, c.statement
		 FROM (SELECT min(id) AS id, min(run_id) AS run_id FROM jobs WHERE task_type = 'log_triage') j,
		      (VALUES ('postgres', 'critical', 'new_error', 'FATAL: remaining connection slots are reserved (new, 42 times in 5 min)'),
		              ('jellyfin', 'high', 'spike', 'Transcode failed: hardware acceleration unavailable — 12× its usual rate'),
		              ('caddy', 'medium', 'restart', 'container restarted 3 times in the last hour')) AS c(name, sev, kind, statement)`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	var id int64
	err := db.Raw(`INSERT INTO runs (directive_id, status, directive_snapshot, worker_host_id, created_at, started_at, completed_at, report_markdown)
		VALUES ((SELECT max(id) FROM directives), 'completed', '{"name":"homelab triage"}', 1, now() - interval '90 seconds', now() - interval '88 seconds', now() - interval '20 seconds', ?)
		RETURNING id`, seedReport).Scan(&id).Error
	if err != nil {
		t.Fatal(err)
	}
	var job int64
	if err := db.Raw(`INSERT INTO jobs (run_id, task_type, status, attempt, started_at, completed_at, claimed_by, worker_host_id)
		VALUES (?, 'log_triage', 'completed', 2, now() - interval '88 seconds', now() - interval '20 seconds', 'scheduler-2b1d:1', 1)
		RETURNING id`, id).Scan(&job).Error; err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO job_attempts (job_id, attempt, claimant, started_at, ended_at, outcome, error)
		 VALUES (?, 1, 'scheduler-7f9c:1', now() - interval '88 seconds', now() - interval '45 seconds', 'lost',
		         'lease lost: claimant scheduler-7f9c:1 stopped heartbeating (attempt 1 of 3)')`,
		`INSERT INTO job_attempts (job_id, attempt, claimant, started_at, ended_at, outcome)
		 VALUES (?, 2, 'scheduler-2b1d:1', now() - interval '44 seconds', now() - interval '20 seconds', 'completed')`,
		`INSERT INTO artifacts (run_id, job_id, name, content_type, size, content)
		 SELECT run_id, id, 'log_triage.json', 'application/json', 2, '{}'::bytea FROM jobs WHERE id = ?`,
	} {
		if err := db.Exec(q, job).Error; err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	return id
}

const seedReport = "# Log triage — local\n\n" +
	"3 containers need attention; 9 are quiet.\n\n" +
	"## postgres — critical\n\n" +
	"`FATAL: remaining connection slots are reserved for non-replication superuser connections` appeared " +
	"**42 times** in 5 minutes (new template).\n\n" +
	"- Likely cause: a client leaks connections, or `max_connections` is too low for the pool sizes.\n" +
	"- Check: `SELECT usename, count(*) FROM pg_stat_activity GROUP BY 1 ORDER BY 2 DESC;`\n\n" +
	"## jellyfin — high\n\n" +
	"| template | last hour | usual |\n|---|---:|---:|\n" +
	"| `Transcode failed: hardware acceleration unavailable` | 36 | 3 |\n\n" +
	"## caddy — medium\n\nRestarted 3 times in the last hour (exit code 1).\n"
