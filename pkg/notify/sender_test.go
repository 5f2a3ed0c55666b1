package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// captured is one request a loopback receiver got.
type captured struct {
	Header http.Header
	Path   string
	Body   []byte
}

// receiver starts an HTTP server on loopback that answers with statuses in
// turn (then 200) and records every request.
func receiver(t *testing.T, statuses ...int) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{Header: r.Header.Clone(), Path: r.URL.Path, Body: b})
		code := http.StatusOK
		if len(got) <= len(statuses) {
			code = statuses[len(got)-1]
		}
		mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte("answer"))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return append([]captured(nil), got...)
	}
}

func runFailedDelivery(t *testing.T) store.Delivery {
	t.Helper()
	data, _ := json.Marshal(store.RunFailedData{RunID: 42, Status: "failed", Directive: "nightly",
		FailedJobs: []store.FailedJob{{JobID: 7, TaskType: "log_triage", Attempts: 3, Error: "engine unreachable"}}})
	env, _ := json.Marshal(store.Envelope{Event: domain.EventRunFailed, Key: "run_failed:run:42", Subject: "task:log_triage",
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Data: data})
	return store.Delivery{ID: 9, ChannelID: 1, Event: domain.EventRunFailed, EventKey: "run_failed:run:42",
		Subject: "task:log_triage", IdempotencyKey: "cb-abc123", Payload: env, Attempt: 2}
}

func channel(kind domain.ChannelKind, settings, secrets string) *store.NotificationChannel {
	return &store.NotificationChannel{ID: 1, Kind: kind, Enabled: true, Settings: store.JSON(settings), Secrets: store.JSON(secrets)}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The generic webhook gets the documented body, the idempotency key in a
// header and in the body, and a signature a receiver can verify.
func TestWebhookBodyHeadersAndSignature(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t)
	s := &notify.Sender{PublicURL: "https://cb.example.com"}
	ch := channel(domain.ChannelWebhook, `{}`, jsonString(map[string]string{"url": srv.URL + "/hook", "secret": "s3cr3t-hmac"}))
	r := s.Send(context.Background(), ch, runFailedDelivery(t))
	if !r.OK || r.StatusCode != 200 || r.Error != "" {
		t.Fatalf("send = %+v", r)
	}
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	h := reqs[0].Header
	if h.Get("Idempotency-Key") != "cb-abc123" || h.Get("X-Cyberbrain-Event") != "run_failed" || h.Get("X-Cyberbrain-Attempt") != "2" {
		t.Fatalf("headers %v", h)
	}
	if !notify.Verify("s3cr3t-hmac", h.Get(notify.HeaderTimestamp), reqs[0].Body, h.Get(notify.HeaderSignature)) {
		t.Fatal("signature does not verify")
	}
	if notify.Verify("other", h.Get(notify.HeaderTimestamp), reqs[0].Body, h.Get(notify.HeaderSignature)) {
		t.Fatal("signature verifies with a wrong secret")
	}
	var body notify.WebhookBody
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != "cb-abc123" || body.Event != domain.EventRunFailed || body.URL != "https://cb.example.com/runs/42" ||
		body.Title != "Run 42 failed (nightly)" || !strings.Contains(body.Text, "engine unreachable") || body.OccurredAt == nil {
		t.Fatalf("body %+v", body)
	}
	var data store.RunFailedData
	if err := json.Unmarshal(body.Data, &data); err != nil || data.RunID != 42 || len(data.FailedJobs) != 1 ||
		data.FailedJobs[0].Error != "engine unreachable" {
		t.Fatalf("data %s (%v)", body.Data, err)
	}
}

// Without a secret there is no signature header.
func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t)
	r := (&notify.Sender{}).Send(context.Background(), channel(domain.ChannelWebhook, `{}`, jsonString(map[string]string{"url": srv.URL})), runFailedDelivery(t))
	if !r.OK || got()[0].Header.Get(notify.HeaderSignature) != "" {
		t.Fatalf("send %+v, signature %q", r, got()[0].Header.Get(notify.HeaderSignature))
	}
	var body notify.WebhookBody
	_ = json.Unmarshal(got()[0].Body, &body)
	if body.URL != "" {
		t.Fatalf("link %q without a public URL", body.URL)
	}
}

// 5xx, 408 and 429 are retried; other 4xx are permanent.
func TestHTTPAnswersClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      int
		permanent bool
	}{{500, false}, {503, false}, {429, false}, {408, false}, {400, true}, {404, true}, {410, true}} {
		srv, _ := receiver(t, tc.code)
		r := (&notify.Sender{}).Send(context.Background(), channel(domain.ChannelSlack, `{}`, jsonString(map[string]string{"url": srv.URL})), runFailedDelivery(t))
		if r.OK || r.StatusCode != tc.code || r.Permanent != tc.permanent || !strings.Contains(r.Error, "answer") {
			t.Errorf("HTTP %d: %+v", tc.code, r)
		}
	}
}

