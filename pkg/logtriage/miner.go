package logtriage

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Cluster is one template the miner found: lines of the same length that
// agree on most tokens. Its Key never changes once made, even when the
// template loosens, so a template keeps its identity from run to run.
type Cluster struct {
	Key    string
	Tokens []string
	// Count is how many lines joined it, over every triage.
	Count int
	// Known marks a cluster restored from an earlier triage.
	Known bool
	// alias, when set, is the cluster this one's lines really belong to: a
	// shape with one variable spread over two tokens ("<1 sec" for "00:01").
	alias *Cluster
}

const (
	// similarity is the share of a template's tokens a line must match to
	// join it (Drain's st). One value for every log, by design: the middle
	// of the plateau (0.76–0.80) of the best raw average on the LogHub
	// sample; 0.75 lets 4-token templates that differ in a word merge, and
	// from 0.82 on long templates split on numbers (docs/BENCHMARKS.md).
	similarity = 0.78
	// settled is how many lines a template place must have held one word
	// for to count as a constant (see search).
	settled = 64
	// maxClusters bounds a container's templates; past it, lines join the
	// closest template of their length or a catch-all.
	maxClusters = 2000
	// maxChildren bounds the distinct first tokens per length; past it, new
	// ones share the wildcard branch (Drain's maxChild).
	maxChildren = 100
)

// Miner groups one container's lines into templates: a Drain-style
// fixed-depth tree (token count, then first token) over the masked message
// tokens left once the learned header is taken off. It is not safe for
// concurrent use.
type Miner struct {
	head     header
	leaves   map[leaf][]*Cluster
	children map[int]int
	keys     map[string]*Cluster
	byFirst  map[string][]*Cluster
	all      []*Cluster
	overflow *Cluster
	buf      []string
	mask     []string
}

// leaf is a place in the tree: a token count and a first token.
type leaf struct {
	n     int
	first string
}

// NewMiner returns an empty miner.
func NewMiner() *Miner {
	return &Miner{leaves: map[leaf][]*Cluster{}, children: map[int]int{}, keys: map[string]*Cluster{}, byFirst: map[string][]*Cluster{}}
}

// Learn fixes the header from a sample of lines, unless it is known
// already. Fewer than minHeaderSample lines teach nothing: the lines are
// mined whole (their digit-bearing tokens masked) and a later triage learns.
func (m *Miner) Learn(lines []string) {
	if m.head.Learned {
		return
	}
	m.head = learnHeader(lines)
	if m.head.Learned && len(m.all) > 0 {
		m.restrip()
	}
}

// Add mines one line and returns its cluster.
func (m *Miner) Add(line string) *Cluster {
	toks := m.head.strip(splitTokens(line, m.buf[:0]))
	m.buf = toks[:0]
	// The masked tokens live in a buffer reused line after line; only a new
	// template copies them.
	masked := m.mask[:0]
	for _, t := range toks {
		masked = append(masked, maskToken(t))
	}
	m.mask = masked
	at := m.leafKey(masked)
	best, bestSim := m.search(at, masked)
	switch {
	case best != nil && (bestSim >= similarity || len(m.all) >= maxClusters):
		merge(best.Tokens, masked)
	case len(m.all) >= maxClusters:
		if m.overflow == nil {
			m.overflow = &Cluster{Key: "overflow", Tokens: []string{wildcard}}
		}
		best = m.overflow
	default:
		target := m.spread(masked)
		best = m.newCluster(at, masked)
		best.alias = target
	}
	best.Count++
	for best.alias != nil {
		best = best.alias
		best.Count++
	}
	return best
}

// search finds the most similar template in a leaf. A template place that
// has held one word for settled lines is taken for a constant: a line with
// another word there is another template (HTTPS vs SOCKS5, client
// WindowsUpdateAgent vs client SPP), not a variable.
func (m *Miner) search(at leaf, toks []string) (*Cluster, float64) {
	best, bestSim := (*Cluster)(nil), -1.0
	for _, c := range m.leaves[at] {
		if c.Count >= settled && !fits(c.Tokens, toks) {
			continue
		}
		if s := simOf(c.Tokens, toks); s > bestSim {
			best, bestSim = c, s
		}
	}
	return best, bestSim
}

// fits reports whether the line matches every fixed place of the template.
func fits(tmpl, toks []string) bool {
	for i, t := range tmpl {
		if t != wildcard && t != toks[i] {
			return false
		}
	}
	return true
}

func (m *Miner) newCluster(at leaf, toks []string) *Cluster {
	toks = append([]string(nil), toks...)
	sum := sha256.Sum256([]byte(strings.Join(toks, " ")))
	key := hex.EncodeToString(sum[:8])
	for n := 2; m.keys[key] != nil; n++ {
		key = hex.EncodeToString(sum[:8]) + "-" + strconv.Itoa(n)
	}
	c := &Cluster{Key: key, Tokens: toks}
	m.insert(at, c)
	return c
}

func (m *Miner) insert(at leaf, c *Cluster) {
	m.leaves[at] = append(m.leaves[at], c)
	m.keys[c.Key] = c
	if len(c.Tokens) > 0 {
		m.byFirst[c.Tokens[0]] = append(m.byFirst[c.Tokens[0]], c)
	}
	m.all = append(m.all, c)
}

// leafKey is the tree path of a line: its length and first token, the
// first token taken as a wildcard when it is variable or when its length
// already has too many first tokens.
func (m *Miner) leafKey(toks []string) leaf {
	at := leaf{n: len(toks), first: wildcard}
	if at.n > 0 {
		at.first = toks[0]
	}
	if _, ok := m.leaves[at]; !ok && at.first != wildcard {
		if m.children[at.n] >= maxChildren {
			return leaf{n: at.n, first: wildcard}
		}
		m.children[at.n]++
	}
	return at
}

// simOf is the share of the template's tokens that the line matches. A
// template wildcard matches only a token that was masked in the line too:
// as in Drain, loosened places do not count for a concrete word, or a
// template that has loosened a lot would draw in every line of its length;
// but a line of numbers still matches a template of numbers.
func simOf(tmpl, toks []string) float64 {
	if len(tmpl) == 0 {
		return 1
	}
	same := 0
	for i, t := range tmpl {
		if t == toks[i] {
			same++
		}
	}
	return float64(same) / float64(len(tmpl))
}

// merge loosens a template where a joining line differs.
func merge(tmpl, toks []string) {
	for i, t := range tmpl {
		if t != toks[i] {
			tmpl[i] = wildcard
		}
	}
}
