package logtriage

import "strings"

// MinerState is what a miner keeps between triages of one container: its
// learned header and its templates with their stable keys, so that a line
// seen before joins the same template and "new" means new.
type MinerState struct {
	Header   header         `json:"header"`
	Clusters []ClusterState `json:"clusters"`
}

// ClusterState is one remembered template.
type ClusterState struct {
	Key    string   `json:"key"`
	Tokens []string `json:"tokens"`
	Count  int      `json:"count"`
	Alias  string   `json:"alias,omitempty"`
}

// State returns what to persist. Its size is bounded by maxClusters.
func (m *Miner) State() MinerState {
	st := MinerState{Header: m.head, Clusters: make([]ClusterState, 0, len(m.all))}
	for _, c := range m.all {
		cs := ClusterState{Key: c.Key, Tokens: c.Tokens, Count: c.Count}
		if c.alias != nil {
			cs.Alias = c.alias.Key
		}
		st.Clusters = append(st.Clusters, cs)
	}
	return st
}

// RestoreMiner rebuilds a miner from a saved state; its templates are Known.
// A zero state gives a fresh miner that learns its header from the first lines.
func RestoreMiner(st MinerState) *Miner {
	m := NewMiner()
	m.head = st.Header
	if len(m.head.Const) < m.head.Len {
		m.head.Len = len(m.head.Const) // a damaged state must not index out of range
	}
	for _, cs := range st.Clusters {
		if cs.Key == "" || m.keys[cs.Key] != nil || len(m.all) >= maxClusters {
			continue
		}
		c := &Cluster{Key: cs.Key, Tokens: append([]string(nil), cs.Tokens...), Count: cs.Count, Known: true}
		m.insert(m.leafKey(c.Tokens), c)
	}
	for _, cs := range st.Clusters {
		if c, t := m.keys[cs.Key], m.keys[cs.Alias]; c != nil && t != nil && t != c && t.alias == nil {
			c.alias = t
		}
	}
	return m
}

// Pattern is the template as one line, capped.
func (c *Cluster) Pattern() string {
	return truncate(strings.Join(c.Tokens, " "), maxTemplateLen)
}
