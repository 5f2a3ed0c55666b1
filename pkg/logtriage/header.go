package logtriage

import "strings"

// header is what a container's lines start with before the message: time
// stamps, levels, pids, thread or node ids, a logger name. It is learned from
// the container's own lines (no per-format rules) and kept out of templates,
// so that "INFO dfs.DataNode: Receiving block <*>" and the same message
// under another pid or level share one template.
type header struct {
	// Len is how many leading tokens may be header; each line still has to
	// show a header-like token at each of these places to lose it.
	Len int `json:"len"`
	// Const holds, per place, the value most lines have there, when nearly
	// all do (a host name, a fixed tag): such a token is header too.
	Const []string `json:"const,omitempty"`
	// Dash is set when nearly every line has a lone "-" among its first
	// tokens: "prog - message", log4j's "… logger - message", Python's
	// "… - name - LEVEL - message". The header then ends at each line's
	// last such dash, wherever it falls.
	Dash bool `json:"dash,omitempty"`
	// Learned is set once the header was learned from enough lines; until
	// then every triage tries again.
	Learned bool `json:"learned,omitempty"`
}

const (
	// headerSample is how many lines the header is learned from.
	headerSample = 512
	// headerShare is the share of sampled lines that must agree for a place
	// to count as header: a few odd lines (continuations, banners) must not
	// stop the learning, but a place that is header in only some lines is
	// message.
	headerShare = 0.9
	// maxHeader bounds the header in tokens.
	maxHeader = 12
	// minHeaderSample is the fewest lines a header is learned from: on a
	// handful of lines every word looks constant.
	minHeaderSample = 32
	// minShapes is the fewest distinct line shapes (lines with their
	// variables masked) for a constant plain word to count as header: in a
	// sample that is mostly one message, that message's words look as
	// constant as a host name ("WARN slow request …" would lose "slow
	// request").
	minShapes = 8
)

// shapes counts the distinct masked lines of a sample, up to minShapes.
func shapes(toks [][]string) int {
	seen := map[string]bool{}
	var b strings.Builder
	for _, ts := range toks {
		b.Reset()
		for _, t := range ts {
			b.WriteString(maskToken(t))
			b.WriteByte(' ')
		}
		seen[b.String()] = true
		if len(seen) >= minShapes {
			break
		}
	}
	return len(seen)
}

// learnHeader finds the header places of a container's lines.
func learnHeader(lines []string) header {
	if len(lines) > headerSample {
		lines = lines[:headerSample]
	}
	toks := make([][]string, len(lines))
	for i, l := range lines {
		toks[i] = splitTokens(l, make([]string, 0, 16))
	}
	var h header
	if len(lines) < minHeaderSample {
		return h
	}
	diverse := shapes(toks) >= minShapes
	h.Learned = true
	dashed := 0
	for _, ts := range toks {
		if dashAt(ts) > 0 {
			dashed++
		}
	}
	h.Dash = len(toks) > 0 && float64(dashed) >= headerShare*float64(len(toks))
	for pos := 0; pos < maxHeader; pos++ {
		p := placeAt(toks, pos)
		if !p.ok || (p.c == "" && !p.like) {
			break
		}
		// A constant plain word (a host name, a tag) is header beside varying
		// fields, in a sample of many messages; in a sample that is mostly
		// one message, or as two such words in a row, it is that message
		// ("WARN slow request GET …"), which must stay.
		if p.c != "" && !p.like {
			if !diverse {
				break
			}
			if q := placeAt(toks, pos+1); q.ok && q.c != "" && !q.like {
				break
			}
		}
		h.Len = pos + 1
		h.Const = append(h.Const, p.c)
		if p.colon {
			break // "logger:" or "prog[pid]:" closes a header
		}
	}
	return h
}

// place is what the sampled lines hold at one token place.
type place struct {
	ok    bool   // enough lines reach past it
	c     string // the value nearly all lines have there, if any
	like  bool   // nearly all are header-like
	colon bool   // nearly all end with ':'
}

func placeAt(toks [][]string, pos int) place {
	counts := map[string]int{}
	n, like, colon := 0, 0, 0
	for _, ts := range toks {
		if pos >= len(ts)-1 { // a header leaves a message behind it
			continue
		}
		n++
		counts[ts[pos]]++
		if headerLike(ts[pos]) {
			like++
		}
		if strings.HasSuffix(ts[pos], ":") {
			colon++
		}
	}
	share := headerShare * float64(n)
	p := place{ok: n > 0 && float64(n) >= headerShare*float64(len(toks)), like: float64(like) >= share, colon: float64(colon) >= share}
	for v, k := range counts {
		if float64(k) >= share {
			p.c = v
		}
	}
	return p
}

// strip returns the message tokens of one line.
func (h header) strip(toks []string) []string {
	if h.Dash {
		if d := dashAt(toks); d > 0 {
			return toks[d+1:]
		}
	}
	i := 0
	for i < h.Len && i < len(toks)-1 {
		if !headerLike(toks[i]) && (h.Const[i] == "" || toks[i] != h.Const[i]) {
			break
		}
		i++
	}
	return toks[i:]
}

// headerLike reports whether a token has the look of a header field: it
// holds a digit (times, dates, pids, ids), is a level or a month or weekday
// name, is bracketed, is a lone separator, or is an upper-case tag.
func headerLike(t string) bool {
	if hasDigit(t) || t == "-" || t == "|" || t[0] == '[' || t[len(t)-1] == ']' {
		return true
	}
	w := trimPunct(t)
	if w == "" {
		return true
	}
	if foldedIn(levelWords, w) || foldedIn(calendarWords, w) {
		return true
	}
	upper := len(w) >= 2
	for i := 0; i < len(w) && upper; i++ {
		c := w[i]
		upper = (c >= 'A' && c <= 'Z') || c == '_'
	}
	return upper
}

// trimPunct takes the brackets, colons and commas off both ends of a token.
func trimPunct(t string) string {
	i, j := 0, len(t)
	for i < j && isHeaderPunct(t[i]) {
		i++
	}
	for j > i && isHeaderPunct(t[j-1]) {
		j--
	}
	return t[i:j]
}

func isHeaderPunct(c byte) bool {
	switch c {
	case '[', ']', '<', '>', '(', ')', ':', ',':
		return true
	}
	return false
}

// dashAt is the place of the first lone "-" among a line's first tokens,
// moved on over "- word -" runs (Python's "- name - LEVEL -"), or 0.
func dashAt(toks []string) int {
	for i := 1; i < maxHeader && i < len(toks)-1; i++ {
		if toks[i] == "-" {
			for i+2 < len(toks)-1 && toks[i+2] == "-" {
				i += 2
			}
			return i
		}
	}
	return 0
}
