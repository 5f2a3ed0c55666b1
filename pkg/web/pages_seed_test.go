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
