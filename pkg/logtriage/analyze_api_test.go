package logtriage_test

import (
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

func byPattern(a logtriage.Analysis, sub string) *logtriage.Template {
	for i := range a.Templates {
		if strings.Contains(a.Templates[i].Pattern, sub) {
			return &a.Templates[i]
		}
	}
	return nil
}

func TestAnalyzeEmpty(t *testing.T) {
	t.Parallel()
	a := logtriage.Analyze(nil, nil)
	if a.Lines != 0 || a.Entries != 0 || len(a.Templates) != 0 || !a.LastTime.IsZero() || a.Issues() != 0 {
		t.Errorf("analysis of nothing = %+v", a)
	}
	if a.LevelCounts == nil {
		t.Error("LevelCounts is nil: it is marshalled as null instead of {}")
	}
}

// TestAnalyzeKeepsStreamsApart: a trace on stderr interleaved with stdout
// lines is still folded into one entry, and one template seen on both
// streams lists both.
func TestAnalyzeKeepsStreamsApart(t *testing.T) {
	t.Parallel()
	in := []logtriage.Line{
		{Time: t0, Stream: "stderr", Text: "panic: boom"},
		{Time: t0.Add(1 * time.Second), Stream: "stdout", Text: "ERROR cache miss for key 1"},
		{Time: t0.Add(2 * time.Second), Stream: "stderr", Text: ""},
		{Time: t0.Add(3 * time.Second), Stream: "stderr", Text: "goroutine 1 [running]:"},
		{Time: t0.Add(4 * time.Second), Stream: "stdout", Text: "INFO serving"},
		{Time: t0.Add(5 * time.Second), Stream: "stderr", Text: "main.main()"},
		{Time: t0.Add(6 * time.Second), Stream: "stderr", Text: "ERROR cache miss for key 2"},
	}
	a := logtriage.Analyze(in, nil)
	if a.Lines != 7 || a.Entries != 4 {
		t.Errorf("lines %d entries %d, want 7 and 4", a.Lines, a.Entries)
	}
	if !a.LastTime.Equal(t0.Add(6 * time.Second)) {
		t.Errorf("last time %v", a.LastTime)
	}
	p := byPattern(a, "panic: boom")
	if p == nil || p.Level != logtriage.Panic || !strings.Contains(p.Example, "goroutine 1 [running]:") || !strings.Contains(p.Example, "main.main()") {
		t.Fatalf("panic template = %+v", p)
	}
	c := byPattern(a, "cache miss")
	if c == nil || c.Count != 2 || c.Pattern != "ERROR cache miss for key <*>" {
		t.Fatalf("cache template = %+v", c)
	}
	streams := append([]string(nil), c.Streams...)
	sort.Strings(streams)
	if strings.Join(streams, ",") != "stderr,stdout" {
		t.Errorf("streams = %v, want both", c.Streams)
	}
	if !c.FirstSeen.Equal(t0.Add(time.Second)) || !c.LastSeen.Equal(t0.Add(6*time.Second)) {
		t.Errorf("first/last seen = %v / %v", c.FirstSeen, c.LastSeen)
	}
	if a.LevelCounts[logtriage.Info] != 1 || a.LevelCounts[logtriage.Panic] != 1 || a.LevelCounts[logtriage.Error] != 2 || a.Issues() != 3 {
		t.Errorf("level counts %v, issues %d", a.LevelCounts, a.Issues())
	}
}

func TestAnalyzeOrdersBySeverityThenCount(t *testing.T) {
	t.Parallel()
	a := logtriage.Analyze(lines("stdout",
		"WARN slow request 1",
		"WARN slow request 2",
		"WARN slow request 3",
		"ERROR db down",
		"ERROR queue full",
		"ERROR queue full",
		"ERROR auth failed",
		"fatal error: out of memory",
		"INFO fine",
	), nil)
	var got []string
	for _, tp := range a.Templates {
		got = append(got, string(tp.Level)+":"+tp.Pattern)
	}
	want := []string{
		"fatal:fatal error: out of memory",
		"error:ERROR queue full",  // the more frequent error first
		"error:ERROR auth failed", // then equal counts by pattern
		"error:ERROR db down",
		"warn:WARN slow request <*>",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	if a.Issues() != 8 {
		t.Errorf("issues = %d, want 8", a.Issues())
	}
}

// TestAnalyzeFirstAndLastSeenFollowTime: lines of different streams arrive
// in stream order, not time order; the template's bounds are by time.
func TestAnalyzeFirstAndLastSeenFollowTime(t *testing.T) {
	t.Parallel()
	a := logtriage.Analyze([]logtriage.Line{
		{Time: t0.Add(10 * time.Second), Stream: "stdout", Text: "ERROR x 1"},
		{Time: t0.Add(5 * time.Second), Stream: "stderr", Text: "ERROR x 2"},
		{Time: t0.Add(20 * time.Second), Stream: "stderr", Text: "ERROR x 3"},
	}, nil)
	if len(a.Templates) != 1 {
		t.Fatalf("templates = %+v", a.Templates)
	}
	tp := a.Templates[0]
	if tp.Count != 3 || !tp.FirstSeen.Equal(t0.Add(5*time.Second)) || !tp.LastSeen.Equal(t0.Add(20*time.Second)) {
		t.Errorf("template = %+v", tp)
	}
	if tp.Example != "ERROR x 1" {
		t.Errorf("example %q, want the first line met", tp.Example)
	}
}

func TestAnalyzePromotesTraces(t *testing.T) {
	t.Parallel()
	// An info line carrying a Java stack trace is an exception.
	a := logtriage.Analyze(lines("stdout",
		"INFO handler returned",
		"\tat com.example.H.run(H.java:1)",
		"\tat java.lang.Thread.run(Thread.java:833)",
	), nil)
	if a.LevelCounts[logtriage.Exception] != 1 || len(a.Templates) != 1 || a.Templates[0].Pattern != "INFO handler returned" {
		t.Errorf("java trace under info: counts %v templates %+v", a.LevelCounts, a.Templates)
	}
	// A Python traceback whose last line is not a recognised exception is
	// still an exception; its example starts with the traceback header.
	a = logtriage.Analyze(lines("stderr",
		"Traceback (most recent call last):",
		`  File "/app/run.py", line 9, in <module>`,
		"SystemExit: 3",
	), nil)
	if len(a.Templates) != 1 || a.Templates[0].Level != logtriage.Exception {
		t.Fatalf("python templates = %+v", a.Templates)
	}
	ex := a.Templates[0].Example
	if !strings.HasPrefix(ex, "Traceback (most recent call last):\n") || !strings.HasSuffix(ex, "\nSystemExit: 3") {
		t.Errorf("python example = %q", ex)
	}
	if a.Templates[0].Pattern != "SystemExit: <*>" {
		t.Errorf("python pattern = %q", a.Templates[0].Pattern)
	}
}

func TestAnalyzeKnownTemplates(t *testing.T) {
	t.Parallel()
	in := lines("stdout", "ERROR disk 1 full", "WARN retry 2", "ERROR disk 3 full")
	first := logtriage.Analyze(in, nil)
	known := map[string]bool{}
	for _, tp := range first.Templates {
		if strings.Contains(tp.Pattern, "disk") {
			known[tp.Key] = true
		}
	}
	second := logtriage.Analyze(in, known)
	for _, tp := range second.Templates {
		if tp.New == known[tp.Key] {
			t.Errorf("template %q: new=%v, known=%v", tp.Pattern, tp.New, known[tp.Key])
		}
	}
}

func TestAnalyzeCapsTheExample(t *testing.T) {
	t.Parallel()
	long := "ERROR " + strings.Repeat("y", 5000)
	a := logtriage.Analyze(lines("stdout", long), nil)
	if len(a.Templates) != 1 {
		t.Fatalf("templates = %d", len(a.Templates))
	}
	ex := a.Templates[0].Example
	if len(ex) > 2000+len("…") || !strings.HasSuffix(ex, "…") || !strings.HasPrefix(ex, "ERROR yyy") {
		t.Errorf("example is %d bytes", len(ex))
	}
}

func TestAnalyzeExampleKeepsUTF8(t *testing.T) {
	t.Parallel()
	a := logtriage.Analyze(lines("stdout", "ERROR x"+strings.Repeat("ü", 1500)), nil)
	if ex := a.Templates[0].Example; !utf8.ValidString(ex) {
		t.Errorf("example is not valid UTF-8: %q", ex[len(ex)-8:])
	}
}
