package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Channels: secrets are write-only (never in any answer nor log line,
// kept when absent from a PUT or PATCH), bad input is a 400 by field, and
// the test endpoint sends through a loopback receiver and answers with the
// recorded delivery, which the deliveries list then shows.
func TestNotificationChannelsSecretsAndTestSend(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var keys []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	e := newEnv(t)
	const tokenPath, hmac = "/services/TSECRET1/BSECRET2/xyzzyTOKEN", "hmac-write-only-42"
	body := fmt.Sprintf(`{"name":"ops","kind":"webhook","secrets":{"url":%q,"secret":%q}}`, hook.URL+tokenPath, hmac)
	created := e.must(201, "POST", "/api/notification-channels/", body).json(t)
	id := fmt.Sprint(created["id"])
	if fmt.Sprint(created["secrets_set"]) != "[secret url]" {
		t.Fatalf("secrets_set %v", created["secrets_set"])
	}
	answers := []resp{
		e.must(200, "GET", "/api/notification-channels/", ""),
		e.must(200, "GET", "/api/notification-channels/"+id+"/", ""),
		e.must(200, "PATCH", "/api/notification-channels/"+id+"/", `{"name":"ops-renamed"}`),
		e.must(200, "PUT", "/api/notification-channels/"+id+"/", `{"name":"ops","kind":"webhook"}`),
	}
	sent := e.must(200, "POST", "/api/notification-channels/"+id+"/test/", "")
	answers = append(answers, sent, e.must(200, "GET", "/api/notification-deliveries/?channel="+id, ""))
	if d := sent.json(t); d["status"] != "sent" || d["event"] != "test" {
		t.Fatalf("test send %s", sent.Body)
	}
	mu.Lock()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "cb-test-") {
		t.Fatalf("receiver got %v", keys)
	}
	mu.Unlock()
	list := answers[len(answers)-1].json(t)
	if list["count"] != float64(1) {
		t.Fatalf("deliveries %s", answers[len(answers)-1].Body)
	}
	// The URL kept through PATCH and PUT: break it, then see the error.
	e.must(200, "PATCH", "/api/notification-channels/"+id+"/", fmt.Sprintf(`{"secrets":{"url":%q}}`, "http://127.0.0.1:1"+tokenPath))
	failed := e.must(200, "POST", "/api/notification-channels/"+id+"/test/", "")
	if d := failed.json(t); d["status"] != "failed" || d["last_error"] == "" {
		t.Fatalf("failed test send %s", failed.Body)
	}
	answers = append(answers, failed)
	var logs strings.Builder
	for _, l := range e.logs.All() {
		fmt.Fprintln(&logs, l.Message, l.ContextMap())
	}
	for _, secret := range []string{"TSECRET1", "BSECRET2", "xyzzyTOKEN", hmac} {
		for i, a := range answers {
			if strings.Contains(string(a.Body), secret) {
				t.Fatalf("answer %d holds secret %q: %s", i, secret, a.Body)
			}
		}
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a log line holds secret %q", secret)
		}
	}
}

// Bad channel and rule input is refused by field with the API's error
// shape; filters are checked.
func TestNotificationBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/api/notification-channels/", `{"name":"x","kind":"pager"}`, "kind"},
		{"/api/notification-channels/", `{"name":"x","kind":"slack"}`, "secrets.url"},
		{"/api/notification-channels/", `{"name":"x","kind":"slack","secrets":{"url":"ftp://x"}}`, "secrets.url"},
		{"/api/notification-channels/", `{"name":"x","kind":"ntfy","settings":{"topic":"t","colour":"red"}}`, "settings.colour"},
		{"/api/notification-channels/", `{"name":"x","kind":"email","settings":{"host":"h","from":"nope","to":["a@b.c"]}}`, "settings.from"},
		{"/api/notification-channels/", `{"name":"x","kind":"email","settings":{"host":"h","from":"a@b.c","to":[]}}`, "settings.to"},
		{"/api/notification-rules/", `{"name":"r","event":"run_exploded","channel_id":1}`, "event"},
		{"/api/notification-rules/", `{"name":"r","event":"run_failed"}`, "channel_id"},
		{"/api/notification-rules/", `{"name":"r","event":"run_failed","channel_id":99}`, "channel_id"},
		{"/api/notification-rules/", `{"name":"r","event":"finding","channel_id":1,"min_severity":"meh"}`, "min_severity"},
		{"/api/notification-rules/", `{"name":"r","event":"run_failed","channel_id":1,"digest":"weekly"}`, "digest"},
		{"/api/notification-rules/", `{"name":"r","event":"run_failed","channel_id":1,"cooldown_seconds":-1}`, "cooldown_seconds"},
	} {
		r := e.do("POST", tc.path, tc.body)
		body := isJSONError(t, r)
		fields, _ := body["fields"].(map[string]any)
		if r.Status != 400 || fields[tc.field] == nil {
			t.Errorf("%s %s: %d %s, want 400 on %s", tc.path, tc.body, r.Status, r.Body, tc.field)
		}
	}
	for _, q := range []string{"status=lost", "channel=x", "event=nope"} {
		if r := e.do("GET", "/api/notification-deliveries/?"+q, ""); r.Status != 400 {
			t.Errorf("?%s: %d", q, r.Status)
		}
	}
	ch := e.must(201, "POST", "/api/notification-channels/", `{"name":"n","kind":"ntfy","settings":{"topic":"ops"}}`).json(t)
	rule := e.must(201, "POST", "/api/notification-rules/",
		fmt.Sprintf(`{"name":"r","event":"finding","channel_id":%v,"min_severity":"critical","cooldown_seconds":600}`, ch["id"])).json(t)
	if rule["min_severity"] != "critical" || rule["cooldown_seconds"] != float64(600) || rule["digest"] != "" {
		t.Fatalf("rule %v", rule)
	}
	e.must(409, "POST", "/api/notification-channels/", `{"name":"n","kind":"ntfy","settings":{"topic":"ops"}}`)
	e.must(204, "DELETE", fmt.Sprintf("/api/notification-channels/%v/", ch["id"]), "")
	e.must(404, "GET", fmt.Sprintf("/api/notification-rules/%v/", rule["id"]), "")
}
