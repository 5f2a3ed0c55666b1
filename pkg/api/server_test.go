package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

func TestServerShape(t *testing.T) {
	t.Parallel()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "up 1") })
	e := newEnv(t, func(c *Config) { c.MetricsHandler = metrics })
	bare := newEnv(t)
	cases := []struct {
		env        *env
		method     string
		path, body string
		status     int
		want       string
	}{
		{e, "GET", "/healthz", "", 200, `"ok"`},
		{e, "GET", "/healthz/", "", 200, `"ok"`},
		{e, "GET", "/readyz", "", 200, `"ready"`},
		{e, "GET", "/metrics", "", 200, "up 1"},
		{bare, "GET", "/metrics", "", 404, `"error"`},
		{e, "GET", "/api/nope/", "", 404, `{"error":"not found"}`},
		{e, "GET", "/nope", "", 404, `{"error":"not found"}`},
		{e, "DELETE", "/api/runs/launch/", "", 405, `{"error":"method not allowed"}`},
		{e, "PUT", "/api/jobs/", "", 405, `"method not allowed"`},
		{e, "GET", "/api/runs", "", 200, `"results":[]`},
		{e, "GET", "/api/runs/", "", 200, `"results":[]`},
		{e, "GET", "/api/schema/", "", 200, `"openapi":"3.0.3"`},
		{e, "POST", "/api/directives/", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, `too large`},
	}
	for _, tc := range cases {
		r := tc.env.do(tc.method, tc.path, tc.body)
		if r.Status != tc.status || !contains(r.Body, tc.want) {
			t.Errorf("%s %s: %d %.200s, want %d with %s", tc.method, tc.path, r.Status, r.Body, tc.status, tc.want)
		}
		if tc.status >= 400 && tc.path != "/metrics" {
			isJSONError(t, r)
		}
		if r.Header.Get(echo.HeaderXRequestID) == "" {
			t.Errorf("%s %s: no request id", tc.method, tc.path)
		}
	}
	// One log line per request with method, path, status, duration, id.
	found := false
	for _, l := range e.logs.FilterMessage("request").All() {
		m := l.ContextMap()
		if m["path"] == "/readyz" && m["status"] == int64(200) && m["request_id"] != "" && m["duration"] != nil && m["method"] == "GET" {
			found = true
		}
	}
	if !found {
		t.Errorf("no request log line for /readyz")
	}
	e.noServerErrors()
}

// TestRecover checks a panic becomes a logged 500 JSON. No handler panics on
// purpose: this one is registered by the test.
func TestRecover(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.echo.GET("/boom", func(echo.Context) error { panic("boom") })
	r := e.do("GET", "/boom", "")
	if r.Status != 500 || strings.TrimSpace(string(r.Body)) != `{"error":"internal server error"}` {
		t.Errorf("panic answer: %d %s", r.Status, r.Body)
	}
	if n := e.logs.FilterMessage("panic serving request").Len(); n != 1 {
		t.Errorf("panic logged %d times", n)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const token = "s3cret-t0ken-value"
	e := newEnv(t, func(c *Config) { c.APIToken = token; c.Addr = "0.0.0.0:9595" })
	cases := []struct {
		name, path, auth string
		status           int
	}{
		{"missing", "/api/runs/", "", 401},
		{"wrong", "/api/runs/", "Bearer nope", 401},
		{"prefix of token", "/api/runs/", "Bearer s3cret", 401},
		{"not bearer", "/api/runs/", "Basic " + token, 401},
		{"unknown route still guarded", "/api/nope", "", 401},
		{"schema guarded", "/api/schema", "", 401},
		{"right", "/api/runs/", "Bearer " + token, 200},
		{"right, lower-case scheme", "/api/runs/", "bearer " + token, 200},
		{"healthz open", "/healthz", "", 200},
		{"readyz open", "/readyz/", "", 200},
	}
	for _, tc := range cases {
		r := e.do("GET", tc.path, "", "Authorization", tc.auth)
		if r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
		}
		if tc.status == 401 {
			isJSONError(t, r)
		}
		if contains(r.Body, token) {
			t.Errorf("%s: token in the response", tc.name)
		}
	}
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	for _, l := range e.logs.All() {
		if strings.Contains(fmt.Sprint(l.Message, l.ContextMap()), token) {
			t.Errorf("token in the log: %s %v", l.Message, l.ContextMap())
		}
	}
	// Without a token: loopback only, unless explicitly insecure.
	st := e.st
	for _, tc := range []struct {
		addr     string
		insecure bool
		ok       bool
	}{
		{"127.0.0.1:9595", false, true}, {"localhost:9595", false, true}, {"[::1]:9595", false, true},
		{"0.0.0.0:9595", false, false}, {":9595", false, false}, {"10.1.2.3:9595", false, false},
		{"0.0.0.0:9595", true, true},
	} {
		srv, err := New(Config{Store: st, Logger: zap.NewNop(), Addr: tc.addr, InsecureNoAuth: tc.insecure})
		if err == nil {
			srv.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("New(addr=%s, insecure=%v): err %v", tc.addr, tc.insecure, err)
		}
	}
}

// TestOpenAPICoversRoutes keeps the document honest: every route Echo
// serves is in it, with its method.
func TestOpenAPICoversRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.MetricsHandler = http.NotFoundHandler() })
	doc := e.srv.OpenAPI()
	paths := doc["paths"].(map[string]any)
	n := 0
	for _, r := range e.srv.echo.Routes() {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		n++
		item, ok := paths[openAPIPath(r.Path)].(map[string]any)
		if !ok {
			t.Errorf("route %s %s missing from the OpenAPI document", r.Method, r.Path)
			continue
		}
		if _, ok := item[strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s: method missing from the OpenAPI document", r.Method, r.Path)
		}
	}
	if n < 40 {
		t.Errorf("only %d routes registered", n)
	}
	served := e.must(200, "GET", "/api/schema/", "").json(t)
	if len(served["paths"].(map[string]any)) != len(paths) {
		t.Errorf("served document differs")
	}
}
