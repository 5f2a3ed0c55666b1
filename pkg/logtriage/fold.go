package logtriage

import (
	"regexp"
	"strings"
	"time"
)

// Line is one raw log line of one stream.
type Line struct {
	Time   time.Time
	Stream string // stdout or stderr
	Text   string
}

// Entry is a log event after folding: a head line and the trace lines that
// belong to it.
type Entry struct {
	Time   time.Time
	Stream string
	// Text is what is classified and templated: the head line, or for a
	// Python traceback the exception line that ends it.
	Text string
	// Lines is how many raw lines were folded into this entry.
	Lines int
	// Trace holds the folded lines (for the example), capped.
	Trace []string
	kind  traceKind
	done  bool
}

type traceKind int

const (
	noTrace traceKind = iota
	goTrace
	pyTrace
	javaTrace
)

const maxTraceLines = 12

var (
	goTraceLineRe = regexp.MustCompile(`^(goroutine \d+ \[|created by |\[signal |exit status \d+|[\w./*()\[\]{}\-]+\(.*\)$)`)
	javaContRe    = regexp.MustCompile(`^(\s+at \S|\s*\.\.\. \d+ (more|common frames omitted)|Caused by: |\s+Suppressed: )`)
	// A Java exception line logged right under the message that reports it.
	javaHeadRe = regexp.MustCompile(`^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::|$)`)
	pyEndRe    = regexp.MustCompile(`^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration)?(?::|$)`)
)

// Fold groups the lines of one stream into entries, folding Go panics, Python
// tracebacks and Java stack traces into their head line. Lines must be in
// order and of one stream.
func Fold(lines []Line) []Entry {
	out := make([]Entry, 0, len(lines))
	var cur *Entry
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for _, l := range lines {
		text := strings.TrimRight(l.Text, "\r\n")
		if cur != nil && !cur.done && continues(cur, text) {
			cur.Lines++
			if len(cur.Trace) < maxTraceLines {
				cur.Trace = append(cur.Trace, text)
			}
			if cur.kind == pyTrace && !startsWithSpace(text) && text != "" {
				// The exception line ends a traceback and says what happened.
				cur.Text = text
				cur.done = true
			}
			if cur.kind == noTrace {
				cur.kind = javaTrace
			}
			continue
		}
		flush()
		e := Entry{Time: l.Time, Stream: l.Stream, Text: text, Lines: 1}
		switch {
		case strings.HasPrefix(text, "panic: ") || strings.HasPrefix(text, "fatal error: "):
			e.kind = goTrace
		case strings.HasPrefix(text, "Traceback (most recent call last)"):
			e.kind = pyTrace
		}
		cur = &e
	}
	flush()
	return out
}

func continues(cur *Entry, text string) bool {
	switch cur.kind {
	case goTrace:
		return text == "" || startsWithSpace(text) || goTraceLineRe.MatchString(text)
	case pyTrace:
		if startsWithSpace(text) {
			return true
		}
		// The first unindented line ends it, if it looks like an exception.
		return pyEndRe.MatchString(text)
	}
	// Java (and anything logging a Java-style trace under its message).
	// The cheap tests first: this runs on every line.
	if (startsWithSpace(text) || strings.HasPrefix(text, "Caused by: ") || strings.HasPrefix(text, "...")) && javaContRe.MatchString(text) {
		return true
	}
	return cur.Lines == 1 && text != "" && text[0] >= 'a' && text[0] <= 'z' && strings.IndexByte(text, '.') > 0 &&
		javaHeadRe.MatchString(text) && Classify(cur.Text).Level.IsIssue()
}

func startsWithSpace(s string) bool {
	return s != "" && (s[0] == ' ' || s[0] == '\t')
}
