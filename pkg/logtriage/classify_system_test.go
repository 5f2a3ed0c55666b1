package logtriage_test

import (
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

// TestClassifySyslogAndLogcat: the level of syslog lines (PRI or a level
// word opening the message) and of Android logcat lines (brief W/Tag,
// threadtime's letter column), and text that only looks like them.
func TestClassifySyslogAndLogcat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		line   string
		level  logtriage.Level
		format string
	}{
		// syslog with a PRI: facility*8 + severity
		{"rfc3164 err", `<11>Jan  2 15:04:05 web01 app[42]: cannot open /var/lib/app/db`, logtriage.Error, "syslog"},
		{"rfc3164 warning", `<12>Jan  2 15:04:05 web01 app[42]: disk 91% full`, logtriage.Warn, "syslog"},
		{"rfc3164 crit", `<2>Jan  2 15:04:05 web01 kernel: Kernel panic - not syncing`, logtriage.Fatal, "syslog"},
		{"rfc3164 emerg", `<0>Jan  2 15:04:05 web01 kernel: machine check`, logtriage.Fatal, "syslog"},
		{"rfc3164 notice", `<13>Jan  2 15:04:05 web01 cron[7]: job started`, logtriage.Info, "syslog"},
		{"rfc5424 local4 err", `<163>1 2024-01-02T15:04:05.003Z web01 api 42 - - upstream reset`, logtriage.Error, "syslog"},
		{"rfc5424 debug", `<191>1 2024-01-02T15:04:05Z web01 api - - - cache hit`, logtriage.Info, "syslog"},
		{"pri info but the text says ERROR", `<14>Jan  2 15:04:05 web01 app: ERROR payment failed`, logtriage.Error, "syslog"},
		{"pri out of range is text", `<999>Jan  2 15:04:05 web01 app: hello`, logtriage.Info, "plain"},
		{"angle bracket without digits is text", `<html> served`, logtriage.Info, "plain"},
		// BSD syslog as files hold it: the level opens the message
		{"sshd error", `Jun 14 15:16:01 combo sshd[19939]: error: PAM: Authentication failure for root`, logtriage.Error, "syslog"},
		{"postfix warning", `Jan  2 15:04:05 mx postfix/smtpd[511]: warning: hostname example.com does not resolve`, logtriage.Warn, "syslog"},
		{"kernel fatal word", `Jul 27 14:41:57 combo kernel: Fatal: cannot mount root`, logtriage.Fatal, "syslog"},
		{"plain syslog info", `Jun 14 15:16:01 combo sshd(pam_unix)[19939]: session opened for user root`, logtriage.Info, "syslog"},
		{"error later in the message is not a level", `Jun 14 15:16:01 combo app[1]: retried after error: EOF`, logtriage.Info, "syslog"},
		{"month-like word without a clock is text", `May the build pass: yes it did`, logtriage.Info, "plain"},
		// logcat brief
		{"logcat W", `W/ActivityManager(  612): Slow operation: 150ms so far`, logtriage.Warn, "logcat"},
		{"logcat E", `E/SQLiteLog( 1234): (14) cannot open file at line 31278`, logtriage.Error, "logcat"},
		{"logcat E naming an exception", `E/AndroidRuntime( 1234): java.lang.NullPointerException`, logtriage.Exception, "logcat"},
		{"logcat E with FATAL text", `E/AndroidRuntime( 1234): FATAL EXCEPTION: main`, logtriage.Fatal, "logcat"},
		{"logcat F", `F/libc    ( 2345): Fatal signal 11 (SIGSEGV)`, logtriage.Fatal, "logcat"},
		{"logcat A (assert)", `A/DEBUG: assertion failed`, logtriage.Fatal, "logcat"},
		{"logcat I", `I/chromium( 3456): [INFO:CONSOLE(1)] ready`, logtriage.Info, "logcat"},
		{"logcat D without pid", `D/NetworkMonitor: probe ok`, logtriage.Info, "logcat"},
		{"I/O is text", `I/O error on /dev/sda1`, logtriage.Info, "plain"},
		{"A/B is text", `A/B test bucket 3 assigned`, logtriage.Info, "plain"},
		// logcat threadtime and time
		{"threadtime W", `01-02 15:04:05.123  1234  5678 W WifiStateMachine: roam failed`, logtriage.Warn, "logcat"},
		{"threadtime E", `01-02 15:04:05.123  1234  1234 E SQLiteLog: (14) cannot open file`, logtriage.Error, "logcat"},
		{"threadtime I", `01-02 15:04:05.123  1234  1234 I ActivityManager: Start proc`, logtriage.Info, "logcat"},
		{"time format", `01-02 15:04:05.123 E/Vold(  120): volume not mounted`, logtriage.Error, "logcat"},
		{"date-like digits are text", `12-31 23:59:59.999 happy new year`, logtriage.Info, "plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := logtriage.Classify(c.line)
			if p.Level != c.level || p.Format != c.format || p.Message != c.line {
				t.Errorf("Classify(%q) = {%s %q %s}, want {%s, the line, %s}", c.line, p.Level, p.Message, p.Format, c.level, c.format)
			}
		})
	}
}

// TestAnalyzeLogcat: logcat lines are triaged like any others, issues by
// their letter, and lines differing only in numbers share a template.
func TestAnalyzeLogcat(t *testing.T) {
	t.Parallel()
	var in []logtriage.Line
	for _, l := range []string{
		"W/ActivityManager(  612): Slow operation: 150ms so far, now at startProcess",
		"I/ActivityManager(  612): Start proc 4242:com.example/u0a77",
		"W/ActivityManager(  612): Slow operation: 212ms so far, now at startProcess",
		"E/SQLiteLog( 1234): (14) cannot open file at line 31278",
		"E/SQLiteLog( 1234): (14) cannot open file at line 31290",
	} {
		in = append(in, logtriage.Line{Time: t0, Stream: "stdout", Text: l})
	}
	a := logtriage.Analyze(in, nil)
	if a.LevelCounts[logtriage.Warn] != 2 || a.LevelCounts[logtriage.Error] != 2 || a.LevelCounts[logtriage.Info] != 1 {
		t.Errorf("levels = %v", a.LevelCounts)
	}
	if w := byPattern(a, "Slow operation"); w == nil || w.Count != 2 || w.Level != logtriage.Warn {
		t.Errorf("slow operation template = %+v", w)
	}
	if e := byPattern(a, "cannot open file"); e == nil || e.Count != 2 || e.Level != logtriage.Error {
		t.Errorf("sqlite template = %+v", e)
	}
}
