package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
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

// env is one API server over a real TCP listener on its own database.
type env struct {
	t     *testing.T
	st    *store.Store
	srv   *Server
	url   string
	logs  *observer.ObservedLogs
	token string
}

func newEnv(t *testing.T, mod ...func(*Config)) *env {
	t.Helper()
	st := testenv.NewStore(t)
	core, logs := observer.New(zapcore.DebugLevel)
	// Listen first: the server's links are built from its listen address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Logger: zap.New(core), Addr: ln.Addr().String()}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &env{t: t, st: st, srv: srv, url: hs.URL, logs: logs, token: cfg.APIToken}
}

// resp is a decoded answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%v): %s", err, r.Body)
	}
	return m
}

func (r resp) array(t *testing.T) []map[string]any {
	t.Helper()
	var a []map[string]any
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("body is not a JSON array (%v): %s", err, r.Body)
	}
	return a
}

func (e *env) do(method, path, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// must asserts the status and returns the response.
func (e *env) must(status int, method, path, body string) resp {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.Status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	return r
}

// counts returns the row count of every table a client can write.
func (e *env) counts() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"directives", "runs", "jobs", "schedules", "scheduled_runs", "task_definitions",
		"worker_hosts", "container_allowlist"} {
		var n int64
		if err := testenv.SQL(e.t, e.st).Raw("SELECT count(*) FROM " + tbl).Scan(&n).Error; err != nil {
			e.t.Fatal(err)
		}
		out[tbl] = n
	}
	return out
}

// exec runs SQL that sets up a test situation.
func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if err := testenv.SQL(e.t, e.st).Exec(sql, args...).Error; err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) scalar(sql string, args ...any) any {
	e.t.Helper()
	var v any
	if err := testenv.SQL(e.t, e.st).Raw(sql, args...).Row().Scan(&v); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// noServerErrors fails when anything was logged at error level (a 500 or a
// recovered panic).
func (e *env) noServerErrors() {
	e.t.Helper()
	for _, l := range e.logs.All() {
		if l.Level >= zapcore.ErrorLevel {
			e.t.Errorf("server error logged: %s %v", l.Message, l.ContextMap())
		}
	}
}

func isJSONError(t *testing.T, r resp) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q, want JSON: %s", ct, r.Body)
	}
	m := r.json(t)
	if s, _ := m["error"].(string); s == "" {
		t.Errorf("no error message: %s", r.Body)
	}
	return m
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
