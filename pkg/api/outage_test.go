package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"
	"go.uber.org/zap/zapcore"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// outageEnv is an API server whose store reaches the database through a
// proxy the test can freeze or close, with a request deadline of timeout.
func outageEnv(t *testing.T, timeout time.Duration) (*env, *testenv.Proxy) {
	t.Helper()
	var proxy *testenv.Proxy
	e := newEnv(t, func(c *Config) {
		var u string
		proxy, u = testenv.NewProxy(t, c.Store.URL())
		st, err := store.Open(context.Background(), u, store.Options{MaxConns: 4, StatementTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		c.Store, c.DBTimeout = st, timeout
	})
	return e, proxy
}

// want503 asserts the answer of a request made while the database is down:
// 503 {"error":"database unavailable"} with a Retry-After, within about the
// request deadline.
func want503(t *testing.T, e *env, method, path, body string, within time.Duration) {
	t.Helper()
	start := time.Now()
	r := e.do(method, path, body)
	took := time.Since(start)
	if r.Status != http.StatusServiceUnavailable || r.json(t)["error"] != "database unavailable" {
		t.Errorf("%s %s while the database is down: %d %s", method, path, r.Status, r.Body)
	}
	if r.Header.Get("Retry-After") != fmt.Sprint(RetryAfterSeconds) {
		t.Errorf("%s %s: Retry-After %q", method, path, r.Header.Get("Retry-After"))
	}
	if took > within {
		t.Errorf("%s %s took %v, want under %v", method, path, took, within)
	}
}

// With the database frozen (SIGSTOP, a silent partition) reads and launches
// answer 503 after the request deadline instead of hanging; with it refused
// they answer 503 at once. The log has one warning for the outage, no
// error and no stack per request, and says when the database is back.
func TestDatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	e, proxy := outageEnv(t, 500*time.Millisecond)
	e.must(201, "POST", "/api/directives/", `{"name":"d"}`)
	e.must(200, "GET", "/api/runs/", "")

	proxy.Freeze()
	for range 3 {
		want503(t, e, "GET", "/api/runs/", "", 3*time.Second)
	}
	want503(t, e, "POST", "/api/runs/launch/", `{"directive_id":1,"tasks":["noop"]}`, 3*time.Second)
	want503(t, e, "GET", "/api/directives/1/", "", 3*time.Second)

	proxy.Refuse()
	for range 3 {
		want503(t, e, "GET", "/api/runs/", "", time.Second)
	}
	proxy.Resume(true)
	deadline := time.Now().Add(10 * time.Second)
	for e.do("GET", "/api/runs/", "").Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the API did not answer 200 again after the database came back")
		}
	}
	e.noServerErrors()
	if n := e.logs.FilterMessage("database unavailable").FilterLevelExact(zapcore.WarnLevel).Len(); n != 1 {
		t.Errorf("%d warnings for one outage of a few seconds, want 1: %v", n, e.logs.FilterMessage("database unavailable").All())
	}
	if e.logs.FilterMessage("database reachable again").Len() != 1 {
		t.Error("the end of the outage was not logged")
	}
}

// Every error meaning "the database is not there" is a 503, whatever the
// statement was; an error of the statement itself stays a 500.
func TestUnavailableErrorsMapTo503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var next error
	e.srv.echo.GET("/api/test-error", func(echo.Context) error { return next })
	pg := func(code, msg string) error {
		return fmt.Errorf("list runs: %w", &pgconn.PgError{Code: code, Message: msg, Severity: "FATAL"})
	}
	cases := []struct {
		name   string
		err    error
		status int
	}{
		{"too many clients", pg("53300", "sorry, too many clients already"), 503},
		{"terminated", pg("57P01", "terminating connection due to administrator command"), 503},
		{"shutting down", pg("57P03", "the database system is shutting down"), 503},
		{"refused", fmt.Errorf("list: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), 503},
		{"deadline", fmt.Errorf("list: %w", context.DeadlineExceeded), 503},
		{"conn closed", fmt.Errorf("list: %w", pgconn.ErrConnClosed), 503},
		{"syntax", pg("42601", "syntax error"), 500},
	}
	for _, c := range cases {
		next = c.err
		r := e.do("GET", "/api/test-error", "")
		if r.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
			continue
		}
		if c.status == 503 && (r.json(t)["error"] != "database unavailable" || r.Header.Get("Retry-After") == "") {
			t.Errorf("%s: %s Retry-After %q", c.name, r.Body, r.Header.Get("Retry-After"))
		}
	}
	if n := e.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 1 {
		t.Errorf("%d error lines, want 1 (the syntax error)", n)
	}
}

// Probe polls log at debug; a client error logs the message the client got.
func TestRequestLogLevelsAndReasons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(200, "GET", "/healthz", "")
	e.must(200, "GET", "/readyz", "")
	e.must(404, "GET", "/api/runs/424242/", "")
	e.must(400, "POST", "/api/directives/", `{"name":`)
	for _, l := range e.logs.FilterMessage("request").All() {
		path, _ := l.ContextMap()["path"].(string)
		status, _ := l.ContextMap()["status"].(int64)
		switch {
		case path == "/healthz" || path == "/readyz":
			if l.Level != zapcore.DebugLevel {
				t.Errorf("%s logged at %s, want debug", path, l.Level)
			}
		case status >= 400:
			if l.Level != zapcore.InfoLevel || l.ContextMap()["error"] == nil || l.ContextMap()["error"] == "" {
				t.Errorf("%s %d logged as %s %v, want info with the error message", path, status, l.Level, l.ContextMap())
			}
		}
	}
	if got := e.logs.FilterMessage("request").FilterField(zapcore.Field{Key: "status", Type: zapcore.Int64Type, Integer: 404}).All(); len(got) != 1 ||
		got[0].ContextMap()["error"] != "Run not found" {
		t.Errorf("404 line: %v", got)
	}
}
