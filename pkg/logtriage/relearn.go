package logtriage

// A container whose first triages were too short to learn its header (see
// minHeaderSample) has templates mined from whole lines, header and all.
// Once the header is learned, later lines lose it, and without care their
// templates would differ from the earlier ones and come back as "new". So
// the templates made before are stripped of the header the same way and
// keep their keys: "new" keeps meaning new.

// restrip takes the newly learned header off every template and rebuilds
// the tree. Templates that become one are made aliases of the first, so a
// line of either shape still reports the key it had.
func (m *Miner) restrip() {
	all := m.all
	m.leaves, m.children = map[leaf][]*Cluster{}, map[int]int{}
	m.keys, m.byFirst, m.all = map[string]*Cluster{}, map[string][]*Cluster{}, nil
	same := map[string]*Cluster{}
	for _, c := range all {
		c.Tokens = append([]string(nil), m.head.stripMasked(c.Tokens)...)
		if c.alias != nil {
			m.insert(m.leafKey(c.Tokens), c)
			continue
		}
		p := c.Pattern()
		if first := same[p]; first != nil && first != c {
			c.alias = first
		} else {
			same[p] = c
		}
		m.insert(m.leafKey(c.Tokens), c)
	}
}

// stripMasked is strip for a template's tokens: a variable there was a
// token with a digit (or a date name), which is header-like.
func (h header) stripMasked(toks []string) []string {
	if h.Dash {
		if d := dashAt(toks); d > 0 {
			return toks[d+1:]
		}
	}
	i := 0
	for i < h.Len && i < len(toks)-1 {
		t := toks[i]
		if !containsWildcard(t) && !headerLike(t) && (h.Const[i] == "" || t != h.Const[i]) {
			break
		}
		i++
	}
	return toks[i:]
}

func containsWildcard(t string) bool {
	for i := 0; i+len(wildcard) <= len(t); i++ {
		if t[i:i+len(wildcard)] == wildcard {
			return true
		}
	}
	return false
}
