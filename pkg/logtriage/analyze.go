package logtriage

import (
	"sort"
	"strings"
	"time"
)

// Template is a group of issue entries that differ only in masked parts.
type Template struct {
	Key       string    `json:"key"`
	Level     Level     `json:"level"`
	Pattern   string    `json:"pattern"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Example   string    `json:"example"`
	// Streams the template was seen on (stdout, stderr).
	Streams []string `json:"streams"`
	New     bool     `json:"new"`
}

// Analysis is the outcome of triaging one container's lines.
type Analysis struct {
	Lines       int           `json:"lines"`
	Entries     int           `json:"entries"`
	LevelCounts map[Level]int `json:"level_counts"`
	// Templates of issue entries (warn and worse), most severe and most
	// frequent first.
	Templates []Template `json:"templates"`
	// LastTime is the time of the newest line read (zero when none).
	LastTime time.Time `json:"last_time"`
}

// maxExampleLen caps an example so one huge line cannot bloat a report.
const maxExampleLen = 2000

// Analyze folds, classifies and templates the lines of one container. Lines
// may mix streams; each stream is folded on its own so a trace on stderr is
// not cut by stdout lines. known holds the template keys of the previous
// triage; templates not in it are marked New.
func Analyze(lines []Line, known map[string]bool) Analysis {
	a := Analysis{LevelCounts: map[Level]int{}}
	byStream := map[string][]Line{}
	var streams []string
	for _, l := range lines {
		if _, ok := byStream[l.Stream]; !ok {
			streams = append(streams, l.Stream)
		}
		byStream[l.Stream] = append(byStream[l.Stream], l)
		if l.Time.After(a.LastTime) {
			a.LastTime = l.Time
		}
	}
	a.Lines = len(lines)
	groups := map[string]*Template{}
	for _, s := range streams {
		for _, e := range Fold(byStream[s]) {
			a.Entries++
			p := Classify(e.Text)
			if p.Level.Rank() < Exception.Rank() && e.Lines > 1 && e.kind == javaTrace {
				p.Level = Exception // an info line carrying a stack trace
			}
			if e.kind == pyTrace && !p.Level.IsIssue() {
				p.Level = Exception
			}
			a.LevelCounts[p.Level]++
			if !p.Level.IsIssue() {
				continue
			}
			pattern := Templatize(p.Message)
			key := TemplateKey(p.Level, pattern)
			t := groups[key]
			if t == nil {
				ex := e.Text
				if len(e.Trace) > 0 {
					ex = strings.Join(append([]string{e.Text}, e.Trace...), "\n")
					if e.kind == pyTrace {
						ex = strings.Join(append([]string{"Traceback (most recent call last):"}, e.Trace...), "\n")
					}
				}
				if len(ex) > maxExampleLen {
					ex = cutUTF8(ex, maxExampleLen) + "…"
				}
				t = &Template{Key: key, Level: p.Level, Pattern: pattern, FirstSeen: e.Time, LastSeen: e.Time, Example: ex, New: !known[key]}
				groups[key] = t
			}
			t.Count++
			if e.Time.Before(t.FirstSeen) {
				t.FirstSeen = e.Time
			}
			if e.Time.After(t.LastSeen) {
				t.LastSeen = e.Time
			}
			if !contains(t.Streams, e.Stream) {
				t.Streams = append(t.Streams, e.Stream)
			}
		}
	}
	for _, t := range groups {
		a.Templates = append(a.Templates, *t)
	}
	sort.Slice(a.Templates, func(i, j int) bool {
		ti, tj := a.Templates[i], a.Templates[j]
		if ti.Level.Rank() != tj.Level.Rank() {
			return ti.Level.Rank() > tj.Level.Rank()
		}
		if ti.Count != tj.Count {
			return ti.Count > tj.Count
		}
		return ti.Pattern < tj.Pattern
	})
	return a
}

// Issues is the number of issue entries (warn and worse).
func (a Analysis) Issues() int {
	n := 0
	for _, l := range IssueLevels {
		n += a.LevelCounts[l]
	}
	return n
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