// Slack gets text and a mrkdwn section block; Discord content and one
// embed with no mentions parsed.
func TestSlackAndDiscordPayloads(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t)
	s := &notify.Sender{PublicURL: "https://cb.example.com"}
	d := runFailedDelivery(t)
	sec := jsonString(map[string]string{"url": srv.URL + "/services/T000/B000/XXXX"})
	if r := s.Send(context.Background(), channel(domain.ChannelSlack, `{}`, sec), d); !r.OK {
		t.Fatal(r)
	}
	if r := s.Send(context.Background(), channel(domain.ChannelDiscord, `{}`, sec), d); !r.OK {
		t.Fatal(r)
	}
	reqs := got()
	var slack struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Type, Text string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(reqs[0].Body, &slack); err != nil {
		t.Fatal(err)
	}
	if slack.Text != "Run 42 failed (nightly)" || len(slack.Blocks) != 1 || slack.Blocks[0].Type != "section" ||
		slack.Blocks[0].Text.Type != "mrkdwn" || !strings.Contains(slack.Blocks[0].Text.Text, "<https://cb.example.com/runs/42|") {
		t.Fatalf("slack %s", reqs[0].Body)
	}
	var discord struct {
		Content string `json:"content"`
		Embeds  []struct {
			Title, Description, URL string
			Color                   int
		} `json:"embeds"`
		AllowedMentions struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(reqs[1].Body, &discord); err != nil {
		t.Fatal(err)
	}
	if discord.Content == "" || len(discord.Embeds) != 1 || discord.Embeds[0].URL != "https://cb.example.com/runs/42" ||
		!strings.Contains(discord.Embeds[0].Description, "engine unreachable") || discord.Embeds[0].Color == 0 ||
		discord.AllowedMentions.Parse == nil || len(discord.AllowedMentions.Parse) != 0 {
		t.Fatalf("discord %s", reqs[1].Body)
	}
	if reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatal("not JSON")
	}
}

// ntfy gets a JSON publish at the server root: topic, title, message,
// priority from the severity, the click link and the bearer token.
func TestNtfyPayload(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t)
	s := &notify.Sender{PublicURL: "https://cb.example.com"}
	r := s.Send(context.Background(), channel(domain.ChannelNtfy, jsonString(map[string]any{"server": srv.URL, "topic": "ops"}),
		`{"token":"tk_secret_token"}`), runFailedDelivery(t))
	if !r.OK {
		t.Fatal(r)
	}
	req := got()[0]
	var body struct {
		Topic, Title, Message, Click string
		Priority                     int
		Tags                         []string
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if req.Path != "/" || body.Topic != "ops" || body.Title != "Run 42 failed (nightly)" || body.Priority != 4 ||
		body.Click != "https://cb.example.com/runs/42" || !strings.Contains(body.Message, "engine unreachable") ||
		len(body.Tags) != 1 || req.Header.Get("Authorization") != "Bearer tk_secret_token" {
		t.Fatalf("ntfy %s %s %v", req.Path, req.Body, req.Header)
	}
}

// A failed request's error names the host, never the URL's token path, and
// never any other secret.
func TestSendErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	secret := "/services/T0SECRET/B0SECRET/tokenTOKENtoken"
	for _, kind := range []domain.ChannelKind{domain.ChannelWebhook, domain.ChannelSlack, domain.ChannelDiscord} {
		r := (&notify.Sender{}).Send(context.Background(), channel(kind, `{}`, jsonString(map[string]string{"url": url + secret, "secret": "hmac-key-123"})), runFailedDelivery(t))
		if r.OK || r.Permanent || r.Error == "" {
			t.Fatalf("%s: %+v", kind, r)
		}
		for _, s := range []string{"T0SECRET", "tokenTOKENtoken", "hmac-key-123"} {
			if strings.Contains(r.Error, s) {
				t.Fatalf("%s error %q holds a secret", kind, r.Error)
			}
		}
	}
}

// Digest deliveries render one line per event and the count beyond the
// events kept.
func TestDigestRendering(t *testing.T) {
	t.Parallel()
	ev := runFailedDelivery(t)
	var env store.Envelope
	_ = json.Unmarshal(ev.Payload, &env)
	payload, _ := json.Marshal(notify.DigestData{RuleID: 3, Digest: "hourly", Count: 12, Events: []store.Envelope{env, env},
		WindowStart: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), WindowEnd: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)})
	m := notify.Render(store.Delivery{Event: domain.EventDigest, Payload: payload}, "https://cb")
	if !strings.Contains(m.Title, "12 event(s)") || strings.Count(m.Text, "Run 42 failed") != 2 || !strings.Contains(m.Text, "10 more") {
		t.Fatalf("%+v", m)
	}
}
