package logtriage

import (
	"sort"
	"strings"
	"time"
)

// maxExampleLen caps an example so one huge line cannot bloat a report.
const maxExampleLen = 2000

// splitStreams keeps each stream's lines in order and finds the newest time.
func splitStreams(lines []Line, last *time.Time) [][]Line {
	one := true
	for _, l := range lines {
		one = one && l.Stream == lines[0].Stream
		if l.Time.After(*last) {
			*last = l.Time
		}
	}
	if one {
		return [][]Line{lines} // the usual case: no copy
	}
	idx := map[string]int{}
	var out [][]Line
	for _, l := range lines {
		i, ok := idx[l.Stream]
		if !ok {
			i = len(out)
			idx[l.Stream] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], l)
	}
	return out
}

// classifyEntry classifies an entry's text, promoting traces: an info line
// carrying a Java stack trace, or any Python traceback, is an exception.
func classifyEntry(e Entry) Parsed {
	p := Classify(e.Text)
	if p.Level.Rank() < Exception.Rank() && e.Lines > 1 && e.kind == javaTrace {
		p.Level = Exception
	}
	if e.kind == pyTrace && !p.Level.IsIssue() {
		p.Level = Exception
	}
	return p
}

// mineText is what the miner sees: the message of a structured line (its
// keys and their order are not the template), the whole line otherwise,
// where the miner's learned header takes off time stamps and the like.
func mineText(x mined) string {
	if x.p.Format == "json" || x.p.Format == "logfmt" {
		return x.p.Message
	}
	return x.e.Text
}

func example(e Entry) string {
	ex := e.Text
	if len(e.Trace) > 0 {
		ex = strings.Join(append([]string{e.Text}, e.Trace...), "\n")
		if e.kind == pyTrace {
			ex = strings.Join(append([]string{"Traceback (most recent call last):"}, e.Trace...), "\n")
		}
	}
	return truncate(ex, maxExampleLen)
}

// add counts one more entry of the template.
func (t *Template) add(e Entry) {
	t.Count++
	if e.Time.Before(t.FirstSeen) {
		t.FirstSeen = e.Time
	}
	if e.Time.After(t.LastSeen) {
		t.LastSeen = e.Time
	}
	for _, s := range t.Streams {
		if s == e.Stream {
			return
		}
	}
	t.Streams = append(t.Streams, e.Stream)
}

// sortTemplates puts the most severe, then the most frequent first.
func sortTemplates(ts []Template) {
	sort.Slice(ts, func(i, j int) bool {
		ti, tj := ts[i], ts[j]
		if ti.Level.Rank() != tj.Level.Rank() {
			return ti.Level.Rank() > tj.Level.Rank()
		}
		if ti.Count != tj.Count {
			return ti.Count > tj.Count
		}
		return ti.Pattern < tj.Pattern
	})
}
