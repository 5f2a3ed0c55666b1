package notify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Validate accepts each kind's documented options and names the field of
// every problem.
func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind              domain.ChannelKind
		settings, secrets string
		bad               string // "" = valid
	}{
		{domain.ChannelWebhook, `{}`, `{"url":"https://h.example/x","secret":"k"}`, ""},
		{domain.ChannelWebhook, `{}`, `{}`, "secrets.url"},
		{domain.ChannelWebhook, `{"url":"https://h"}`, `{"url":"https://h"}`, "settings.url"},
		{domain.ChannelSlack, `{}`, `{"url":"mailto:x"}`, "secrets.url"},
		{domain.ChannelDiscord, `{}`, `{"url":"https://discord.com/api/webhooks/1/a","token":"x"}`, "secrets.token"},
		{domain.ChannelNtfy, `{"topic":"t"}`, `{}`, ""},
		{domain.ChannelNtfy, `{"topic":"t","priority":9}`, `{}`, "settings.priority"},
		{domain.ChannelNtfy, `{"topic":"t","server":"ntfy.sh"}`, `{}`, "settings.server"},
		{domain.ChannelNtfy, `{"topic":"t","priority":"high"}`, `{}`, "settings"},
		{domain.ChannelEmail, `{"host":"smtp","from":"a@b.c","to":["d@e.f"]}`, `{"password":"p"}`, ""},
		{domain.ChannelEmail, `{"host":"smtp","from":"a@b.c","to":["d@e.f"],"tls":"ssl"}`, `{}`, "settings.tls"},
		{domain.ChannelEmail, `{"from":"a@b.c","to":["d@e.f"]}`, `{}`, "settings.host"},
		{domain.ChannelEmail, `{"host":"smtp","from":"a@b.c","to":["nope"]}`, `{}`, "settings.to"},
		{domain.ChannelEmail, `{"host":"smtp","from":"a@b.c","to":["d@e.f"],"port":70000}`, `{}`, "settings.port"},
		{"pager", `{}`, `{}`, "kind"},
	}
	for _, tc := range cases {
		got := notify.Validate(tc.kind, json.RawMessage(tc.settings), json.RawMessage(tc.secrets))
		switch {
		case tc.bad == "" && len(got) > 0:
			t.Errorf("%s %s %s: %v, want valid", tc.kind, tc.settings, tc.secrets, got)
		case tc.bad != "" && got[tc.bad] == nil:
			t.Errorf("%s %s %s: %v, want a problem on %s", tc.kind, tc.settings, tc.secrets, got, tc.bad)
		}
	}
}

// Every event kind renders a title, and links go to run or host pages.
func TestRenderEveryEvent(t *testing.T) {
	t.Parallel()
	host := int64(3)
	cases := []struct {
		kind  domain.EventKind
		data  any
		title string
		url   string
	}{
		{domain.EventJobAttemptLost, store.AttemptLostData{JobID: 5, RunID: 8, TaskType: "noop", Attempt: 1, MaxAttempts: 3, LostBy: "r1", Retried: true}, "Job 5 (noop) attempt 1 lost", "/runs/8"},
		{domain.EventHostUnhealthy, store.HostEventData{WorkerHostID: host, Host: "attic", Error: "down"}, "Host attic is unhealthy", "/hosts/3"},
		{domain.EventHostRecovered, store.HostEventData{WorkerHostID: host, Host: "attic", Healthy: true}, "Host attic recovered", "/hosts/3"},
		{domain.EventGPUHotspot, store.HotspotData{JobID: 1, RunID: 9, WorkerHostID: &host, Hotspots: 2}, "2 GPU hotspot(s)", "/runs/9"},
		{domain.EventFinding, store.FindingData{RunID: 4, Container: "db", Severity: "critical", Kind: "oom_kill", Statement: "OOM"}, "[critical] db: oom_kill", "/runs/4"},
		{domain.EventTest, struct{}{}, "cyberbrain test message", "/"},
	}
	for _, tc := range cases {
		data, _ := json.Marshal(tc.data)
		env, _ := json.Marshal(store.Envelope{Event: tc.kind, Data: data})
		m := notify.Render(store.Delivery{Event: tc.kind, Payload: env}, "https://cb")
		if m.Title != tc.title || m.URL != "https://cb"+tc.url || m.Severity == "" {
			t.Errorf("%s: %+v", tc.kind, m)
		}
		if m := notify.Render(store.Delivery{Event: tc.kind, Payload: env}, ""); m.URL != "" || !strings.HasPrefix(m.Title, tc.title[:3]) {
			t.Errorf("%s without public URL: %+v", tc.kind, m)
		}
	}
}
