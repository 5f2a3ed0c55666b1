package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestAuthEveryRoute: with a token configured, every registered /api/ route
// answers 401 (JSON, WWW-Authenticate) to a request without it or with a
// wrong one, before any input is read or any row written; the probes stay
// open.
func TestAuthEveryRoute(t *testing.T) {
	t.Parallel()
	const token = "route-guard-token-0123456789"
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "up 1") })
	e := newEnv(t, func(c *Config) { c.APIToken = token; c.MetricsHandler = metrics })
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	before := e.counts()
	n := 0
	for _, r := range e.srv.routes {
		if !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		n++
		path := strings.ReplaceAll(r.Path, ":id", "1") + "/"
		body := ""
		if r.Method != http.MethodGet && r.Method != http.MethodDelete {
			body = `{"name":"x","tasks":["log_triage"]}`
		}
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Token " + token, "Bearer"} {
			res := e.do(r.Method, path, body, "Authorization", auth)
			if res.Status != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", r.Method, path, auth, res.Status)
				continue
			}
			isJSONError(t, res)
			if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="cyberbrain"` {
				t.Errorf("%s %s: WWW-Authenticate %q", r.Method, path, got)
			}
		}
	}
	if n < 35 {
		t.Errorf("only %d /api/ routes checked", n)
	}
	e.sameRows("unauthenticated requests", before)
	// A token in the query string is not a credential.
	if r := e.do("GET", "/api/runs/?token="+token, "", "Authorization", ""); r.Status != 401 {
		t.Errorf("token as query parameter: %d", r.Status)
	}
	// The bare prefix is guarded; a path that only starts like it is not /api.
	if r := e.do("GET", "/api", "", "Authorization", ""); r.Status != 401 {
		t.Errorf("/api: %d", r.Status)
	}
	if r := e.do("GET", "/apix", "", "Authorization", ""); r.Status != 404 {
		t.Errorf("/apix: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/metrics/"} {
		if r := e.do("GET", p, "", "Authorization", ""); r.Status != 200 {
			t.Errorf("%s without token: %d", p, r.Status)
		}
	}
	// The right token works on reads and writes alike.
	e.must(200, "GET", "/api/runs/1/", "")
	e.must(201, "POST", "/api/directives/", `{"name":"with-token"}`)
	e.noServerErrors()
}

// TestLogsCarryNoSecrets: request lines hold the path without its query
// string; bodies, tokens and TLS material never reach the log, also when the
// request fails.
func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	const token = "log-secret-token-abcdef"
	e := newEnv(t, func(c *Config) { c.APIToken = token })
	secrets := []string{token, "QUERY-SECRET", "BODY-SECRET", "TLS-KEY-SECRET", "TLS-CA-SECRET"}
	e.must(200, "GET", "/api/runs/?ordering=-id&status=running", "")
	e.must(400, "GET", "/api/runs/?ordering=-id&api_key=QUERY-SECRET", "") // unknown parameter
	e.must(201, "POST", "/api/directives/", `{"name":"d","description":"BODY-SECRET"}`)
	e.must(201, "POST", "/api/worker-hosts/", `{"name":"remote","type":"docker_tcp","base_url":"tcp://10.9.9.9:2376","tls_key":"TLS-KEY-SECRET","tls_ca":"TLS-CA-SECRET"}`)
	e.must(400, "POST", "/api/directives/", `{"name":"BODY-SECRET","bogus":1}`)
	e.must(400, "PATCH", "/api/worker-hosts/2/", `{"tls_key":"TLS-KEY-SECRET","type":"podman"}`)
	e.do("GET", "/api/runs/?x=QUERY-SECRET", "", "Authorization", "Bearer QUERY-SECRET")

	lines := e.logs.All()
	if len(lines) < 6 {
		t.Fatalf("only %d log lines", len(lines))
	}
	sawQueryPath := false
	for _, l := range lines {
		text := fmt.Sprint(l.Message, l.ContextMap())
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("secret %q in log line %s", s, text)
			}
		}
		if l.Message == "request" && l.ContextMap()["path"] == "/api/runs" {
			sawQueryPath = true
		}
	}
	if !sawQueryPath {
		t.Errorf("request with a query string not logged by its path")
	}
	// Nor does any answer carry the TLS material back.
	for _, p := range []string{"/api/worker-hosts/", "/api/worker-hosts/2/", "/api/worker-hosts/2/health/", "/api/schema/"} {
		r := e.must(200, "GET", p, "")
		for _, s := range secrets {
			if contains(r.Body, s) {
				t.Errorf("%s answers secret %q", p, s)
			}
		}
	}
	e.noServerErrors()
}

// newEnvOn serves the API over a store the test opens itself (for stores in
// states testenv.NewStore does not give).
func newEnvOn(t *testing.T, st *store.Store) (*env, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	srv, err := New(Config{Store: st, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, st: st, srv: srv, url: hs.URL, logs: logs}, logs
}

// TestReadyz: 503 with the reason (never the connection string) while the
// schema is behind or the database is gone; /healthz stays 200 meanwhile.
func TestReadyz(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("schema not migrated", func(t *testing.T) {
		t.Parallel()
		u := testenv.NewEmptyDatabaseURL(t)
		st, err := store.Open(ctx, u, store.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e, _ := newEnvOn(t, st)
		r := e.do("GET", "/readyz", "")
		m := isJSONError(t, r)
		if r.Status != 503 || !strings.Contains(m["error"].(string), "migrate up") || m["schema_version"].(float64) != 0 ||
			m["latest_version"].(float64) < 1 {
			t.Errorf("readyz on an empty schema: %d %s", r.Status, r.Body)
		}
		if contains(r.Body, "postgres://") || contains(r.Body, "127.0.0.1") {
			t.Errorf("readyz leaks the connection: %s", r.Body)
		}
		e.must(200, "GET", "/healthz", "")
		if err := st.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		ok := e.must(200, "GET", "/readyz/", "").json(t)
		if ok["status"] != "ready" || ok["schema_version"] != m["latest_version"] {
			t.Errorf("readyz after migrating: %v", ok)
		}
	})

	t.Run("database gone", func(t *testing.T) {
		t.Parallel()
		st, err := store.Open(ctx, testenv.NewDatabaseURL(t), store.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		e, logs := newEnvOn(t, st)
		e.must(200, "GET", "/readyz", "")
		st.Close()
		r := e.do("GET", "/readyz", "")
		if r.Status != 503 || strings.TrimSpace(string(r.Body)) != `{"error":"database unreachable"}` {
			t.Errorf("readyz with the store closed: %d %s", r.Status, r.Body)
		}
		e.must(200, "GET", "/healthz", "")
		// A request that needs the database is a logged 500 that leaks nothing.
		res := e.do("GET", "/api/runs/", "")
		if res.Status != 500 || strings.TrimSpace(string(res.Body)) != `{"error":"internal server error"}` {
			t.Errorf("list with the store closed: %d %s", res.Status, res.Body)
		}
		if logs.FilterMessage("request failed").Len() != 1 {
			t.Errorf("the 500 was not logged once: %v", logs.All())
		}
	})
}
