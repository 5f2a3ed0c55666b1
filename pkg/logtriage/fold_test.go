package logtriage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// lines makes one stream's lines, a second apart.
func lines(stream string, texts ...string) []logtriage.Line {
	out := make([]logtriage.Line, len(texts))
	for i, s := range texts {
		out[i] = logtriage.Line{Time: t0.Add(time.Duration(i) * time.Second), Stream: stream, Text: s}
	}
	return out
}

func texts(es []logtriage.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Text)
	}
	return out
}

func TestFoldGoPanic(t *testing.T) {
	t.Parallel()
	es := logtriage.Fold(lines("stderr",
		"starting",
		"panic: assignment to entry in nil map",
		"",
		"goroutine 7 [running]:",
		"main.(*Server).handle(0xc0000a2000, {0x0, 0x0})",
		"\t/src/server.go:88 +0x2c",
		"created by main.main in goroutine 1",
		"\t/src/main.go:12 +0x55",
		"exit status 2",
		"restarting",
	))
	if got := texts(es); len(got) != 3 || got[0] != "starting" || got[1] != "panic: assignment to entry in nil map" || got[2] != "restarting" {
		t.Fatalf("entries = %q", got)
	}
	p := es[1]
	if p.Lines != 8 || len(p.Trace) != 7 || p.Trace[2] != "main.(*Server).handle(0xc0000a2000, {0x0, 0x0})" {
		t.Errorf("panic entry lines=%d trace=%q", p.Lines, p.Trace)
	}
	if !p.Time.Equal(t0.Add(time.Second)) || p.Stream != "stderr" {
		t.Errorf("panic entry keeps its head's time and stream: %v %s", p.Time, p.Stream)
	}
}

func TestFoldPythonTracebackTakesTheExceptionLine(t *testing.T) {
	t.Parallel()
	es := logtriage.Fold(lines("stderr",
		"Traceback (most recent call last):",
		`  File "/app/x.py", line 3, in <module>`,
		"    main()",
		"KeyError: 'user_id'",
		"worker exiting",
	))
	if len(es) != 2 {
		t.Fatalf("entries = %q", texts(es))
	}
	if es[0].Text != "KeyError: 'user_id'" || es[0].Lines != 4 {
		t.Errorf("traceback entry text %q lines %d", es[0].Text, es[0].Lines)
	}
	if es[1].Text != "worker exiting" {
		t.Errorf("the line after the exception started %q", es[1].Text)
	}
	// A traceback cut off before its exception line still ends at the first
	// unindented line that is not one.
	es = logtriage.Fold(lines("stderr", "Traceback (most recent call last):", `  File "a.py", line 1`, "Killed by supervisor"))
	if len(es) != 2 || es[0].Text != "Traceback (most recent call last):" || es[1].Text != "Killed by supervisor" {
		t.Errorf("cut traceback = %q", texts(es))
	}
}

func TestFoldJavaTraces(t *testing.T) {
	t.Parallel()
	es := logtriage.Fold(lines("stdout",
		"2024-01-02 15:04:06 ERROR [main] c.e.Api : request failed",
		"java.lang.IllegalArgumentException: id must be positive",
		"\tat com.example.Api.get(Api.java:10)",
		"Caused by: java.io.IOException: closed",
		"\t... 3 more",
		"\tSuppressed: java.lang.Exception: cleanup",
		"2024-01-02 15:04:07 INFO [main] c.e.Api : recovered",
		"java.lang.IllegalStateException: logged at info stays on its own",
	))
	if len(es) != 3 {
		t.Fatalf("entries = %q", texts(es))
	}
	if es[0].Text != "2024-01-02 15:04:06 ERROR [main] c.e.Api : request failed" || es[0].Lines != 6 {
		t.Errorf("java entry %q folded %d lines", es[0].Text, es[0].Lines)
	}
	if es[2].Text != "java.lang.IllegalStateException: logged at info stays on its own" {
		t.Errorf("exception line under an info message was folded: %q", texts(es))
	}
}

func TestFoldCapsTheTraceButCountsEveryLine(t *testing.T) {
	t.Parallel()
	in := []string{"panic: boom", "", "goroutine 1 [running]:"}
	for i := 0; i < 40; i++ {
		in = append(in, fmt.Sprintf("main.f%d()", i), fmt.Sprintf("\t/src/f.go:%d +0x1", i))
	}
	es := logtriage.Fold(lines("stderr", in...))
	if len(es) != 1 {
		t.Fatalf("entries = %d, want 1", len(es))
	}
	if es[0].Lines != len(in) {
		t.Errorf("lines = %d, want %d", es[0].Lines, len(in))
	}
	if len(es[0].Trace) > 12 || len(es[0].Trace) == 0 {
		t.Errorf("trace kept %d lines, want a cap of 12", len(es[0].Trace))
	}
}

func TestFoldTrimsLineEndings(t *testing.T) {
	t.Parallel()
	es := logtriage.Fold(lines("stdout", "ERROR one\r\n", "INFO two\r"))
	if got := texts(es); len(got) != 2 || got[0] != "ERROR one" || got[1] != "INFO two" {
		t.Errorf("entries = %q", got)
	}
	if es := logtriage.Fold(nil); len(es) != 0 {
		t.Errorf("no lines gave entries %+v", es)
	}
}
