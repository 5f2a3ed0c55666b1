package logtriage

import (
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

// Analyze folds, classifies and templates the lines of one container with a
// fresh miner. known holds the template keys of the previous triage;
// templates not in it are marked New.
func Analyze(lines []Line, known map[string]bool) Analysis {
	return AnalyzeWith(lines, NewMiner(), known)
}

// AnalyzeWith is Analyze with the container's miner, which carries its
// header and templates from earlier triages: a template the miner already
// knew is not New. Lines may mix streams; each stream is folded on its own
// so a trace on stderr is not cut by stdout lines.
func AnalyzeWith(lines []Line, m *Miner, known map[string]bool) Analysis {
	return analyze(lines, m, known, nil)
}

// mined is one entry with its classification and cluster.
type mined struct {
	e Entry
	p Parsed
	c *Cluster
}

func analyze(lines []Line, m *Miner, known map[string]bool, each func(Entry, *Cluster)) Analysis {
	a := Analysis{LevelCounts: map[Level]int{}, Lines: len(lines)}
	entries := make([]mined, 0, len(lines))
	for _, stream := range splitStreams(lines, &a.LastTime) {
		for _, e := range Fold(stream) {
			entries = append(entries, mined{e: e, p: classifyEntry(e)})
		}
	}
	a.Entries = len(entries)
	texts := make([]string, 0, min(len(entries), headerSample))
	for i := 0; i < len(entries) && len(texts) < headerSample; i++ {
		texts = append(texts, mineText(entries[i]))
	}
	m.Learn(texts)
	// Issue templates by level and cluster: the key, a hash, is made once
	// per template, not once per line.
	type slot struct {
		l Level
		c *Cluster
	}
	groups := map[slot]*Template{}
	for i := range entries {
		x := &entries[i]
		x.c = m.Add(mineText(*x))
		if each != nil {
			each(x.e, x.c)
		}
		a.LevelCounts[x.p.Level]++
		if !x.p.Level.IsIssue() {
			continue
		}
		t := groups[slot{x.p.Level, x.c}]
		if t == nil {
			key := TemplateKey(x.p.Level, x.c.Key)
			t = &Template{Key: key, Level: x.p.Level, FirstSeen: x.e.Time, LastSeen: x.e.Time,
				Example: example(x.e), New: !x.c.Known && !known[key]}
			groups[slot{x.p.Level, x.c}] = t
		}
		t.add(x.e)
	}
	for s, t := range groups {
		// The template as it stands after every line, not as first seen.
		t.Pattern = s.c.Pattern()
		a.Templates = append(a.Templates, *t)
	}
	sortTemplates(a.Templates)
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
