package logtriage

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readCorpus loads a testdata log as lines of one stream, one second apart.
func readCorpus(t *testing.T, name string) []Line {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	base := time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC)
	var lines []Line
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		lines = append(lines, Line{Time: base.Add(time.Duration(i) * time.Second), Stream: "stdout", Text: sc.Text()})
	}
	return lines
}

type wantTemplate struct {
	level    Level
	contains string // substring of the pattern
	count    int
}

func TestAnalyzeCorpus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file      string
		levels    map[Level]int
		templates []wantTemplate
	}{
		{"nginx.log", map[Level]int{Error: 4, Warn: 1, Info: 2}, []wantTemplate{
			{Error, `- - <*>/Jan/<*>`, 2},
			{Error, "connect() failed (<*> Connection refused) while connecting to upstream, client: <*>,", 2},
			{Warn, "an upstream response is buffered", 1},
		}},
		{"postgres.log", map[Level]int{Fatal: 1, Error: 2, Warn: 1, Info: 2}, []wantTemplate{
			{Error, `ERROR: relation "users" does not exist at character <*>`, 2},
			{Fatal, `password authentication failed for user "app"`, 1},
			{Warn, "there is no transaction in progress", 1},
		}},
		{"redis.log", map[Level]int{Warn: 4, Info: 1}, []wantTemplate{
			{Warn, "# Background saving error", 2},
			{Warn, "WARNING Memory overcommit must be enabled", 1},
		}},
		{"gopanic.log", map[Level]int{Panic: 1, Info: 2}, []wantTemplate{
			{Panic, "panic: runtime error: index out of range [<*>] with length <*>", 1},
		}},
		{"python.log", map[Level]int{Exception: 2, Info: 2}, []wantTemplate{
			{Exception, "requests.exceptions.ConnectionError: HTTPConnectionPool(host=<*> port=<*> Max retries exceeded with url: /jobs/<*>", 2},
		}},
		{"java.log", map[Level]int{Exception: 2, Info: 1}, []wantTemplate{
			{Exception, "Servlet.service() threw exception", 1},
			{Exception, `Exception in thread <*> java.util.concurrent.RejectedExecutionException`, 1},
		}},
		{"json.log", map[Level]int{Fatal: 1, Error: 3, Warn: 1, Info: 1}, []wantTemplate{
			{Error, "upstream timeout after <*>", 2},
			{Error, "payment failed for order <*>", 1},
			{Warn, "slow query: query took <*>", 1},
			{Fatal, "disk /dev/<*> is <*> full", 1},
		}},
		{"logfmt.log", map[Level]int{Fatal: 1, Error: 2, Warn: 1, Info: 1}, []wantTemplate{
			{Error, "query failed: dial tcp <*> connect: connection refused", 2},
			{Warn, "retrying", 1},
			{Fatal, "out of memory", 1},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			a := Analyze(readCorpus(t, c.file), nil)
			for lvl, n := range c.levels {
				if a.LevelCounts[lvl] != n {
					t.Errorf("level %s: got %d entries, want %d (all: %v)", lvl, a.LevelCounts[lvl], n, a.LevelCounts)
				}
			}
			for _, w := range c.templates {
				found := false
				for _, tp := range a.Templates {
					if tp.Level == w.level && strings.Contains(tp.Pattern, w.contains) {
						found = true
						if tp.Count != w.count {
							t.Errorf("template %q: count %d, want %d", tp.Pattern, tp.Count, w.count)
						}
						if !tp.New {
							t.Errorf("template %q: not marked new without known templates", tp.Pattern)
						}
					}
				}
				if !found {
					t.Errorf("no %s template containing %q; templates:\n%s", w.level, w.contains, dump(a.Templates))
				}
			}
		})
	}
}

func dump(ts []Template) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString("  " + string(t.Level) + " x" + itoa(t.Count) + ": " + t.Pattern + "\n")
	}
	return b.String()
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

func TestGoPanicFoldedWithTrace(t *testing.T) {
	t.Parallel()
	a := Analyze(readCorpus(t, "gopanic.log"), nil)
	if a.Entries != 3 {
		t.Fatalf("entries = %d, want 3 (line, panic with its trace, line)", a.Entries)
	}
	var panicT *Template
	for i := range a.Templates {
		if a.Templates[i].Level == Panic {
			panicT = &a.Templates[i]
		}
	}
	if panicT == nil {
		t.Fatal("no panic template")
	}
	for _, want := range []string{"goroutine 1 [running]:", "/app/main.go:42"} {
		if !strings.Contains(panicT.Example, want) {
			t.Errorf("panic example lacks %q:\n%s", want, panicT.Example)
		}
	}
}

func TestKnownTemplatesAreNotNew(t *testing.T) {
	t.Parallel()
	first := Analyze(readCorpus(t, "logfmt.log"), nil)
	known := map[string]bool{}
	for _, tp := range first.Templates {
		known[tp.Key] = true
	}
	second := Analyze(readCorpus(t, "logfmt.log"), known)
	for _, tp := range second.Templates {
		if tp.New {
			t.Errorf("template %q known from the first triage but marked new", tp.Pattern)
		}
	}
}

func TestTemplatizeMasks(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"user 3f2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f70 not found":      "user <uuid> not found",
		"dial 192.168.1.20:6379 failed after 250ms":                "dial <ip> failed after <dur> failed",
		"container 4f9a8b7c6d5e restarted at 2024-01-02T15:04:05Z": "container <hex> restarted at <ts>",
		"ptr 0xc000012345 freed twice, took 1h2m3.5s":              "ptr <hex> freed twice, took <dur>",
		"retry 3 of 10 for [fe80::1]:8080":                         "retry <num> of <num> for <ip>",
	}
	for in, want := range cases {
		want = strings.Replace(want, " failed after <dur> failed", " failed after <dur>", 1)
		if got := Templatize(in); got != want {
			t.Errorf("Templatize(%q) = %q, want %q", in, got, want)
		}
	}
}
