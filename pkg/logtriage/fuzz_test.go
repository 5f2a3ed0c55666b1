package logtriage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

// FuzzAnalyze: any container output (split into lines, alternating streams)
// is triaged without panicking, and the counts add up: every entry has one
// level, every issue entry is in exactly one template, templates are sorted.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), uint8(0))
	}
	f.Add("panic: x\n\ngoroutine 1 [running]:\nTraceback (most recent call last):\n  x\nValueError: y", uint8(3))
	f.Add(`{"level":55,"msg":"","error":"a\nb"}`+"\n{\n\tat x", uint8(1))
	f.Fuzz(func(t *testing.T, out string, mix uint8) {
		raw := strings.Split(out, "\n")
		in := make([]logtriage.Line, len(raw))
		for i, s := range raw {
			stream := "stdout"
			if mix != 0 && i%int(mix%4+1) == 0 {
				stream = "stderr"
			}
			in[i] = logtriage.Line{Time: t0.Add(-time1(i)), Stream: stream, Text: s}
		}
		a := logtriage.Analyze(in, nil)
		if a.Lines != len(in) || a.Entries > a.Lines || a.Entries < 1 {
			t.Fatalf("lines %d entries %d for %d lines", a.Lines, a.Entries, len(in))
		}
		sum := 0
		for _, n := range a.LevelCounts {
			sum += n
		}
		if sum != a.Entries {
			t.Fatalf("level counts %v add up to %d, entries %d", a.LevelCounts, sum, a.Entries)
		}
		inTemplates := 0
		for i, tp := range a.Templates {
			inTemplates += tp.Count
			if !tp.Level.IsIssue() || tp.Count < 1 || !tp.New || len(tp.Streams) == 0 {
				t.Fatalf("template %+v", tp)
			}
			if tp.FirstSeen.After(tp.LastSeen) {
				t.Fatalf("template first seen %v after last seen %v", tp.FirstSeen, tp.LastSeen)
			}
			if i > 0 {
				p := a.Templates[i-1]
				if p.Level.Rank() < tp.Level.Rank() || p.Level == tp.Level && p.Count < tp.Count {
					t.Fatalf("templates out of order: %s x%d before %s x%d", p.Level, p.Count, tp.Level, tp.Count)
				}
			}
		}
		if inTemplates != a.Issues() {
			t.Fatalf("templates hold %d entries, issues %d", inTemplates, a.Issues())
		}
	})
}

func time1(i int) time.Duration { return time.Duration(i) * time.Second }

// FuzzTemplatize: masking is bounded, whitespace-normalised and
// deterministic (the same message always gets the same template key).
func FuzzTemplatize(f *testing.F) {
	for _, s := range []string{
		"dial 192.168.1.20:6379 failed after 250ms", "user 3f2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f70 not found",
		"retry 3 of 10 for [fe80::1]:8080", "2024-01-02T15:04:05Z 0xdeadbeef 1h2m3.5s",
		strings.Repeat("ab ", 150), "a::b::c 1:2:3:4:5:6:7:8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := logtriage.Templatize(msg)
		if len(got) > 300+len("…") {
			t.Fatalf("template of %d bytes", len(got))
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") || strings.ContainsAny(got, "\n\t\r") {
			t.Fatalf("whitespace not normalised: %q", got)
		}
		if again := logtriage.Templatize(msg); again != got {
			t.Fatalf("not deterministic: %q then %q", got, again)
		}
		_ = logtriage.TemplateKey(logtriage.Error, got)
		_ = logtriage.Classify(msg)
	})
}
