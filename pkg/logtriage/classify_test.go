package logtriage_test

import (
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

// TestClassifyFormats covers the formats docs/TASKS.md (log_triage) names: structured JSON and
// logfmt, access logs, klog, Redis, PostgreSQL, Go panics, Python and Java
// exception heads, and free text.
func TestClassifyFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		line   string
		level  logtriage.Level
		msg    string // "" means the trimmed line itself
		format string
	}{
		// JSON: the level key decides; the message (plus the error's first line) is templated.
		{"json error with multi-line error field", `{"level":"error","msg":"payment failed","error":"card declined\n\tat stripe"}`,
			logtriage.Error, "payment failed: card declined", "json"},
		{"json severity key", `{"severity":"WARNING","message":"disk almost full"}`, logtriage.Warn, "disk almost full", "json"},
		{"json pino numeric 40", `{"level":40,"msg":"slow"}`, logtriage.Warn, "slow", "json"},
		{"json pino numeric 50", `{"level":50,"msg":"failed"}`, logtriage.Error, "failed", "json"},
		{"json pino numeric 60", `{"level":60,"msg":"dying"}`, logtriage.Fatal, "dying", "json"},
		{"json pino numeric 30", `{"level":30,"msg":"ok"}`, logtriage.Info, "ok", "json"},
		{"json serilog compact", `{"@l":"Fatal","@mt":"host {Host} gone","Host":"db"}`, logtriage.Fatal, "host {Host} gone", "json"},
		{"json zap dpanic", `{"level":"dpanic","msg":"impossible"}`, logtriage.Fatal, "impossible", "json"},
		{"json explicit info wins over words", `{"level":"info","msg":"retrying after ERROR"}`, logtriage.Info, "retrying after ERROR", "json"},
		{"json without a level falls back to the text", `{"msg":"ERROR connecting to db"}`, logtriage.Error, "ERROR connecting to db", "json"},
		{"json without message keeps the document", `{"level":"warn","n":3}`, logtriage.Warn, `{"level":"warn","n":3}`, "json"},
		{"json error only", `{"level":"error","err":"EOF"}`, logtriage.Error, "EOF", "json"},
		{"broken json is plain text", `{"level":"error", ERROR truncated`, logtriage.Error, "", "plain"},
		// logfmt
		{"logfmt error with err", `ts=2024-01-02T15:04:05Z level=error msg="query failed" err="dial tcp 10.0.0.5:5432: connect: connection refused"`,
			logtriage.Error, "query failed: dial tcp 10.0.0.5:5432: connect: connection refused", "logfmt"},
		{"logfmt bare message", `level=warn msg=retrying attempt=3`, logtriage.Warn, "retrying", "logfmt"},
		{"logfmt crit", `lvl=crit msg="out of memory"`, logtriage.Fatal, "out of memory", "logfmt"},
		{"logfmt quoted level", `time=x level="ERROR" msg="boom"`, logtriage.Error, "boom", "logfmt"},
		{"logfmt info mentioning errors", `level=info msg="0 errors, 0 warnings"`, logtriage.Info, "0 errors, 0 warnings", "logfmt"},
		{"logfmt escaped quote", `level=error msg="bad \"token\""`, logtriage.Error, `bad "token"`, "logfmt"},
		// access logs: 5xx are errors, 4xx are the client's problem
		{"access 502", `10.0.0.1 - - [02/Jan/2024:15:04:05 +0000] "GET /api/users/1 HTTP/1.1" 502 157 "-" "curl/8.0"`, logtriage.Error, "", "access"},
		{"access 404", `10.0.0.1 - - [02/Jan/2024:15:04:05 +0000] "POST /login HTTP/2.0" 404 0 "-" "-"`, logtriage.Info, "", "access"},
		{"access 200", `10.0.0.1 - - [02/Jan/2024:15:04:05 +0000] "DELETE /x HTTP/1.0" 200 3 "-" "-"`, logtriage.Info, "", "access"},
		// klog / glog
		{"klog error", `E0102 15:04:05.000000       1 controller.go:42] sync failed`, logtriage.Error, "", "plain"},
		{"klog warning", `W0102 15:04:05.123456       1 reflector.go:7] watch closed`, logtriage.Warn, "", "plain"},
		{"klog fatal", `F0102 15:04:05.123456       1 main.go:1] cannot start`, logtriage.Fatal, "", "plain"},
		{"klog info", `I0102 15:04:05.123456       1 main.go:1] started`, logtriage.Info, "", "plain"},
		// Redis: '#' marks warnings; the text may say worse
		{"redis warning mark", `1:M 02 Jan 2024 15:04:06.100 # Background saving error`, logtriage.Warn, "", "plain"},
		{"redis notice", `1:M 02 Jan 2024 15:04:05.002 * Ready to accept connections tcp`, logtriage.Info, "", "plain"},
		{"redis text says fatal", `1:M 02 Jan 2024 15:04:05.002 # FATAL: Data file was created with a newer version`, logtriage.Fatal, "", "plain"},
		// PostgreSQL
		{"postgres error", `2024-01-02 15:04:05.123 UTC [42] ERROR:  relation "users" does not exist`, logtriage.Error, "", "plain"},
		{"postgres fatal", `2024-01-02 15:04:05.123 UTC [43] FATAL:  password authentication failed for user "app"`, logtriage.Fatal, "", "plain"},
		{"postgres warning", `2024-01-02 15:04:05.123 UTC [44] WARNING:  there is no transaction in progress`, logtriage.Warn, "", "plain"},
		{"postgres log", `2024-01-02 15:04:05.123 UTC [1] LOG:  database system is ready`, logtriage.Info, "", "plain"},
		// Go runtime
		{"go panic", `panic: runtime error: invalid memory address or nil pointer dereference`, logtriage.Panic, "", "plain"},
		{"go fatal error", `fatal error: concurrent map writes`, logtriage.Fatal, "", "plain"},
		// Exceptions
		{"python traceback head", `Traceback (most recent call last):`, logtriage.Exception, "", "plain"},
		{"python exception line", `ValueError: invalid literal for int() with base 10: 'x'`, logtriage.Exception, "", "plain"},
		{"java exception line", `java.lang.IllegalStateException: pool closed`, logtriage.Exception, "", "plain"},
		{"java exception in thread", `Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`, logtriage.Exception, "", "plain"},
		// Free text
		{"bracketed lower case", `[error] 7#7: *1 connect() failed`, logtriage.Error, "", "plain"},
		{"angle bracket warn", `<warn> cache miss storm`, logtriage.Warn, "", "plain"},
		{"leading error colon", `error: cannot find module 'express'`, logtriage.Error, "", "plain"},
		{"leading Warning colon", `Warning: deprecated option --foo`, logtriage.Warn, "", "plain"},
		{"upper case CRITICAL", `2024-01-02 CRITICAL disk failure`, logtriage.Fatal, "", "plain"},
		{"most severe word wins", `WARN retry 3 failed, FATAL giving up`, logtriage.Fatal, "", "plain"},
		{"surrounding space is trimmed", "   ERROR spaced out   ", logtriage.Error, "ERROR spaced out", "plain"},
		{"word inside an identifier is not a level", `ERRORS_TOTAL=0 WARNINGS=0`, logtriage.Info, "", "plain"},
		{"lower-case mention is not a level", `INFO no errors found, 0 warnings`, logtriage.Info, "", "plain"},
		{"mention beyond the head is ignored", "INFO query " + strings.Repeat("x", 200) + " ERROR", logtriage.Info, "", "plain"},
		{"empty line", "", logtriage.Info, "", "plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := logtriage.Classify(c.line)
			want := c.msg
			if want == "" {
				want = strings.TrimSpace(c.line)
			}
			if p.Level != c.level || p.Message != want || p.Format != c.format {
				t.Errorf("Classify(%q) = {%s %q %s}, want {%s %q %s}", c.line, p.Level, p.Message, p.Format, c.level, want, c.format)
			}
		})
	}
}

func TestLevelOrder(t *testing.T) {
	t.Parallel()
	order := []logtriage.Level{logtriage.Fatal, logtriage.Panic, logtriage.Exception, logtriage.Error, logtriage.Warn, logtriage.Info}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() <= order[i].Rank() {
			t.Errorf("%s (rank %d) should outrank %s (rank %d)", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	if logtriage.Level("debug").Rank() != logtriage.Info.Rank() || logtriage.Level("").IsIssue() {
		t.Error("unknown levels must rank as info and not be issues")
	}
	if len(logtriage.IssueLevels) != 5 {
		t.Fatalf("IssueLevels = %v", logtriage.IssueLevels)
	}
	for i, l := range logtriage.IssueLevels {
		if !l.IsIssue() || l != order[i] {
			t.Errorf("IssueLevels[%d] = %s, want issue level %s", i, l, order[i])
		}
	}
	if logtriage.Info.IsIssue() {
		t.Error("info is an issue")
	}
}
